import { Context } from '@temporalio/activity';
import { effectiveComputeBackend, type LlmtwinConfig } from '../../common/config';
import { pollingFor } from '../aws/job-polling';
import { localComputeOptionsFor, requireJobsPython } from '../local/local-jobs';
import { localTrainingCompute } from './local-training';
import { sageMakerTrainingCompute, type TrainingCompute } from './training-compute';
import type {
  FineTuneSettings,
  HyperparametersInput,
  TrainingJobOutcome,
  TrainingJobStop,
  TrainingPlan,
} from '../../common/fine-tune/contract';
import { planFineTune } from './plan';
import { resolveHuggingFaceToken } from './hf-token';
import { createTrainingJob, findTrainingJob, type StartedTrainingJob, type TrainingCandidate } from './training-jobs';
import { buildCreateTrainingJobRequest } from './training-request';
import { stopTrainingJob, waitForTrainingJob, type WaitInput } from './training-wait';
import { joinTrainingJob, leaveTrainingJob } from './training-waiters';
import type { S3Sender, SageMakerSender, SecretsSender } from '../aws/clients';

export interface FineTuneDeps {
  sagemaker: SageMakerSender;
  s3: S3Sender;
  secretsManager: SecretsSender;
  config: LlmtwinConfig;
  /** Where the Hugging Face token may be read from (the worker's environment by default). */
  env?: NodeJS.ProcessEnv;
  /** The training entry point to stage (jobs/train by default). */
  codeDir?: string;
  /** Where jobs run; by default the configured backend (compute.backend). */
  compute?: TrainingCompute;
}

/** The configured backend: SageMaker, or local processes under SageMaker's contract. */
export function trainingComputeFor(config: LlmtwinConfig, sagemaker: SageMakerSender): TrainingCompute {
  if (effectiveComputeBackend(config) === 'sagemaker') return sageMakerTrainingCompute(sagemaker, config.aws.region);
  return localTrainingCompute({ ...localComputeOptionsFor(config), region: config.aws.region });
}

/** The fine-tune stage's side effects, on the control queue (the workflows' own): S3 reads/writes and SageMaker calls. */
export function createFineTuneActivities(deps: FineTuneDeps) {
  const { config } = deps;
  const region = config.aws.region;
  const compute = deps.compute ?? trainingComputeFor(config, deps.sagemaker);
  const polling = pollingFor(config, compute.backend);

  return {
    /** Manifest, defaults, image and staged code, resolved once: the workflow records the result. */
    async planFineTune(input: {
      settings: FineTuneSettings;
      runId: string;
      givenHyperparameters?: HyperparametersInput;
    }): Promise<TrainingPlan> {
      if (compute.backend === 'local') requireJobsPython(localComputeOptionsFor(config).python, 'jobs/train');
      return planFineTune(
        { s3: deps.s3, config, codeDir: deps.codeDir, backend: compute.backend },
        input.settings,
        input.runId,
        input.givenHyperparameters,
      );
    },

    async findTrainingJob(input: { plan: TrainingPlan; candidates: TrainingCandidate[] }): Promise<StartedTrainingJob | null> {
      const found = (await findTrainingJob(compute, input.plan, input.candidates, region)) ?? null;
      // A running job of another run is adopted (the workflow waits on it without creating): wait on it openly.
      if (found?.outcome === 'adopted') await joinTrainingJob(compute, found.jobName, ownWorkflowId());
      return found;
    },

    async createTrainingJob(input: { plan: TrainingPlan; candidate: TrainingCandidate }): Promise<StartedTrainingJob> {
      const { plan, candidate } = input;
      const request = buildCreateTrainingJobRequest(plan, candidate.instanceType, candidate.jobName, region);
      const abortSignal = Context.current().cancellationSignal;
      const started = await createTrainingJob(
        compute,
        request,
        candidate,
        // Resolved only when a job is really created, inside the activity: the token never reaches history.
        async (): Promise<Record<string, string>> => {
          const token = await resolveHuggingFaceToken({
            source: plan.huggingFaceToken,
            defaultSecretArn: config.training.hfTokenSecretArn,
            defaultEnvVar: config.training.hfTokenEnvVar,
            env: deps.env ?? process.env,
            secretsManager: deps.secretsManager,
            abortSignal,
          });
          return token ? { HF_TOKEN: token } : {};
        },
        abortSignal,
      );
      if (started.outcome !== 'reused') await joinTrainingJob(compute, started.jobName, ownWorkflowId());
      return started;
    },

    async waitForTrainingJob(input: WaitInput): Promise<TrainingJobOutcome> {
      return waitForTrainingJob(compute, polling, config.pricing, input);
    },

    /** Stops the job, unless other runs still wait on it: then it leaves it running for them and says so. */
    async stopTrainingJob(input: { jobName: string }): Promise<TrainingJobStop> {
      const workflowId = ownWorkflowId();
      const others = await leaveTrainingJob(compute, input.jobName, workflowId);
      if (others.length > 0) return { jobName: input.jobName, status: 'LeftRunning', leftRunningFor: others };
      return stopTrainingJob(compute, polling, input.jobName, workflowId);
    },
  };
}

export type FineTuneActivities = ReturnType<typeof createFineTuneActivities>;

/** The run an activity works for: its waiter tag on a shared job (a standalone activity counts as its own run). */
function ownWorkflowId(): string {
  const { info } = Context.current();
  return info.workflowExecution?.workflowId ?? `activity-${info.activityId}`;
}
