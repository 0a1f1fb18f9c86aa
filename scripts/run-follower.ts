import type { Client, WorkflowHandle } from '@temporalio/client';
import { Presets, SingleBar } from 'cli-progress';

/**
 * Follows a run until it ends, for every command that waits on one: progress from the pending
 * activities' heartbeat details (what the worker reports as it goes), drawn as a bar on a terminal or
 * as a line per change otherwise (logs, CI), then the run's result. Progress goes to stderr so that
 * stdout holds only the result.
 */

/** What one look at a running workflow shows. */
export interface RunView {
  line: string;
  /** A bar when stderr is a terminal; the line otherwise. */
  bar?: { phase: string; done: number; total: number; detail: string };
}

export interface FollowOptions {
  intervalMs: number;
  /** Builds the view from the latest heartbeat details of each pending activity (and anything else it reads). */
  view: (heartbeats: unknown[]) => Promise<RunView | undefined> | RunView | undefined;
}

/** The handle's part the follower uses; any workflow's handle fits, and its result type comes through. */
type FollowedHandle<Result> = Pick<WorkflowHandle, 'describe'> & { result(): Promise<Result> };

export async function followRun<Result>(client: Client, handle: FollowedHandle<Result>, options: FollowOptions): Promise<Result> {
  const result = handle.result();
  let settled = false;
  void result.then(
    () => (settled = true),
    () => (settled = true),
  );
  const display = new ProgressDisplay();
  try {
    while (!settled) {
      // A look that fails (the run just ended, a server hiccup) shows nothing this time; the next one tries again.
      const view = await Promise.resolve()
        .then(async () => options.view(await pendingHeartbeats(client, handle)))
        .catch(() => undefined);
      if (view) display.show(view);
      await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, options.intervalMs))]);
    }
  } finally {
    display.stop();
  }
  return result;
}

/** The latest heartbeat details of each of the run's pending activities, decoded. */
export async function pendingHeartbeats(client: Client, handle: Pick<WorkflowHandle, 'describe'>): Promise<unknown[]> {
  const description = await handle.describe();
  const converter = client.options.loadedDataConverter.payloadConverter;
  return (description.raw.pendingActivities ?? [])
    .map((activity) => activity.heartbeatDetails?.payloads?.[0])
    .filter((payload) => payload !== undefined && payload !== null)
    .map((payload) => converter.fromPayload<unknown>(payload));
}

class ProgressDisplay {
  private readonly bar = process.stderr.isTTY
    ? new SingleBar({ format: '{phase} |{bar}| {percentage}% {detail}', hideCursor: true, clearOnComplete: true }, Presets.shades_classic)
    : undefined;
  private barPhase: string | undefined;
  private lastLine = '';

  show(view: RunView): void {
    if (this.bar && view.bar) {
      const { phase, done, total, detail } = view.bar;
      if (this.barPhase !== phase) {
        if (this.barPhase) this.bar.stop();
        this.bar.start(Math.max(total, 1), done, { phase: phase.padEnd(11), detail });
        this.barPhase = phase;
      }
      this.bar.update(done, { detail });
      return;
    }
    if (view.line === this.lastLine) return;
    console.error(`[${new Date().toISOString().slice(11, 19)}] ${view.line}`);
    this.lastLine = view.line;
  }

  stop(): void {
    this.bar?.stop();
  }
}
