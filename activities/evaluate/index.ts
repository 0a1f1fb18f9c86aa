import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { effectiveComputeBackend, type LlmtwinConfig } from '../../common/config';
import type { ApprovalStatus, EvaluateSettings, ManualDecision } from '../../common/evaluate/contract';
import type { EvaluationPlan } from '../../common/evaluate/plan';
import { modelPackageGroupName, VERSION_KEYS } from '../../common/evaluate/registry';
import { EvaluationReportSchema, summarize, type EvaluationSummary } from '../../common/evaluate/report';
import { parseS3Uri } from '../../common/shared/naming';
import { parseOrFail, validationFailure } from '../../common/shared/validation';
import { awsCall } from '../aws/errors';
import type { S3Sender, SageMakerSender } from '../aws/clients';
import { trainingComputeFor } from '../fine-tune';
import type { TrainingCompute } from '../fine-tune/training-compute';
import { pollingFor } from '../aws/job-polling';
import { localComputeOptionsFor, requireJobsPython } from '../local/local-jobs';
import { EVALUATION_ENTRY_POINT } from './evaluation-code';
import { localProcessingCompute } from './local-processing';
import { JUDGE_KEY_VARIABLE, planEvaluation } from './plan';
import { sageMakerProcessingCompute, type ProcessingCompute } from './processing-compute';
import { startProcessingJob, stopProcessingJob, waitForProcessingJob, type StartedProcessingJob } from './processing-jobs';
import { buildCreateProcessingJobRequest } from './processing-request';
import { registerModelVersion, type RegistrationInput } from './registration';
import { findChampion, setVersionStatus } from './registry';

export interface EvaluateDeps {
  sagemaker: SageMakerSender;
  s3: S3Sender;
  config: LlmtwinConfig;
  /** Where the judge's key may be read from (the worker's environment by default). */
  env?: NodeJS.ProcessEnv;
  /** The jobs/ folder the evaluation code is packed from. */
  jobsDir?: string;
  /** Where jobs run; by default the configured backend (compute.backend). */
  compute?: ProcessingCompute;
  /** Where the training jobs it evaluates ran (the same backend by default). */
  training?: TrainingCompute;
}

export function processingComputeFor(config: LlmtwinConfig, sagemaker: SageMakerSender): ProcessingCompute {
  if (effectiveComputeBackend(config) === 'sagemaker') return sageMakerProcessingCompute(sagemaker, config.aws.region);
  return localProcessingCompute({ ...localComputeOptionsFor(config), entryPoint: EVALUATION_ENTRY_POINT });
}

/** The evaluate stage's side effects, on the control queue: S3 reads and writes, the processing job, the registry. */
export function createEvaluateActivities(deps: EvaluateDeps) {
  const { config, sagemaker } = deps;
  const compute = deps.compute ?? processingComputeFor(config, sagemaker);
  const training = deps.training ?? trainingComputeFor(config, sagemaker);
  const polling = pollingFor(config, compute.backend);

  return {
    /** The model, data, config, code and job name, resolved once: the workflow records the result. */
    async planEvaluation(input: { settings: EvaluateSettings; runId: string }): Promise<EvaluationPlan> {
      if (compute.backend === 'local') requireJobsPython(localComputeOptionsFor(config).python, 'jobs/evaluate');
      return planEvaluation(
        { s3: deps.s3, config, training, backend: compute.backend, jobsDir: deps.jobsDir },
        input.settings,
        input.runId,
      );
    },

    async startEvaluationJob(input: { plan: EvaluationPlan }): Promise<StartedProcessingJob> {
      const { plan } = input;
      const request = buildCreateProcessingJobRequest(plan, plan.jobName);
      // Read only when a job is really created, inside the activity: the key never reaches history.
      const environment = (): Record<string, string> => {
        if (!plan.judgeKeyWorkerEnv) return {};
        const key = (deps.env ?? process.env)[plan.judgeKeyWorkerEnv];
        if (!key)
          throw validationFailure(
            `judge.apiKey.workerEnv: the worker has no environment variable ${plan.judgeKeyWorkerEnv}; set it where the worker runs, or use judge.apiKey.secretArn`,
          );
        return { [JUDGE_KEY_VARIABLE]: key };
      };
      return startProcessingJob(compute, request, environment, Context.current().cancellationSignal);
    },

    async waitForEvaluationJob(input: { jobName: string }): Promise<{ jobName: string; logs: string; console?: string }> {
      await waitForProcessingJob(compute, polling, input.jobName);
      const consoleUrl = compute.consoleUrl(input.jobName);
      return { jobName: input.jobName, logs: compute.logLocation(input.jobName), ...(consoleUrl ? { console: consoleUrl } : {}) };
    },

    async stopEvaluationJob(input: { jobName: string }) {
      return stopProcessingJob(compute, polling, input.jobName);
    },

    /** evaluation.json from the job's output, validated; only the summary goes back to the workflow. */
    async readEvaluation(input: { plan: EvaluationPlan }): Promise<EvaluationSummary & { evaluationUri: string; reportUri: string }> {
      const evaluationUri = `${input.plan.outputUri}evaluation.json`;
      const { bucket, key } = parseS3Uri(evaluationUri);
      const object = await awsCall({ operation: 'GetObject', resource: `${evaluationUri} (the evaluation job's report)` }, () =>
        deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      );
      let parsed: unknown;
      try {
        parsed = JSON.parse((await object.Body?.transformToString('utf-8')) ?? '');
      } catch (error) {
        throw validationFailure(`${evaluationUri} is not valid JSON: the evaluation job wrote a broken report`, { cause: error });
      }
      const report = parseOrFail(EvaluationReportSchema, parsed, evaluationUri);
      return { ...summarize(report), evaluationUri, reportUri: `${input.plan.outputUri}report.html` };
    },

    async findChampion(input: { twin: string; targetEndpoint?: string; evaluationJobName: string }) {
      return findChampion(
        sagemaker,
        modelPackageGroupName(config.resourceNamePrefix, input.twin),
        input.targetEndpoint,
        input.evaluationJobName,
      );
    },

    async registerModelVersion(input: Omit<RegistrationInput, 'groupName'>) {
      return registerModelVersion(sagemaker, { ...input, groupName: modelPackageGroupName(config.resourceNamePrefix, input.twin) });
    },

    /** A person's decision (or the timeout's) recorded on the version: its status, and who and why. */
    async decideModelVersion(input: { arn: string; status: ApprovalStatus; decision: ManualDecision }) {
      const { decision } = input;
      return setVersionStatus(
        sagemaker,
        input.arn,
        input.status,
        `${decision.action} by ${decision.by} (${decision.via}): ${decision.reason}`,
        {
          [VERSION_KEYS.gate]: `${decision.action === 'approve' ? 'approved' : 'rejected'} by ${decision.by}`.slice(0, 256),
        },
      );
    },
  };
}

export type EvaluateActivities = ReturnType<typeof createEvaluateActivities>;
