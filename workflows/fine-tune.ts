import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { FineTuneActivities } from '../activities/fine-tune';
import { AWS_CREATE, AWS_SETUP, LONG_WAIT, STOP_JOB } from '../common/shared/activity-options';
import { ERROR_TYPES } from '../common/shared/errors';
import {
  FineTuneInputSchema,
  fineTuneStatusQuery,
  trainingJobName,
  type FineTuneInput,
  type FineTuneResult,
  type FineTuneStatus,
} from '../common/fine-tune/contract';
import { parseWorkflowInput } from './boundary';

// Planning packs and uploads the training code: a little longer than a single AWS call.
const { planFineTune, findTrainingJob } = proxyActivities<FineTuneActivities>(AWS_SETUP);
// Waits for the create attempt to really finish before cleanup runs, so a job created by an attempt
// in flight at cancellation time is still found and stopped.
const { createTrainingJob } = proxyActivities<FineTuneActivities>(AWS_CREATE);
// Polling is only reading: on cancellation, move on to stopping the job at once.
const { waitForTrainingJob } = proxyActivities<FineTuneActivities>(LONG_WAIT);
// Stopping takes SageMaker a few minutes (SIGTERM, 120 s grace, upload).
const { stopTrainingJob } = proxyActivities<FineTuneActivities>(STOP_JOB);

/**
 * Fine-tunes the base model on a prepared dataset with a SageMaker training job: plan, then per
 * instance type (preferred first, fallbacks on quota/capacity errors) create-or-adopt and wait.
 * A completed job with the same inputs is reused. Cancelling stops the job and waits for Stopped.
 */
export async function fineTune(rawInput: FineTuneInput): Promise<FineTuneResult> {
  const settings = parseWorkflowInput(FineTuneInputSchema, rawInput, 'fineTune input');
  const info = workflowInfo();
  const status: FineTuneStatus = { phase: 'planning', attempts: [] };
  setHandler(fineTuneStatusQuery, () => status);

  let active: { jobName: string; instanceType: string } | undefined;
  try {
    // The hyperparameters as given, too: those left out take the base model's recipe (the toy has its own).
    const plan = await planFineTune({
      settings,
      runId: settings.runId ?? info.workflowId,
      givenHyperparameters: rawInput.hyperparameters ?? {},
    });
    status.datasetHash = plan.datasetHash;
    const candidates = plan.instanceTypes.map((instanceType) => ({
      instanceType,
      jobName: trainingJobName(plan, instanceType, info.runId),
    }));
    const existing = await findTrainingJob({ plan, candidates });
    const start = existing ? candidates.findIndex((candidate) => candidate.jobName === existing.jobName) : 0;

    let lastFailure: ActivityFailure | undefined;
    for (const candidate of candidates.slice(start)) {
      active = candidate;
      Object.assign(status, { phase: 'training', jobName: candidate.jobName, instanceType: candidate.instanceType });
      try {
        const started = existing?.jobName === candidate.jobName ? existing : await createTrainingJob({ plan, candidate });
        const outcome = await waitForTrainingJob({ ...candidate, instanceCount: plan.instanceCount, spot: plan.spot.enabled });
        const reused = started.outcome === 'reused';
        status.attempts.push({ ...candidate, outcome: reused ? 'reused' : 'completed' });
        status.phase = 'done';
        return {
          ...outcome,
          datasetHash: plan.datasetHash,
          baseModelId: plan.baseModelId,
          ...(plan.baseModelNote ? { baseModelNote: plan.baseModelNote } : {}),
          imageUri: plan.imageUri,
          reused,
          attempts: status.attempts,
        };
      } catch (error) {
        const stopped = stoppedOutsideReason(error);
        // Someone stopped the job (console, CLI): that is a cancellation, never a success nor a
        // retryable failure. Callers (the pipeline, the CLI) see it through isCancellation().
        if (stopped) {
          active = undefined;
          throw new CancelledFailure(stopped, [{ jobName: candidate.jobName, instanceType: candidate.instanceType }]);
        }
        const kind = noCapacityKind(error);
        if (!kind) throw error;
        // The job never ran (no quota) or never got instances: the next instance type may have some.
        lastFailure = error as ActivityFailure;
        status.attempts.push({ ...candidate, outcome: kind, reason: (error as ActivityFailure).cause?.message });
      }
    }
    throw ApplicationFailure.create({
      type: (lastFailure?.cause as ApplicationFailure | undefined)?.type ?? ERROR_TYPES.capacity,
      nonRetryable: true,
      message: `no instance type had quota and capacity: tried ${candidates
        .slice(start)
        .map((c) => c.instanceType)
        .join(', ')}. Request a quota increase, add fallbacks (instanceFallbacks) or try later`,
      cause: lastFailure,
      details: [status.attempts],
    });
  } catch (error) {
    if (isCancellation(error)) {
      if (active) {
        status.phase = 'stopping';
        const job = active;
        // Runs to the end even though the workflow is being cancelled: never leave a GPU job running.
        status.stop = await CancellationScope.nonCancellable(() => stopTrainingJob({ jobName: job.jobName }));
      }
      status.phase = 'cancelled';
    } else {
      status.phase = 'failed';
    }
    throw error;
  }
}

function stoppedOutsideReason(error: unknown): string | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  return error.cause.type === ERROR_TYPES.jobStopped ? error.cause.message : undefined;
}

function noCapacityKind(error: unknown): 'quota' | 'capacity' | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  if (error.cause.type === ERROR_TYPES.quotaExceeded) return 'quota';
  if (error.cause.type === ERROR_TYPES.capacity) return 'capacity';
  return undefined;
}
