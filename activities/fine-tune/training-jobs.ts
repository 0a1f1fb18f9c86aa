import type { CreateTrainingJobCommandInput, DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';
import { RUN_ID_TAG_KEY } from '../../common/shared/naming';
import type { TrainingJobStatus, TrainingPlan } from '../../common/fine-tune/contract';
import { awsCall, notDescribableYet } from '../aws/errors';
import { buildCreateTrainingJobRequest, isCapacityFailure, trainingJobMismatches } from './training-request';
import type { TrainingCompute, TrainingJobDescription } from './training-compute';

export interface TrainingCandidate {
  jobName: string;
  instanceType: string;
}

export interface StartedTrainingJob extends TrainingCandidate {
  /** created: this call created it; adopted: it was running already; reused: it had completed. */
  outcome: 'created' | 'adopted' | 'reused';
  status: TrainingJobStatus;
}

/** DescribeTrainingJob, or undefined when no job has that name; other errors come classified. */
export function describeTrainingJobIfExists(
  compute: TrainingCompute,
  jobName: string,
  abortSignal?: AbortSignal,
): Promise<TrainingJobDescription | undefined> {
  return awsCall({ operation: 'DescribeTrainingJob', resource: `training job ${jobName}` }, () => compute.describe(jobName, abortSignal));
}

/**
 * Finds a job of an earlier run with the same inputs: the first candidate (in fallback order) that
 * completed, else the first still running. Without this, a re-run whose preferred instance type has
 * quota again would train anew even though a fallback type already produced the model.
 */
export async function findTrainingJob(
  compute: TrainingCompute,
  plan: TrainingPlan,
  candidates: TrainingCandidate[],
  region: string,
): Promise<StartedTrainingJob | undefined> {
  let running: StartedTrainingJob | undefined;
  for (const candidate of candidates) {
    const job = await describeTrainingJobIfExists(compute, candidate.jobName);
    if (!job) continue;
    const status = job.TrainingJobStatus as TrainingJobStatus;
    // Failed and Stopped jobs are skipped here (a capacity failure on one type must not hide another
    // type's completed job); the create step reports them if the loop reaches their type.
    if (status === 'Completed')
      return judgeExisting(job, buildCreateTrainingJobRequest(plan, candidate.instanceType, candidate.jobName, region), candidate);
    if ((status === 'InProgress' || status === 'Stopping') && !running) {
      running = judgeExisting(job, buildCreateTrainingJobRequest(plan, candidate.instanceType, candidate.jobName, region), candidate);
    }
  }
  return running;
}

/**
 * Describe-before-create. An existing job under our name is adopted (running) or reused (completed)
 * when it matches what we would create; "already exists" from CreateTrainingJob (a concurrent attempt
 * won the race) is the same case. Quota errors (ResourceLimitExceeded) surface as QuotaExceeded so the
 * workflow can try the next instance type.
 */
export async function createTrainingJob(
  compute: TrainingCompute,
  request: CreateTrainingJobCommandInput,
  candidate: TrainingCandidate,
  environment: () => Promise<Record<string, string>>,
  abortSignal?: AbortSignal,
): Promise<StartedTrainingJob> {
  const existing = await describeTrainingJobIfExists(compute, candidate.jobName, abortSignal);
  if (existing) return judgeOursOrExisting(compute, existing, request, candidate);
  const Environment = await environment();
  const created = await awsCall(
    { operation: 'CreateTrainingJob', resource: `training job ${candidate.jobName} on ${candidate.instanceType}` },
    () => compute.create({ ...request, ...(Object.keys(Environment).length > 0 ? { Environment } : {}) }, abortSignal),
  );
  if (created === 'created') return { ...candidate, outcome: 'created', status: 'InProgress' };
  // A concurrent attempt won the race: judge its job like any other found under our name.
  const raced = await describeTrainingJobIfExists(compute, candidate.jobName, abortSignal);
  if (raced) return judgeOursOrExisting(compute, raced, request, candidate);
  throw notDescribableYet(`training job ${candidate.jobName}`);
}

/**
 * A job found under our name that this very run created (its run-id tag is ours: an earlier attempt
 * of this activity created it and lost the answer) is `created`, not another run's job to adopt or reuse.
 */
async function judgeOursOrExisting(
  compute: TrainingCompute,
  job: DescribeTrainingJobCommandOutput,
  request: CreateTrainingJobCommandInput,
  candidate: TrainingCandidate,
): Promise<StartedTrainingJob> {
  const judged = judgeExisting(job, request, candidate);
  const runId = request.Tags?.find((tag) => tag.Key === RUN_ID_TAG_KEY)?.Value;
  if (runId === undefined) return judged;
  const tags = await awsCall({ operation: 'ListTags', resource: `training job ${candidate.jobName}` }, () =>
    compute.tags(candidate.jobName),
  );
  return tags?.get(RUN_ID_TAG_KEY) === runId ? { ...judged, outcome: 'created' } : judged;
}

/**
 * What to do with a job that already carries our deterministic name. Names are never reusable, so a
 * job that ended Failed or Stopped blocks these exact inputs: we fail with its reason and ask for
 * `force` (which adds the run id to the name) rather than guess whether a retry would fare better.
 * A capacity failure is the exception: it is reported as CapacityError so the next type is tried.
 */
export function judgeExisting(
  job: DescribeTrainingJobCommandOutput,
  request: CreateTrainingJobCommandInput,
  candidate: TrainingCandidate,
): StartedTrainingJob {
  const mismatches = trainingJobMismatches(job, request);
  if (mismatches.length > 0) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.conflict,
      nonRetryable: true,
      message: `training job ${candidate.jobName} exists but differs from what this run would create (${mismatches.join(', ')}); it is not ours to adopt. Change resourceNamePrefix or run with force: true`,
      details: [{ jobName: candidate.jobName, mismatches }],
    });
  }
  const status = job.TrainingJobStatus as TrainingJobStatus;
  switch (status) {
    case 'Completed':
      return { ...candidate, outcome: 'reused', status };
    case 'InProgress':
    case 'Stopping':
      return { ...candidate, outcome: 'adopted', status };
    case 'Failed':
      throw isCapacityFailure(job.FailureReason)
        ? capacityFailure(candidate, job.FailureReason)
        : ApplicationFailure.create({
            type: ERROR_TYPES.jobFailed,
            nonRetryable: true,
            message: `training job ${candidate.jobName} already ran with these exact inputs and failed: ${job.FailureReason ?? 'no reason given'}. Fix the cause, or run with force: true to train again under a new name`,
            details: [{ jobName: candidate.jobName, failureReason: job.FailureReason }],
          });
    case 'Stopped':
      throw ApplicationFailure.create({
        type: ERROR_TYPES.jobStopped,
        nonRetryable: true,
        message: `training job ${candidate.jobName} with these exact inputs was stopped before it completed; run with force: true to train again under a new name`,
        details: [{ jobName: candidate.jobName }],
      });
  }
}

export function capacityFailure(candidate: TrainingCandidate, reason: string | undefined): ApplicationFailure {
  return ApplicationFailure.create({
    type: ERROR_TYPES.capacity,
    nonRetryable: true,
    message: `training job ${candidate.jobName} got no ${candidate.instanceType} capacity: ${reason ?? 'no reason given'}`,
    details: [{ jobName: candidate.jobName, instanceType: candidate.instanceType, failureReason: reason }],
  });
}
