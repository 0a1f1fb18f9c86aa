import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { TwinNameSchema } from '../evaluate/contract';
import { DurationSchema, NonNegativeDurationSchema } from '../shared/duration-schema';
import { InstanceTypeSchema, s3UriSchema, SageMakerNameSchema } from '../shared/schemas';
import { AutoscalingSchema } from './config';
import { SERVING_CONTAINERS } from './images';

/**
 * The deploy contract: the workflow input (one zod schema, types inferred), the status query, the
 * result, and the rollback workflow's input and result. Pure and workflow-safe.
 */

export const ModelPackageArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[a-zA-Z0-9-]{1,63}\/\d+$/,
    'must be a model package version ARN such as "arn:aws:sagemaker:us-east-1:123456789012:model-package/llmtwin-twin-wren-abc/3" (llmtwin models list shows them)',
  );

export const TrafficRoutingSchema = z
  .strictObject({
    /** How an update shifts traffic to the new fleet (SageMaker blue/green). */
    type: z.enum(['ALL_AT_ONCE', 'CANARY', 'LINEAR']).default('ALL_AT_ONCE'),
    /** CANARY: the canary's share; LINEAR: each step's share (percent of capacity). */
    percent: z.number().int().min(1).max(99).optional(),
    /** Between traffic steps (and before the old fleet goes): CloudWatch alarms are watched meanwhile. */
    waitInterval: DurationSchema.default('5m'),
    /** How long the old fleet stays after the shift, for a fast manual rollback (0-1 h). */
    terminationWait: NonNegativeDurationSchema.default('0s'),
    /** The whole update's limit (10 min-8 h). */
    maximumExecutionTimeout: DurationSchema.default('1h'),
  })
  .prefault({})
  .superRefine((routing, ctx) => {
    if (routing.type !== 'ALL_AT_ONCE' && routing.percent === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['percent'],
        message: `${routing.type} needs percent: the share of capacity each step shifts, such as 10`,
      });
    }
  });

export const MonitorInputSchema = z
  .strictObject({
    /** Start the endpoint's idle monitor when it is deployed (an abandoned child: it outlives this run). */
    enabled: z.boolean().default(true),
    checkInterval: DurationSchema.optional(),
    window: DurationSchema.optional(),
    grace: NonNegativeDurationSchema.optional(),
  })
  .prefault({});

export const DeployInputSchema = z
  .strictObject({
    /** The twin's name: its endpoint is named after it unless endpointName says otherwise. */
    twin: TwinNameSchema.default('twin'),
    endpointName: SageMakerNameSchema.optional(),
    /** What to serve, one of: an Approved version from the model registry (evaluate registers them), */
    modelVersionArn: ModelPackageArnSchema.optional(),
    /** a completed fine-tune job (its merged model), */
    trainingJobName: SageMakerNameSchema.optional(),
    /** or a model.tar.gz in S3 holding a Hugging Face model folder. */
    modelUri: s3UriSchema('s3://my-bucket/llmtwin/training/<job>/output/model.tar.gz').optional(),
    container: z.enum(SERVING_CONTAINERS).optional(),
    imageUri: z.string().min(1).max(512).optional(),
    /** Default `sagemaker.inferenceInstanceType` (`deploy.localInstanceType` on local compute). */
    instanceType: InstanceTypeSchema.optional(),
    instanceCount: z.number().int().min(1).max(100).optional(),
    trafficRouting: TrafficRoutingSchema,
    /** CloudWatch alarms that roll an update back while it shifts traffic (at most 10). */
    rollbackAlarms: z.array(z.string().min(1).max(255)).max(10).default([]),
    /** Replaces `deploy.autoscaling` for this endpoint. */
    autoscaling: AutoscalingSchema.optional(),
    smokeTest: z
      .strictObject({
        enabled: z.boolean().optional(),
        prompt: z.string().min(1).max(4_000).optional(),
        maxTokens: z.number().int().min(1).max(4_096).optional(),
      })
      .optional(),
    monitor: MonitorInputSchema,
    /** Default `deploy.inServiceTimeout` (60 min). */
    inServiceTimeout: DurationSchema.optional(),
    tags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
    /** Pipeline run id for tags; defaults to the workflow id. */
    runId: z.string().min(1).max(256).optional(),
  })
  .superRefine((input, ctx) => {
    const sources = (['modelVersionArn', 'trainingJobName', 'modelUri'] as const).filter((key) => input[key] !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [sources[1] ?? 'modelVersionArn'],
        message:
          sources.length === 0
            ? 'name what to deploy: modelVersionArn (an Approved registry version), trainingJobName (a completed fine-tune job) or modelUri (a model.tar.gz)'
            : `give one of modelVersionArn, trainingJobName, modelUri, not ${sources.join(' and ')}`,
      });
    }
    for (const key of Object.keys(input.tags ?? {}).filter((tag) => /^(aws|llmtwin):/i.test(tag))) {
      ctx.addIssue({ code: 'custom', path: ['tags', key], message: 'the aws: and llmtwin: prefixes are reserved; pick another key' });
    }
  });

export type DeployInput = z.input<typeof DeployInputSchema>;
export type DeploySettings = z.output<typeof DeployInputSchema>;
export type TrafficRouting = z.output<typeof TrafficRoutingSchema>;

/** What the endpoint step did: made the endpoint, moved it to a new config (blue/green), or found it serving this config already. */
export type EndpointAction = 'created' | 'updated' | 'unchanged';

export interface EndpointStep {
  action: EndpointAction;
  endpointArn: string;
  /** The config served before this deployment (kept as a tag on the endpoint, for rollback); null for a new endpoint. */
  previousConfigName: string | null;
  /** An update's undo information: the endpoint's llmtwin tags before it, and the autoscaling it had to take off. */
  before?: { tags: Record<string, string | null>; autoscaling: SuspendedAutoscaling | null };
}

export interface SuspendedAutoscaling {
  resourceId: string;
  minCapacity: number;
  maxCapacity: number;
  /** PutScalingPolicy requests that recreate its policies. */
  policies: object[];
}

export type DeployPhase =
  | 'planning'
  | 'creating-model'
  | 'creating-config'
  | 'creating-endpoint'
  | 'waiting-in-service'
  | 'autoscaling'
  | 'smoke-testing'
  | 'starting-monitor'
  | 'compensating'
  | 'done'
  | 'failed'
  | 'cancelled';

export interface DeployStatus {
  phase: DeployPhase;
  endpointName?: string;
  configName?: string;
  action?: EndpointAction;
  /** What compensation did after a failure or a cancel. */
  compensation?: CompensationReport;
}

export interface CompensationReport {
  /** deleted: the endpoint this run created is gone; rolled-back: the previous config serves again; none: nothing was serving of ours. */
  endpoint: 'deleted' | 'rolled-back' | 'untouched';
  deleted: string[];
  kept: string[];
}

export interface SmokeTestResult {
  prompt: string;
  answer: string;
  latencyMs: number;
}

export interface DeployResult {
  twin: string;
  endpointName: string;
  endpointArn: string;
  /** POST here with SigV4 (service sagemaker), or through the SDKs' InvokeEndpoint; on local compute, the local server's URL (no signing). */
  invokeUrl: string;
  modelName: string;
  configName: string;
  modelVersionArn: string | null;
  modelUri: string;
  image: string;
  instanceType: string;
  instanceCount: number;
  action: EndpointAction;
  previousConfigName: string | null;
  autoscaling: { minInstances: number; maxInstances: number; targetInvocationsPerInstance: number } | null;
  smokeTest: SmokeTestResult | null;
  monitor: { workflowId: string; started: boolean } | null;
  compute: 'sagemaker' | 'local';
}

export const DEPLOY_WORKFLOW_TYPE = 'deploy';
export const DEPLOY_STAGE = 'deploy';
export const deployStatusQuery = defineQuery<DeployStatus>('deployStatus');
export type DeployWorkflow = (input: DeployInput) => Promise<DeployResult>;

export const RollbackInputSchema = z.strictObject({
  endpointName: SageMakerNameSchema,
  /** The config to serve again; default the one the last deployment replaced (the endpoint's llmtwin:previous-config tag). */
  toConfigName: SageMakerNameSchema.optional(),
  inServiceTimeout: DurationSchema.optional(),
});
export type RollbackInput = z.input<typeof RollbackInputSchema>;

export interface RollbackResult {
  endpointName: string;
  fromConfigName: string;
  toConfigName: string;
  /** False when the endpoint already served that config. */
  changed: boolean;
}

export const ROLLBACK_WORKFLOW_TYPE = 'rollbackEndpoint';
export type RollbackWorkflow = (input: RollbackInput) => Promise<RollbackResult>;
