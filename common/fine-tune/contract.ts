import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { canonicalJson } from '../shared/canonical-json';
import { DurationSchema } from '../shared/duration-schema';
import { resourceName, stableHash } from '../shared/naming';
import { EnvVarNameSchema, InstanceTypeSchema, s3UriSchema, SecretArnSchema, SemverSchema } from '../shared/schemas';
import trainingMetrics from './metrics.json';

/**
 * The fine-tune contract: the workflow input (one zod schema, types inferred), the plan an activity
 * resolves from it (config defaults, dataset manifest, image, staged code), the job name, and the
 * result. Pure and workflow-safe.
 */

const S3UriSchema = s3UriSchema('s3://my-bucket/llmtwin/datasets/<hash>/');
const ModuleNameSchema = z.string().regex(/^[A-Za-z0-9_.]+$/, 'must be a module name such as "q_proj"');
const DatasetFieldSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a JSON field name');
const KmsKeySchema = z
  .string()
  .regex(/^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+|[0-9a-f-]{36}|alias\/.+)$/, 'must be a KMS key id, alias or ARN');

/** What the Python entry point (jobs/train/llmtwin_train/settings.py) trains with. */
export const HyperparametersSchema = z
  .strictObject({
    lora: z
      .strictObject({
        r: z.number().int().min(1).max(256).default(16),
        alpha: z.number().int().min(1).max(1024).default(32),
        dropout: z.number().min(0).max(0.9).default(0.05),
        /** PEFT's "all-linear", or explicit module names. */
        targetModules: z.union([z.literal('all-linear'), z.array(ModuleNameSchema).min(1)]).default('all-linear'),
      })
      .prefault({}),
    epochs: z.number().positive().max(100).default(3),
    learningRate: z.number().positive().max(1).default(2e-4),
    /** Per device; the effective batch is batchSize x gradientAccumulationSteps. */
    batchSize: z.number().int().min(1).max(256).default(4),
    gradientAccumulationSteps: z.number().int().min(1).max(1024).default(4),
    maxSeqLength: z.number().int().min(64).max(32_768).default(2048),
    /** QLoRA (4-bit NF4 base weights) when on and the instance has a GPU. */
    load4bit: z.boolean().default(true),
    /** `merged`: full weights the serving container loads as they are. `adapter`: the LoRA adapter alone. */
    export: z.enum(['merged', 'adapter']).default('merged'),
    /** Checkpoint every N optimizer steps: the most a spot interruption can cost. */
    checkpointSteps: z.number().int().min(1).max(100_000).default(50),
    seed: z.number().int().min(0).default(42),
    /** SageMaker caps a hyperparameter value at 2,500 characters. */
    systemPrompt: z.string().max(2_000).default(''),
    /** Field names in the dataset's JSONL lines (common/prepare-data/contract.ts writes `instruction` and `output`). */
    datasetFields: z
      .strictObject({
        instruction: DatasetFieldSchema.default('instruction'),
        output: DatasetFieldSchema.default('output'),
        input: DatasetFieldSchema.default('input'),
      })
      .prefault({}),
  })
  .prefault({});

export type Hyperparameters = z.output<typeof HyperparametersSchema>;
export type HyperparametersInput = z.input<typeof HyperparametersSchema>;

export const HuggingFaceTokenSourceSchema = z.union([
  z.strictObject({ secretArn: SecretArnSchema }),
  z.strictObject({ workerEnv: EnvVarNameSchema }),
]);
export type HuggingFaceTokenSource = z.output<typeof HuggingFaceTokenSourceSchema>;

export const FineTuneInputSchema = z
  .strictObject({
    /** The dataset prefix prepare-data wrote: `s3://<bucket>/<prefix>datasets/<hash>/` (manifest.json inside). */
    datasetUri: S3UriSchema,
    /**
     * Hugging Face model id, or (local compute only) a path to a model folder; default from config
     * (`training.baseModelId`, or `compute.local.baseModelId` on local compute).
     */
    baseModelId: z
      .string()
      .regex(
        /^([A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)?|\.{0,2}\/.+)$/,
        'must be a Hugging Face model id such as "Qwen/Qwen2.5-1.5B-Instruct", or a path to a model folder such as "./models/base" (local compute)',
      )
      .optional(),
    hyperparameters: HyperparametersSchema,
    /** Preferred type; default `sagemaker.trainingInstanceType`. */
    instanceType: InstanceTypeSchema.optional(),
    /** jobs/train trains on one node (multi-GPU instances are used through device_map). */
    instanceCount: z.literal(1, 'only 1 is supported: jobs/train is single-node; pick a bigger instance type instead').default(1),
    /** Tried in order on a quota or capacity error; default `sagemaker.trainingInstanceFallbacks`. */
    instanceFallbacks: z.array(InstanceTypeSchema).max(10).optional(),
    volumeSizeGb: z.number().int().min(1).max(16_384).optional(),
    maxRuntime: DurationSchema.optional(),
    spot: z
      .strictObject({
        enabled: z.boolean().optional(),
        /** Total time including waiting for spot capacity; must be at least maxRuntime. */
        maxWait: DurationSchema.optional(),
        /** Where /opt/ml/checkpoints is synced; default `s3://<bucket>/<prefix>checkpoints/<job>/`. */
        checkpointS3Uri: S3UriSchema.optional(),
      })
      .prefault({}),
    image: z
      .union([
        z.strictObject({
          uri: z
            .string()
            .regex(
              /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/,
              'must be an ECR image URI',
            ),
        }),
        z.strictObject({ transformersVersion: SemverSchema, pytorchVersion: SemverSchema }),
      ])
      .optional(),
    vpc: z
      .strictObject({
        securityGroupIds: z
          .array(z.string().regex(/^sg-[0-9a-f]+$/, 'must be a security group id like "sg-0123abcd"'))
          .min(1)
          .max(5),
        subnets: z
          .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id like "subnet-0123abcd"'))
          .min(1)
          .max(16),
      })
      .optional(),
    kms: z.strictObject({ volumeKeyId: KmsKeySchema.optional(), outputKeyId: KmsKeySchema.optional() }).optional(),
    /** Extra tags on the training job (ours, llmtwin:*, are always added). */
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
    /** Where the worker finds a Hugging Face token (gated models); never the token itself. */
    huggingFaceToken: HuggingFaceTokenSourceSchema.optional(),
    /** Train again even when a job with the same inputs completed (training job names are never reusable, so the run id joins the name). */
    force: z.boolean().default(false),
    /** Pipeline run id for tags; defaults to the workflow id. */
    runId: z.string().min(1).max(256).optional(),
  })
  .superRefine((input, ctx) => {
    const tagKeys = Object.keys(input.tags ?? {});
    if (tagKeys.length > 40) ctx.addIssue({ code: 'custom', path: ['tags'], message: 'at most 40 tags' });
    for (const key of tagKeys.filter((tag) => /^(aws|llmtwin):/i.test(tag))) {
      ctx.addIssue({ code: 'custom', path: ['tags', key], message: 'the aws: and llmtwin: prefixes are reserved; pick another key' });
    }
  });

export type FineTuneInput = z.input<typeof FineTuneInputSchema>;
export type FineTuneSettings = z.output<typeof FineTuneInputSchema>;

/**
 * The offline base model (jobs/train/llmtwin_train/toy_model.py): a 2-layer Llama with random weights and
 * a byte-level tokenizer, built on the machine that trains. What it learns from a few dozen documents is
 * the author's letters, words and phrases, which it recombines: a toy, for trying the pipeline offline.
 */
export const TOY_BASE_MODEL_ID = 'llmtwin-toy';
export const TOY_BASE_MODEL_NOTE =
  "llmtwin-toy is a toy: a tiny model with random weights, trained here on CPU, that recombines the author's phrases without writing sensibly. For a real twin name a base model (--base-model, training.baseModelId) and train on a GPU: SageMaker, or local compute on a machine with one";

/**
 * What the toy trains with where the input does not say (measured on examples/corpus, 2 CPU cores: the
 * held-out loss falls from 5.5 to about 2.7 in under a minute, where the standard recipe moves it to 5.4).
 * A random base has nothing worth keeping in its embeddings and output head, so LoRA adapts them too.
 */
export const TOY_HYPERPARAMETERS = {
  epochs: 5,
  learningRate: 3e-3,
  gradientAccumulationSteps: 1,
  lora: { targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head', 'embed_tokens'] },
} as const;

/**
 * The hyperparameters a plan trains with: those the input gave, and for the rest the base model's
 * recipe (the toy's, or the schema's defaults).
 */
export function resolveHyperparameters(given: HyperparametersInput | undefined, baseModelId: string): Hyperparameters {
  if (baseModelId !== TOY_BASE_MODEL_ID) return HyperparametersSchema.parse(given ?? {});
  const { lora, ...rest } = given ?? {};
  return HyperparametersSchema.parse({ ...TOY_HYPERPARAMETERS, ...rest, lora: { ...TOY_HYPERPARAMETERS.lora, ...lora } });
}

/** Everything the create activity needs, resolved once (recorded in history; holds no secret). */
export interface TrainingPlan {
  datasetHash: string;
  trainUri: string;
  testUri: string;
  trainRecords: number;
  testRecords: number;
  baseModelId: string;
  /** Said wherever the result is shown, when the base model needs a word (the toy). */
  baseModelNote?: string;
  /** Where the job runs (compute.backend): the instance types are `local`/`local_gpu` on local compute. */
  compute: 'sagemaker' | 'local';
  imageUri: string;
  /** The packed jobs/train directory (sourcedir.tar.gz) and the sha256 of its files. */
  codeUri: string;
  codeSha256: string;
  hyperparameters: Hyperparameters;
  /** Preferred type first, then the fallbacks, without repeats. */
  instanceTypes: string[];
  instanceCount: number;
  volumeSizeGb: number;
  maxRuntimeSeconds: number;
  spot: { enabled: boolean; maxWaitSeconds: number; checkpointS3Uri?: string };
  /** Checkpoints go to `<checkpointBaseUri><job name>/` unless spot.checkpointS3Uri is set. */
  checkpointBaseUri: string;
  outputUri: string;
  roleArn: string;
  vpc?: { securityGroupIds: string[]; subnets: string[] };
  kms?: { volumeKeyId?: string; outputKeyId?: string };
  tags: Record<string, string>;
  huggingFaceToken?: HuggingFaceTokenSource;
  force: boolean;
  runId: string;
  resourceNamePrefix: string;
}

/**
 * The training job name: the same dataset, base model, hyperparameters, image, code and instance
 * settings give the same name (so a retry adopts the job and a re-run reuses its artifacts). The
 * instance type is part of it because each fallback type is a separate job. `force` adds the workflow
 * run id: SageMaker never lets a training job name be used twice.
 */
export function trainingJobName(plan: TrainingPlan, instanceType: string, forceRunId?: string): string {
  const inputs = canonicalJson({
    baseModelId: plan.baseModelId,
    hyperparameters: plan.hyperparameters,
    imageUri: plan.imageUri,
    codeSha256: plan.codeSha256,
    trainUri: plan.trainUri,
    testUri: plan.testUri,
    instance: { type: instanceType, count: plan.instanceCount, volumeSizeGb: plan.volumeSizeGb },
    spot: plan.spot.enabled,
  });
  const key = [
    plan.datasetHash.slice(0, 12),
    instanceType.replace(/^ml\./, ''),
    stableHash(inputs),
    plan.force ? (forceRunId ?? plan.runId) : '',
  ].join('|');
  return resourceName({ prefix: plan.resourceNamePrefix, stage: 'train', key });
}

/** SageMaker MetricDefinitions scraping the lines jobs/train prints (one contract file for both sides). */
export const TRAINING_METRIC_DEFINITIONS: ReadonlyArray<{ Name: string; Regex: string }> = trainingMetrics.metricDefinitions;

export type TrainingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/** Heartbeat details of waitForTrainingJob: what the CLI shows and what a retried attempt resumes from. */
export interface TrainingProgress {
  jobName: string;
  status: TrainingJobStatus;
  secondaryStatus: string;
  /** SageMaker's secondary status transitions so far (status, start time, message). */
  transitions: Array<{ status: string; startTime: string; message?: string }>;
  billableSeconds?: number;
  trainingSeconds?: number;
  polls: number;
  throttledPolls: number;
  /** The backoff reached, so a retried attempt continues it rather than starting over at 15 s. */
  intervalMs: number;
  /** Latest values of the scraped metrics, when SageMaker has them. */
  latestMetrics?: Record<string, number>;
  /** Optimizer steps done and planned (local compute reads them from the job's log; SageMaker has no counter). */
  step?: number;
  totalSteps?: number;
}

export interface TrainingJobOutcome {
  jobName: string;
  instanceType: string;
  instanceCount: number;
  /** `s3://.../<job>/output/model.tar.gz`: the model directory the serving container loads. */
  artifactsUri: string;
  finalMetrics: Record<string, number>;
  billableSeconds: number | null;
  trainingSeconds: number | null;
  /** costUsd(instance, billable seconds, count); null when the instance type has no price. */
  estimatedCostUsd: number | null;
  spot: boolean;
  /** Where the job ran: a SageMaker training job, or a local process under the same contract. */
  compute: 'sagemaker' | 'local';
  /** Where its log is: CloudWatch for SageMaker, a file for local jobs. */
  logs: string;
  /** The job's page in the AWS console (SageMaker only). */
  console?: string;
  /** The first value of each metric, when the backend keeps them (local: the untrained model's held-out loss first). */
  firstMetrics?: Record<string, number>;
  polls: number;
  throttledPolls: number;
}

export interface FineTuneAttempt {
  instanceType: string;
  jobName: string;
  outcome: 'completed' | 'reused' | 'quota' | 'capacity';
  reason?: string;
}

export interface FineTuneResult extends TrainingJobOutcome {
  datasetHash: string;
  baseModelId: string;
  baseModelNote?: string;
  imageUri: string;
  /** True when a completed job with the same inputs was found and nothing was trained. */
  reused: boolean;
  /** One entry per instance type tried, in order. */
  attempts: FineTuneAttempt[];
}

/** What a cancelled run did about its job: stopped it (its final status), or left it to the other runs waiting on it. */
export interface TrainingJobStop {
  jobName: string;
  status: TrainingJobStatus | 'NotFound' | 'LeftRunning';
  /** The workflow ids of the other runs that wait on the job, when it was left running for them. */
  leftRunningFor?: string[];
}

/** What the workflow's `fineTuneStatus` query answers. */
export interface FineTuneStatus {
  phase: 'planning' | 'training' | 'stopping' | 'done' | 'failed' | 'cancelled';
  datasetHash?: string;
  jobName?: string;
  instanceType?: string;
  attempts: FineTuneAttempt[];
  /** After a cancel: what became of the job. */
  stop?: TrainingJobStop;
}

export const FINE_TUNE_WORKFLOW_TYPE = 'fineTune';
/** The value of the LlmtwinStage search attribute on fine-tune runs. */
export const FINE_TUNE_STAGE = 'fine-tune';
/** Phase, job and every instance type tried: what the CLI and the Web UI show while a run trains. */
export const fineTuneStatusQuery = defineQuery<FineTuneStatus>('fineTuneStatus');
/** The workflow's signature: what clients start by type name (the CLI never imports workflow code). */
export type FineTuneWorkflow = (input: FineTuneInput) => Promise<FineTuneResult>;
