import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { effectiveExecutionRoleArn, type LlmtwinConfig } from '../../common/config';
import type { EvaluateSettings } from '../../common/evaluate/contract';
import { evaluationJobName, type EvaluationPlan } from '../../common/evaluate/plan';
import { durationToMs } from '../../common/shared/durations';
import { unknownInstanceTypeProblem } from '../../common/shared/instance-types';
import { s3Key, s3Uri } from '../../common/shared/naming';
import { validationFailure } from '../../common/shared/validation';
import { awsCall } from '../aws/errors';
import { headObjectIfExists } from '../aws/s3';
import type { S3Sender } from '../aws/clients';
import { readManifest, resolveImage } from '../fine-tune/plan';
import { stagePackedCode } from '../fine-tune/training-code';
import type { TrainingCompute, TrainingJobDescription } from '../fine-tune/training-compute';
import { describeTrainingJobIfExists } from '../fine-tune/training-jobs';
import { packEvaluationCode } from './evaluation-code';

/**
 * Turns an evaluate input into an EvaluationPlan: what the model is (from its training job, or given),
 * the job's config (staged content-addressed, so the same settings give the same job name), its code,
 * image, instance and output. Idempotent: reads and content-addressed uploads.
 */

/** The variable the job reads the judge's key from, when the worker passes it in (`apiKey.workerEnv`). */
export const JUDGE_KEY_VARIABLE = 'LLMTWIN_JUDGE_API_KEY';
const MAX_PROCESSING_SECONDS = 5 * 24 * 3600;

export interface EvaluationPlanDeps {
  s3: S3Sender;
  config: LlmtwinConfig;
  training: TrainingCompute;
  backend: 'sagemaker' | 'local';
  jobsDir?: string;
}

interface ModelSource {
  modelUri: string;
  testUri: string;
  datasetHash: string;
  baseModelId: string;
  imageUri?: string;
  trainingMetricsUri?: string;
  fields: { instruction: string; output: string; input: string };
  systemPrompt: string;
}

export async function planEvaluation(deps: EvaluationPlanDeps, input: EvaluateSettings, runId: string): Promise<EvaluationPlan> {
  const { config } = deps;
  const local = deps.backend === 'local';
  if (input.instanceType && !local) {
    const problem = unknownInstanceTypeProblem(input.instanceType, config.sagemaker.extraInstanceTypes);
    if (problem) throw validationFailure(`instanceType: ${problem}`);
  }
  const maxRuntimeSeconds = Math.ceil(durationToMs(input.maxRuntime ?? config.evaluation.maxRuntime) / 1000);
  if (maxRuntimeSeconds > MAX_PROCESSING_SECONDS) throw validationFailure('maxRuntime: a SageMaker processing job runs at most 5 days');

  const source = input.trainingJobName ? await fromTrainingJob(deps, input.trainingJobName) : await fromInput(deps, input);
  const baseModelId = input.baseModelId ?? source.baseModelId;
  const judge = input.judge;
  const jobConfig = {
    base_model_id: baseModelId,
    decoding: {
      max_new_tokens: input.decoding.maxNewTokens,
      temperature: input.decoding.temperature,
      top_p: input.decoding.topP,
      seed: input.decoding.seed,
      batch_size: input.decoding.batchSize,
    },
    max_samples: input.maxSamples ?? config.evaluation.maxSamples,
    instruction_field: source.fields.instruction,
    output_field: source.fields.output,
    input_field: source.fields.input,
    system_prompt: source.systemPrompt,
    ...(judge
      ? {
          judge: {
            base_url: judge.baseUrl,
            model: judge.model,
            ...(judge.apiKey && 'secretArn' in judge.apiKey ? { api_key_secret_arn: judge.apiKey.secretArn } : {}),
            ...(judge.apiKey && 'workerEnv' in judge.apiKey ? { api_key_env: JUDGE_KEY_VARIABLE } : {}),
          },
        }
      : {}),
  };
  const { bucket, prefix } = config.s3;
  const staged = await stageJobConfig(deps.s3, bucket, prefix, jobConfig);
  const code = await stagePackedCode(deps.s3, bucket, prefix, 'evaluate', await packEvaluationCode(deps.jobsDir));

  const plan: Omit<EvaluationPlan, 'outputUri' | 'jobName'> = {
    twin: input.twin,
    ...(input.trainingJobName ? { trainingJobName: input.trainingJobName } : {}),
    baseModelId,
    compute: deps.backend,
    ...(judge?.apiKey && 'workerEnv' in judge.apiKey ? { judgeKeyWorkerEnv: judge.apiKey.workerEnv } : {}),
    modelUri: source.modelUri,
    testUri: source.testUri,
    configUri: staged.uri,
    configSha256: staged.sha256,
    codeUri: code.uri,
    codeSha256: code.sha256,
    ...(source.trainingMetricsUri ? { trainingMetricsUri: source.trainingMetricsUri } : {}),
    // The training job's own image when there is one: the model is scored with the libraries it was trained with.
    imageUri: local ? 'local' : (source.imageUri ?? resolveImage({}, config)),
    instanceType: local ? 'local' : (input.instanceType ?? config.sagemaker.processingInstanceType),
    volumeSizeGb: config.evaluation.volumeSizeGb,
    maxRuntimeSeconds,
    roleArn: effectiveExecutionRoleArn(config),
    datasetHash: source.datasetHash,
    runId,
    resourceNamePrefix: config.resourceNamePrefix,
    force: input.force,
    tags: input.tags ?? {},
    gate: {
      thresholds: input.gate.thresholds,
      champion: {
        primaryMetric: input.gate.primaryMetric ?? config.evaluation.primaryMetric,
        tolerance: input.gate.tolerance ?? config.evaluation.tolerance,
      },
    },
    approvalTimeout: input.approval.timeout ?? config.evaluation.approvalTimeout,
  };
  const jobName = evaluationJobName(plan);
  return { ...plan, jobName, outputUri: `${s3Uri(bucket, s3Key(prefix, 'evaluations', jobName))}/` };
}

function hyperparameter(job: TrainingJobDescription, name: string): string | undefined {
  const raw = job.HyperParameters?.[name];
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'string' ? value : String(value);
  } catch {
    return raw;
  }
}

async function fromTrainingJob(deps: EvaluationPlanDeps, jobName: string): Promise<ModelSource> {
  const job = await describeTrainingJobIfExists(deps.training, jobName);
  if (!job) {
    throw validationFailure(
      `trainingJobName: no training job ${jobName} on ${deps.backend === 'local' ? 'this machine (local compute)' : 'SageMaker'}; give the name fine-tune printed (its result's jobName)`,
    );
  }
  if (job.TrainingJobStatus !== 'Completed') {
    throw validationFailure(
      `trainingJobName: training job ${jobName} is ${job.TrainingJobStatus ?? 'in an unknown state'}, not Completed; only a completed job has a model to evaluate`,
    );
  }
  const modelUri = job.ModelArtifacts?.S3ModelArtifacts;
  const testUri = job.InputDataConfig?.find((channel) => channel.ChannelName === 'test')?.DataSource?.S3DataSource?.S3Uri;
  const baseModelId = hyperparameter(job, 'base_model_id');
  if (!modelUri || !testUri || !baseModelId) {
    throw validationFailure(
      `trainingJobName: training job ${jobName} is not an llmtwin fine-tune job (no model artifacts, test channel or base_model_id); give modelUri, datasetUri and baseModelId instead`,
    );
  }
  const datasetHash =
    /datasets\/([0-9a-f]{64})\//.exec(testUri)?.[1] ??
    (job as { Tags?: Array<{ Key?: string; Value?: string }> }).Tags?.find((tag) => tag.Key === 'llmtwin:dataset-hash')?.Value ??
    'unknown';
  const output = job.OutputDataConfig?.S3OutputPath;
  return {
    modelUri,
    testUri,
    datasetHash,
    baseModelId,
    ...(deps.backend === 'sagemaker' && job.AlgorithmSpecification?.TrainingImage
      ? { imageUri: job.AlgorithmSpecification.TrainingImage }
      : {}),
    ...(output ? { trainingMetricsUri: `${output.replace(/\/*$/, '/')}${jobName}/output/output.tar.gz` } : {}),
    fields: {
      instruction: hyperparameter(job, 'instruction_field') ?? 'instruction',
      output: hyperparameter(job, 'output_field') ?? 'output',
      input: hyperparameter(job, 'input_field') ?? 'input',
    },
    systemPrompt: hyperparameter(job, 'system_prompt') ?? '',
  };
}

async function fromInput(deps: EvaluationPlanDeps, input: EvaluateSettings): Promise<ModelSource> {
  const manifest = await readManifest(deps.s3, input.datasetUri as string);
  if (manifest.files.test.records === 0) {
    throw validationFailure(`datasetUri: dataset ${manifest.datasetHash} has no held-out records to score; prepare data with a test split`);
  }
  return {
    modelUri: input.modelUri as string,
    testUri: manifest.files.test.uri,
    datasetHash: manifest.datasetHash,
    baseModelId: input.baseModelId as string,
    fields: { instruction: 'instruction', output: 'output', input: 'input' },
    systemPrompt: '',
  };
}

/** The job's evaluation.json, content-addressed: the same settings are one object, and its hash joins the job name. */
async function stageJobConfig(s3: S3Sender, bucket: string, prefix: string, jobConfig: object): Promise<{ uri: string; sha256: string }> {
  const body = `${JSON.stringify(jobConfig, null, 2)}\n`;
  const sha256 = createHash('sha256').update(body).digest('hex');
  const key = s3Key(prefix, 'evaluations', 'config', sha256, 'evaluation.json');
  if (!(await headObjectIfExists(s3, bucket, key))) {
    await awsCall({ operation: 'PutObject', resource: s3Uri(bucket, key) }, () =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' })),
    );
  }
  // The job's config input is a prefix: the folder holding exactly this file.
  return { uri: `${s3Uri(bucket, s3Key(prefix, 'evaluations', 'config', sha256))}/`, sha256 };
}
