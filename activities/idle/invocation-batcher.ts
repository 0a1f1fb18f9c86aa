import { ApplicationFailure } from '@temporalio/common';
import { MAX_METRIC_QUERIES_PER_CALL } from '../../common/idle/sweep';
import type { CloudWatchSender } from '../aws/clients';
import { combined, metricWindow, readInvocationsByTarget, type InvocationReading, type InvocationTarget } from './invocations';

interface PendingRead {
  targets: readonly InvocationTarget[];
  window: { now: number; windowMs: number };
  resolve: (reading: InvocationReading) => void;
  reject: (error: unknown) => void;
}

/** Calls in flight at once; the rest wait and go together in the next call. */
const MAX_CALLS_IN_FLIGHT = 2;

/**
 * One worker's monitor reads of CloudWatch, merged: reads asked for while earlier ones are in flight
 * go out together in one GetMetricData call (up to 500 queries). When a fleet goes idle together,
 * its monitors confirm their deletions at once; alone, each confirmation is a call of its own, and
 * GetMetricData's account quota (50 calls a second by default) is shared with every other tool.
 * A lone read waits for nothing: with nothing in flight it goes out at the next turn of the event loop.
 *
 * A merged call spans the union of the reads' windows; each read counts only the datapoints of its
 * own window, exactly what CloudWatch would have answered it alone. A merged call refused as invalid
 * is retried read by read, so one read's bad query cannot fail the others.
 */
export class InvocationBatcher {
  private pending: PendingRead[] = [];
  private inFlight = 0;
  private flushScheduled = false;
  constructor(private readonly cloudwatch: CloudWatchSender) {}

  /** The Invocations of one endpoint's targets over the window ending at `window.now` (the caller's clock). */
  read(
    targets: readonly InvocationTarget[],
    window: { now: number; windowMs: number },
    abortSignal?: AbortSignal,
  ): Promise<InvocationReading> {
    return new Promise<InvocationReading>((resolve, reject) => {
      const onAbort = () => {
        // Not sent yet: dropped. Already sent: the call goes on for the others; this caller stops waiting.
        this.pending = this.pending.filter((candidate) => candidate !== read);
        reject(asError(abortSignal?.reason));
      };
      const settle = () => abortSignal?.removeEventListener('abort', onAbort);
      const read: PendingRead = {
        targets,
        window,
        resolve: (reading) => {
          settle();
          resolve(reading);
        },
        reject: (error) => {
          settle();
          reject(asError(error));
        },
      };
      if (abortSignal?.aborted) return reject(asError(abortSignal.reason));
      abortSignal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(read);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight >= MAX_CALLS_IN_FLIGHT || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < MAX_CALLS_IN_FLIGHT && this.pending.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.scheduleFlush();
      });
    }
  }

  /** The oldest pending reads, as many as fit in one call's 500 queries (at least one). */
  private takeBatch(): PendingRead[] {
    const batch: PendingRead[] = [];
    let queries = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (batch.length > 0 && queries + next.targets.length > MAX_METRIC_QUERIES_PER_CALL) break;
      batch.push(this.pending.shift()!);
      queries += next.targets.length;
    }
    return batch;
  }

  private async send(batch: PendingRead[]): Promise<void> {
    try {
      const readings = await this.readTogether(batch);
      batch.forEach((read, index) => read.resolve(readings[index]!));
    } catch (error) {
      // Throttling, 5xx and network errors are the call's, not a query's: each read fails with them and
      // its activity retries with backoff (one call each now would only feed the throttling).
      const queryRefused = error instanceof ApplicationFailure && error.nonRetryable;
      if (batch.length === 1 || !queryRefused) {
        for (const read of batch) read.reject(error);
        return;
      }
      await Promise.all(
        batch.map(async (read) => {
          try {
            read.resolve((await this.readTogether([read]))[0]!);
          } catch (alone) {
            read.reject(alone);
          }
        }),
      );
    }
  }

  /** One GetMetricData over the union of the windows (pages aside), split back into each read's own window. */
  private async readTogether(batch: PendingRead[]): Promise<InvocationReading[]> {
    const windows = batch.map((read) => metricWindow(read.window.now, read.window.windowMs));
    const start = Math.min(...windows.map((window) => window.start.getTime()));
    const now = Math.max(...batch.map((read) => read.window.now));
    const owners = batch.flatMap((read, index) => read.targets.map(() => index));
    const targets = batch.flatMap((read) => read.targets);
    const { byTarget } = await readInvocationsByTarget(
      this.cloudwatch,
      targets,
      { now, windowMs: now - start },
      undefined,
      (targetIndex, periodStart) => {
        const own = windows[owners[targetIndex]!]!;
        return periodStart >= own.start.getTime() && periodStart < own.end.getTime();
      },
    );
    const readings: Array<InvocationReading | undefined> = batch.map(() => undefined);
    byTarget.forEach((reading, targetIndex) => {
      const owner = owners[targetIndex]!;
      readings[owner] = combined(readings[owner], reading);
    });
    return batch.map((read, index) => {
      const reading = readings[index]!;
      // A period's end is capped at the read's own now, as a read of its own would cap it.
      const last = reading.lastInvocationAt === null ? null : Math.min(reading.lastInvocationAt, read.window.now);
      return { invocations: reading.invocations, lastInvocationAt: last };
    });
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
