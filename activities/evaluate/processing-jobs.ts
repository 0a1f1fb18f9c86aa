import type { CreateProcessingJobCommandInput, DescribeProcessingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';
import { RUN_ID_TAG_KEY } from '../../common/shared/naming';
import { awsCall, isNotFound, notDescribableYet, toAwsFailure } from '../aws/errors';
import { pollOrBackOff, sleepBeating, type PollingIntervals } from '../aws/job-polling';
import type { ProcessingCompute } from './processing-compute';

/**
 * The evaluation job's lifecycle on the compute port, with fine-tune's guarantees: describe before
 * create (a retry adopts the job its earlier attempt made; a completed one is reused), a wait that
 * heartbeats, backs off on throttling and resumes from its last heartbeat, and a stop that waits until
 * the job has really stopped.
 */

export type ProcessingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface StartedProcessingJob {
  jobName: string;
  outcome: 'created' | 'adopted' | 'reused';
  status: ProcessingJobStatus;
}

/** Heartbeat details of the wait: what the CLI shows and what a retried attempt resumes from. */
export interface ProcessingProgress {
  jobName: string;
  status: ProcessingJobStatus;
  polls: number;
  throttledPolls: number;
  intervalMs: number;
}

function describe(compute: ProcessingCompute, jobName: string, abortSignal?: AbortSignal) {
  return awsCall({ operation: 'DescribeProcessingJob', resource: `processing job ${jobName}` }, () =>
    compute.describe(jobName, abortSignal),
  );
}

/** Fields of a job under our name that differ from what we would create: the name hashes them, so a difference is a collision. */
export function processingJobMismatches(job: DescribeProcessingJobCommandOutput, request: CreateProcessingJobCommandInput): string[] {
  const uris = (inputs: CreateProcessingJobCommandInput['ProcessingInputs']) =>
    (inputs ?? []).map((input) => `${input.InputName}=${input.S3Input?.S3Uri ?? ''}`).sort();
  const mismatches: string[] = [];
  if (job.AppSpecification?.ImageUri && job.AppSpecification.ImageUri !== request.AppSpecification?.ImageUri)
    mismatches.push('AppSpecification.ImageUri');
  if (job.ProcessingInputs && JSON.stringify(uris(job.ProcessingInputs)) !== JSON.stringify(uris(request.ProcessingInputs)))
    mismatches.push('ProcessingInputs');
  return mismatches;
}

export function judgeExistingJob(job: DescribeProcessingJobCommandOutput, request: CreateProcessingJobCommandInput): StartedProcessingJob {
  const jobName = request.ProcessingJobName as string;
  const mismatches = processingJobMismatches(job, request);
  if (mismatches.length > 0) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.conflict,
      nonRetryable: true,
      message: `processing job ${jobName} exists but differs from what this run would create (${mismatches.join(', ')}); it is not ours to adopt. Change resourceNamePrefix or run with force: true`,
    });
  }
  const status = job.ProcessingJobStatus as ProcessingJobStatus;
  if (status === 'Completed') return { jobName, outcome: 'reused', status };
  if (status === 'InProgress' || status === 'Stopping') return { jobName, outcome: 'adopted', status };
  throw ApplicationFailure.create({
    type: status === 'Stopped' ? ERROR_TYPES.jobStopped : ERROR_TYPES.jobFailed,
    nonRetryable: true,
    message: `evaluation job ${jobName} already ran with these exact inputs and ended ${status}${job.FailureReason ? `: ${job.FailureReason}` : ''}. Fix the cause, or run with force: true to evaluate again under a new name`,
  });
}

/**
 * A job found under our name that this very run created (its run-id tag is ours: an earlier attempt
 * of this activity created it and lost the answer) is `created`, not another run's job to adopt or reuse.
 */
async function judgeOursOrExisting(
  compute: ProcessingCompute,
  job: DescribeProcessingJobCommandOutput,
  request: CreateProcessingJobCommandInput,
): Promise<StartedProcessingJob> {
  const judged = judgeExistingJob(job, request);
  const runId = request.Tags?.find((tag) => tag.Key === RUN_ID_TAG_KEY)?.Value;
  if (runId === undefined) return judged;
  const jobName = request.ProcessingJobName as string;
  const tags = await awsCall({ operation: 'ListTags', resource: `processing job ${jobName}` }, () => compute.tags(jobName));
  return tags?.get(RUN_ID_TAG_KEY) === runId ? { ...judged, outcome: 'created' } : judged;
}

export async function startProcessingJob(
  compute: ProcessingCompute,
  request: CreateProcessingJobCommandInput,
  environment: () => Record<string, string>,
  abortSignal?: AbortSignal,
): Promise<StartedProcessingJob> {
  const jobName = request.ProcessingJobName as string;
  const existing = await describe(compute, jobName, abortSignal);
  if (existing) return judgeOursOrExisting(compute, existing, request);
  const withSecrets = { ...request, Environment: { ...request.Environment, ...environment() } };
  const created = await awsCall({ operation: 'CreateProcessingJob', resource: `processing job ${jobName}` }, () =>
    compute.create(withSecrets, abortSignal),
  );
  if (created === 'created') return { jobName, outcome: 'created', status: 'InProgress' };
  const raced = await describe(compute, jobName, abortSignal);
  if (raced) return judgeOursOrExisting(compute, raced, request);
  throw notDescribableYet(`processing job ${jobName}`);
}

export async function waitForProcessingJob(
  compute: ProcessingCompute,
  polling: PollingIntervals,
  jobName: string,
): Promise<DescribeProcessingJobCommandOutput> {
  const context = Context.current();
  const previous = context.info.heartbeatDetails as ProcessingProgress | undefined;
  let progress: ProcessingProgress =
    previous?.jobName === jobName
      ? previous
      : { jobName, status: 'InProgress', polls: 0, throttledPolls: 0, intervalMs: polling.initialMs };
  for (;;) {
    const polled = await pollOrBackOff(
      context,
      polling,
      progress,
      { operation: 'DescribeProcessingJob', resource: `processing job ${jobName}` },
      () => compute.describe(jobName, context.cancellationSignal),
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
        message: `evaluation job ${jobName} is gone: it was created, but ${compute.backend === 'local' ? 'this machine has no folder for it' : 'SageMaker no longer knows it'}; run again to evaluate anew`,
      });
    }
    const status = job.ProcessingJobStatus ?? 'InProgress';
    progress = {
      ...progress,
      status,
      polls: progress.polls + 1,
      intervalMs: Math.min(Math.round(progress.intervalMs * 1.5), polling.maxMs),
    };
    context.heartbeat(progress);
    if (status === 'Completed') return job;
    if (status === 'Failed') {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.jobFailed,
        nonRetryable: true,
        message: `evaluation job ${jobName} failed: ${job.FailureReason ?? 'no reason given'} (log: ${compute.logLocation(jobName)})`,
        details: [{ jobName, failureReason: job.FailureReason }],
      });
    }
    if (status === 'Stopped') {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.jobStopped,
        nonRetryable: true,
        message: `evaluation job ${jobName} was stopped before it completed (StopProcessingJob from the console, CLI or another process); nothing was scored`,
      });
    }
    await sleepBeating(context, progress.intervalMs, progress);
  }
}

/** The cleanup after a cancellation: StopProcessingJob, then wait for a terminal status. A job never created is fine. */
export async function stopProcessingJob(
  compute: ProcessingCompute,
  polling: PollingIntervals,
  jobName: string,
): Promise<{ jobName: string; status: ProcessingJobStatus | 'NotFound' }> {
  const context = Context.current();
  let intervalMs = polling.initialMs;
  for (;;) {
    const job = await describe(compute, jobName);
    if (!job) return { jobName, status: 'NotFound' };
    const status = job.ProcessingJobStatus as ProcessingJobStatus;
    context.heartbeat({ jobName, status });
    if (status === 'Stopped' || status === 'Completed' || status === 'Failed') return { jobName, status };
    if (status === 'InProgress') {
      try {
        await compute.stop(jobName);
      } catch (error) {
        if (!isNotFound(error) && !/in status|already|not in progress/i.test((error as Error).message ?? ''))
          throw toAwsFailure(error, { operation: 'StopProcessingJob', resource: `processing job ${jobName}` });
      }
    }
    await sleepBeating(context, intervalMs, { jobName, status });
    intervalMs = Math.min(intervalMs * 2, polling.maxMs);
  }
}
