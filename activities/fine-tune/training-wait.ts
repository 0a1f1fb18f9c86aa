import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';
import { costUsd, type PricingConfig } from '../../common/shared/pricing';
import type { TrainingJobOutcome, TrainingJobStatus, TrainingJobStop, TrainingProgress } from '../../common/fine-tune/contract';
import { isNotFound, toAwsFailure } from '../aws/errors';
import { pollOrBackOff, sleepBeating, type PollingIntervals } from '../aws/job-polling';
import type { TrainingCompute, TrainingJobDescription } from './training-compute';
import { capacityFailure, describeTrainingJobIfExists } from './training-jobs';
import { markStoppedBy, stoppedBy } from './training-waiters';
import { isCapacityFailure } from './training-request';

/**
 * Waiting on a training job for hours without failing on a hiccup: DescribeTrainingJob with backoff,
 * every poll heartbeated as progress (and resumed from after a worker restart), throttling and 5xx
 * absorbed by backing off, cancellation honoured through the SDK's abort signal and the heartbeat.
 */

export interface WaitInput {
  jobName: string;
  instanceType: string;
  instanceCount: number;
  spot: boolean;
}

const GROWTH = 1.5;
const KEPT_TRANSITIONS = 20;

export async function waitForTrainingJob(
  compute: TrainingCompute,
  polling: PollingIntervals,
  pricing: PricingConfig,
  input: WaitInput,
): Promise<TrainingJobOutcome> {
  const context = Context.current();
  const previous = context.info.heartbeatDetails as TrainingProgress | undefined;
  let progress: TrainingProgress =
    previous?.jobName === input.jobName
      ? previous
      : {
          jobName: input.jobName,
          status: 'InProgress',
          secondaryStatus: 'Unknown',
          transitions: [],
          polls: 0,
          throttledPolls: 0,
          intervalMs: polling.initialMs,
        };

  for (;;) {
    const polled = await pollOrBackOff(
      context,
      polling,
      progress,
      { operation: 'DescribeTrainingJob', resource: `training job ${input.jobName}` },
      () => compute.describe(input.jobName, context.cancellationSignal),
    );
    if ('backedOff' in polled) {
      progress = polled.backedOff;
      continue;
    }
    const { job } = polled;

    if (!job) {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.notFound,
        nonRetryable: true,
        message: `training job ${input.jobName} is gone: it was created, but ${compute.backend === 'local' ? `this machine has no folder for it (${compute.logLocation(input.jobName).replace(/\/log\.txt$/, '')}): it was deleted, or the job ran on another machine (local compute needs a deployment's control workers on one machine)` : 'SageMaker no longer knows it'}; run again to train anew`,
      });
    }
    progress = observe(progress, job, polling);
    context.heartbeat(progress);
    switch (progress.status) {
      case 'Completed':
        return outcome(job, input, progress, pricing, compute);
      case 'Failed':
        if (isCapacityFailure(job.FailureReason)) throw capacityFailure(input, job.FailureReason);
        throw ApplicationFailure.create({
          type: ERROR_TYPES.jobFailed,
          nonRetryable: true,
          message: `training job ${input.jobName} failed: ${job.FailureReason ?? 'no reason given'} (log: ${compute.logLocation(input.jobName)})`,
          details: [
            {
              jobName: input.jobName,
              failureReason: job.FailureReason,
              secondaryStatus: job.SecondaryStatus,
              billableSeconds: job.BillableTimeInSeconds,
            },
          ],
        });
      case 'Stopped': {
        const by = await stoppedBy(compute, input.jobName);
        throw ApplicationFailure.create({
          type: ERROR_TYPES.jobStopped,
          nonRetryable: true,
          message: `training job ${input.jobName} was stopped before it completed (${by ? `by llmtwin run ${by}, cancelled when no other run was waiting on the job yet` : 'StopTrainingJob from the console, CLI or another process'}); no model was produced`,
          details: [{ jobName: input.jobName, billableSeconds: job.BillableTimeInSeconds, stoppedBy: by }],
        });
      }
      default:
        await sleepBeating(context, progress.intervalMs, progress);
    }
  }
}

/** Folds one DescribeTrainingJob answer into the progress; the interval resets when something moved. */
export function observe(
  progress: TrainingProgress,
  job: Pick<
    TrainingJobDescription,
    | 'TrainingJobStatus'
    | 'SecondaryStatus'
    | 'SecondaryStatusTransitions'
    | 'FinalMetricDataList'
    | 'BillableTimeInSeconds'
    | 'TrainingTimeInSeconds'
    | 'Progress'
  >,
  polling: PollingIntervals,
): TrainingProgress {
  const secondaryStatus = job.SecondaryStatus ?? 'Unknown';
  const moved = secondaryStatus !== progress.secondaryStatus;
  const transitions = (job.SecondaryStatusTransitions ?? []).slice(-KEPT_TRANSITIONS).map((transition) => ({
    status: transition.Status ?? 'Unknown',
    startTime: transition.StartTime ? new Date(transition.StartTime).toISOString() : '',
    ...(transition.StatusMessage ? { message: transition.StatusMessage } : {}),
  }));
  const latestMetrics = Object.fromEntries(
    (job.FinalMetricDataList ?? [])
      .filter((m) => m.MetricName && m.Value !== undefined)
      .map((m) => [m.MetricName as string, m.Value as number]),
  );
  return {
    jobName: progress.jobName,
    status: (job.TrainingJobStatus ?? 'InProgress') as TrainingJobStatus,
    secondaryStatus,
    transitions: transitions.length > 0 ? transitions : progress.transitions,
    ...(job.BillableTimeInSeconds !== undefined ? { billableSeconds: job.BillableTimeInSeconds } : {}),
    ...(job.TrainingTimeInSeconds !== undefined ? { trainingSeconds: job.TrainingTimeInSeconds } : {}),
    polls: progress.polls + 1,
    throttledPolls: progress.throttledPolls,
    intervalMs: moved ? polling.initialMs : Math.min(Math.round(progress.intervalMs * GROWTH), polling.maxMs),
    ...(Object.keys(latestMetrics).length > 0 ? { latestMetrics } : {}),
    ...(job.Progress ? { step: job.Progress.step, totalSteps: job.Progress.total } : {}),
  };
}

function outcome(
  job: TrainingJobDescription,
  input: WaitInput,
  progress: TrainingProgress,
  pricing: PricingConfig,
  compute: TrainingCompute,
): TrainingJobOutcome {
  const artifactsUri = job.ModelArtifacts?.S3ModelArtifacts;
  if (!artifactsUri) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.jobFailed,
      nonRetryable: true,
      message: `training job ${input.jobName} completed without model artifacts`,
    });
  }
  const billableSeconds = job.BillableTimeInSeconds ?? null;
  const consoleUrl = compute.consoleUrl(input.jobName);
  return {
    jobName: input.jobName,
    instanceType: job.ResourceConfig?.InstanceType ?? input.instanceType,
    instanceCount: job.ResourceConfig?.InstanceCount ?? input.instanceCount,
    artifactsUri,
    finalMetrics: progress.latestMetrics ?? {},
    billableSeconds,
    trainingSeconds: job.TrainingTimeInSeconds ?? null,
    estimatedCostUsd:
      billableSeconds === null
        ? null
        : (costUsd(job.ResourceConfig?.InstanceType ?? input.instanceType, billableSeconds, input.instanceCount, pricing) ?? null),
    spot: job.EnableManagedSpotTraining ?? input.spot,
    compute: compute.backend,
    logs: compute.logLocation(input.jobName),
    ...(consoleUrl ? { console: consoleUrl } : {}),
    ...(job.FirstMetrics ? { firstMetrics: job.FirstMetrics } : {}),
    polls: progress.polls,
    throttledPolls: progress.throttledPolls,
  };
}

/**
 * The cleanup after a cancellation: StopTrainingJob, then wait until SageMaker reports a terminal
 * status (Stopped, or Completed/Failed if the job ended first). A job that never got created is fine.
 */
export async function stopTrainingJob(
  compute: TrainingCompute,
  polling: PollingIntervals,
  jobName: string,
  stoppedByWorkflowId: string,
): Promise<TrainingJobStop> {
  const context = Context.current();
  let job = await describeTrainingJobIfExists(compute, jobName);
  if (!job) return { jobName, status: 'NotFound' };
  // Before the stop: a run that joined meanwhile then learns who stopped the job it waits on.
  if (job.TrainingJobStatus === 'InProgress') await markStoppedBy(compute, jobName, stoppedByWorkflowId);
  let intervalMs = polling.initialMs;
  for (;;) {
    const status = job.TrainingJobStatus as TrainingJobStatus | undefined;
    const details = { jobName, status, secondaryStatus: job.SecondaryStatus };
    context.heartbeat(details);
    if (status === 'Stopped' || status === 'Completed' || status === 'Failed') return { jobName, status };
    // Asked again while it is still InProgress: a local job still starting has no process to signal yet.
    if (status === 'InProgress') await requestStop(compute, jobName);
    // Heartbeats inside the sleep too: a 60 s poll interval must not outlast the 1-minute heartbeat timeout.
    await sleepBeating(context, intervalMs, details);
    intervalMs = Math.min(intervalMs * 2, polling.maxMs);
    job = await describeTrainingJobIfExists(compute, jobName);
    if (!job) return { jobName, status: 'NotFound' };
  }
}

async function requestStop(compute: TrainingCompute, jobName: string): Promise<void> {
  try {
    await compute.stop(jobName);
  } catch (error) {
    // "The request was rejected because the training job is in status Completed.": it ended meanwhile.
    if (!isNotFound(error) && !/in status/i.test((error as Error).message ?? ''))
      throw toAwsFailure(error, { operation: 'StopTrainingJob', resource: `training job ${jobName}` });
  }
}
