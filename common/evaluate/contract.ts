import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { DurationSchema } from '../shared/duration-schema';
import { EnvVarNameSchema, InstanceTypeSchema, s3UriSchema, SageMakerNameSchema, SecretArnSchema } from '../shared/schemas';
import { GATE_METRICS, type GateCheck, type GateMetric, type ModelMetrics } from './gate';

/**
 * The evaluate contract: the workflow input (one zod schema, types inferred), the approval Updates and
 * their payload, the status query and the result. Pure and workflow-safe.
 */

const MetricSchema = z.enum(GATE_METRICS);
const FiniteSchema = z.number().finite();

export const TwinNameSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9](-?[a-z0-9])*$/, 'must be lower-case letters, digits and single hyphens, such as "wren"');

export const DecodingSchema = z
  .strictObject({
    maxNewTokens: z.number().int().min(1).max(8_192).default(256),
    temperature: z.number().min(0).max(2).default(0.7),
    topP: z.number().gt(0).max(1).default(0.9),
    seed: z.number().int().min(0).default(42),
    batchSize: z.number().int().min(1).max(256).default(8),
  })
  .prefault({});

export const JudgeSchema = z.strictObject({
  /** Any OpenAI-compatible API, such as "https://api.openai.com/v1". */
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as "https://api.openai.com/v1"' }),
  model: z.string().min(1).max(200),
  /** Where the key is: a secret the job reads itself, or a variable of the worker's environment. Never the key. */
  apiKey: z.union([z.strictObject({ secretArn: SecretArnSchema }), z.strictObject({ workerEnv: EnvVarNameSchema })]).optional(),
});

export const GateInputSchema = z
  .strictObject({
    /** Upper bounds for perplexity and the style distances, lower bounds for ROUGE-L and the judge's scores. */
    thresholds: z.partialRecord(MetricSchema, FiniteSchema).default({}),
    /** The champion/challenger rule's metric; default `evaluation.primaryMetric`. */
    primaryMetric: MetricSchema.optional(),
    /** How much worse than the champion still passes, relative to its value (0.02 = 2 %); default `evaluation.tolerance`. */
    tolerance: z.number().min(0).max(1).optional(),
  })
  .prefault({});

export const ApprovalInputSchema = z
  .strictObject({
    /** `manual`: a gate-approved model waits for an `approve` or `reject` Update before it is Approved. */
    mode: z.enum(['auto', 'manual']).default('auto'),
    /** How long a manual approval waits; default `evaluation.approvalTimeout`. */
    timeout: DurationSchema.optional(),
    /** What happens when nobody decides in time. */
    onTimeout: z.enum(['reject', 'approve']).default('reject'),
  })
  .prefault({});

export const EvaluateInputSchema = z
  .strictObject({
    /** The twin's name: its model versions form one Model Package Group. */
    twin: TwinNameSchema.default('twin'),
    /** A completed fine-tune job (SageMaker's, or a local one): its model, dataset and base model are read from it. */
    trainingJobName: SageMakerNameSchema.optional(),
    /** Or the model and the dataset given directly. */
    modelUri: s3UriSchema('s3://my-bucket/llmtwin/training/<job>/output/model.tar.gz').optional(),
    datasetUri: s3UriSchema('s3://my-bucket/llmtwin/datasets/<hash>/').optional(),
    /** The model it was trained from (the baseline); read from the training job when one is named. */
    baseModelId: z.string().min(1).max(500).optional(),
    decoding: DecodingSchema,
    /** Held-out pairs scored, at most (the first ones of the test split). */
    maxSamples: z.number().int().min(1).max(10_000).optional(),
    judge: JudgeSchema.optional(),
    gate: GateInputSchema,
    /** The endpoint whose Approved version is the champion; without one, the twin's newest Approved version. */
    targetEndpoint: SageMakerNameSchema.optional(),
    approval: ApprovalInputSchema,
    /** Default `sagemaker.processingInstanceType`; local compute runs on this machine. */
    instanceType: InstanceTypeSchema.optional(),
    maxRuntime: DurationSchema.optional(),
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
    /** Evaluate again even when a job with the same inputs ran (processing job names are never reusable, so the run id joins the name). */
    force: z.boolean().default(false),
    /** Pipeline run id for tags; defaults to the workflow id. */
    runId: z.string().min(1).max(256).optional(),
  })
  .superRefine((input, ctx) => {
    const direct = input.modelUri !== undefined || input.datasetUri !== undefined;
    if (input.trainingJobName && direct) {
      ctx.addIssue({
        code: 'custom',
        path: ['trainingJobName'],
        message: 'give either trainingJobName, or modelUri with datasetUri, not both',
      });
    } else if (!input.trainingJobName && !(input.modelUri && input.datasetUri)) {
      ctx.addIssue({
        code: 'custom',
        path: [input.modelUri ? 'datasetUri' : input.datasetUri ? 'modelUri' : 'trainingJobName'],
        message: 'name the model to evaluate: trainingJobName (a completed fine-tune job), or modelUri and datasetUri together',
      });
    }
    if (!input.trainingJobName && input.modelUri && !input.baseModelId) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseModelId'],
        message: 'name the base model the model was trained from (the baseline it is scored against), such as "Qwen/Qwen2.5-1.5B-Instruct"',
      });
    }
    for (const key of Object.keys(input.tags ?? {}).filter((tag) => /^(aws|llmtwin):/i.test(tag))) {
      ctx.addIssue({ code: 'custom', path: ['tags', key], message: 'the aws: and llmtwin: prefixes are reserved; pick another key' });
    }
  });

export type EvaluateInput = z.input<typeof EvaluateInputSchema>;
export type EvaluateSettings = z.output<typeof EvaluateInputSchema>;
export type Decoding = z.output<typeof DecodingSchema>;

/** Who decided a manual approval, and why: the validator refuses a decision without both. */
export const ApprovalDecisionSchema = z.strictObject({
  by: z.string().trim().min(1, 'say who decides (by)').max(128),
  reason: z.string().trim().min(1, 'say why (reason)').max(900),
});
export type ApprovalDecision = z.output<typeof ApprovalDecisionSchema>;

export const approveUpdate = defineUpdate<EvaluateStatus, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<EvaluateStatus, [ApprovalDecision]>('reject');

/** The registry's three states (SageMaker's ModelApprovalStatus). */
export type ApprovalStatus = 'Approved' | 'Rejected' | 'PendingManualApproval';

/** Both models' numbers, as the report holds them (null: not measured). */
export interface EvaluationMetrics {
  twin: ModelMetrics;
  base: ModelMetrics;
  /** twin - base, per metric. */
  difference: ModelMetrics;
}

export interface ModelVersion {
  groupName: string;
  arn: string;
  version: number;
  status: ApprovalStatus;
}

export interface Champion extends ModelVersion {
  metrics: ModelMetrics;
  /** How it was found: the version the target endpoint serves, or the newest Approved one. */
  source: 'endpoint' | 'newest-approved';
}

export interface ManualDecision extends ApprovalDecision {
  action: 'approve' | 'reject';
  /** `person` through the Update; `timeout` when nobody decided in time (the default action). */
  via: 'person' | 'timeout';
  at: string;
}

export interface EvaluateStatus {
  phase: 'planning' | 'evaluating' | 'stopping' | 'gating' | 'registering' | 'awaiting-approval' | 'done' | 'failed' | 'cancelled';
  jobName?: string;
  gate?: { decision: 'approved' | 'rejected'; reasons: string[] };
  modelVersion?: ModelVersion;
  /** When a manual approval waits: until when, and what happens then. */
  awaiting?: { deadline: string; onTimeout: 'approve' | 'reject' };
  decision?: ManualDecision;
}

export interface EvaluateResult {
  twin: string;
  /** approved: the version is Approved and may be deployed; rejected: by the gate or a person, with the reasons. */
  decision: 'approved' | 'rejected';
  reasons: string[];
  checks: GateCheck[];
  metrics: EvaluationMetrics;
  primaryMetric: GateMetric;
  champion: Champion | null;
  modelVersion: ModelVersion;
  manualDecision?: ManualDecision;
  jobName: string;
  /** True when this exact evaluation had run before: its report was read, nothing was run. */
  reused: boolean;
  modelUri: string;
  datasetHash: string;
  baseModelId: string;
  samplesScored: number;
  evaluationUri: string;
  reportUri: string;
  compute: 'sagemaker' | 'local';
  logs: string;
  /** The processing job's page in the AWS console (SageMaker only). */
  console?: string;
}

export const EVALUATE_WORKFLOW_TYPE = 'evaluate';
/** The value of the LlmtwinStage search attribute on evaluate runs. */
export const EVALUATE_STAGE = 'evaluate';
export const evaluateStatusQuery = defineQuery<EvaluateStatus>('evaluateStatus');
export type EvaluateWorkflow = (input: EvaluateInput) => Promise<EvaluateResult>;
