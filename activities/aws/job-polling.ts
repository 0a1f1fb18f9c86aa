import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { LlmtwinConfig } from '../../common/config';
import { durationToMs } from '../../common/shared/durations';
import { classifyAwsError, toAwsFailure, type AwsCallContext } from './errors';

/**
 * What every wait on a job shares (training and processing, SageMaker or local): the polling pace, a
 * sleep that keeps heartbeating, and a poll that absorbs throttling and 5xx by backing off, so a wait of
 * hours never dies of a hiccup.
 */

export interface PollingIntervals {
  initialMs: number;
  maxMs: number;
}

/** What a wait's heartbeat details carry, at least: the backoff reached, and how often it was throttled. */
export interface PollBackoff {
  throttledPolls: number;
  intervalMs: number;
}

const LOCAL_POLL_MS = { initial: 2_000, max: 10_000 };

/** The configured pace; a local job is a file read away, so it is polled every 2-10 s, not at the pace SageMaker's throttling asks for. */
export function pollingFor(config: LlmtwinConfig, backend: 'sagemaker' | 'local'): PollingIntervals {
  const configured = { initialMs: durationToMs(config.polling.initialInterval), maxMs: durationToMs(config.polling.maxInterval) };
  if (backend === 'sagemaker') return configured;
  return { initialMs: Math.min(configured.initialMs, LOCAL_POLL_MS.initial), maxMs: Math.min(configured.maxMs, LOCAL_POLL_MS.max) };
}

/** Heartbeats between polls too: a worker that died is noticed within the heartbeat timeout, however long the poll interval. */
const HEARTBEAT_EVERY_MS = 15_000;

export async function sleepBeating(context: Context, ms: number, details: unknown): Promise<void> {
  for (let left = ms; left > 0;) {
    const slice = Math.min(left, HEARTBEAT_EVERY_MS);
    await context.sleep(slice);
    left -= slice;
    if (left > 0) context.heartbeat(details);
  }
}

/**
 * One poll: the description (undefined when the job is gone), or, when the call was throttled or hit a
 * 5xx, `backedOff` with the progress after waiting twice as long. Errors judged final where they were
 * thrown (a local job's unreadable folder) and non-retryable AWS errors are thrown, classified.
 */
export async function pollOrBackOff<Job, Progress extends PollBackoff>(
  context: Context,
  polling: PollingIntervals,
  progress: Progress,
  call: AwsCallContext,
  describe: () => Promise<Job | undefined>,
): Promise<{ job: Job | undefined; progress: Progress } | { backedOff: Progress }> {
  try {
    return { job: await describe(), progress };
  } catch (error) {
    if (context.cancellationSignal.aborted) await context.cancelled;
    if (error instanceof ApplicationFailure && error.nonRetryable) throw error;
    if (!classifyAwsError(error).retryable) throw toAwsFailure(error, call);
    const backedOff = {
      ...progress,
      throttledPolls: progress.throttledPolls + 1,
      intervalMs: Math.min(progress.intervalMs * 2, polling.maxMs),
    };
    context.heartbeat(backedOff);
    await sleepBeating(context, backedOff.intervalMs, backedOff);
    return { backedOff };
  }
}
