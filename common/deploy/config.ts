import { z } from 'zod';
import { configSection } from '../config/sections';
import { DurationSchema } from '../shared/duration-schema';
import { InstanceTypeSchema } from '../shared/schemas';
import { SERVING_CONTAINERS } from './images';

/**
 * Deploy's worker-side defaults (a run's input overrides most). The instance type is the shared
 * `sagemaker.inferenceInstanceType`; container settings are configuration, not code, because the
 * right max model length and GPU share depend on the model and the instance.
 */
export const AutoscalingSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    minInstances: z.number().int().min(1).max(100).default(1),
    maxInstances: z.number().int().min(1).max(100).default(2),
    /** Target tracking on SageMakerVariantInvocationsPerInstance (invocations per instance per minute). */
    targetInvocationsPerInstance: z.number().min(1).max(100_000).default(60),
    scaleInCooldown: DurationSchema.default('5m'),
    scaleOutCooldown: DurationSchema.default('1m'),
  })
  .refine((scaling) => scaling.maxInstances >= scaling.minInstances, {
    path: ['maxInstances'],
    message: 'must be at least minInstances',
  });

export const SmokeTestSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    prompt: z.string().min(1).max(4_000).default('In two sentences, what do you write about?'),
    maxTokens: z.number().int().min(1).max(4_096).default(32),
  })
  .prefault({});

export const DEPLOY_CONFIG = configSection({
  key: 'deploy',
  schema: z
    .strictObject({
      container: z.enum(SERVING_CONTAINERS).default('vllm'),
      /** An image of your own (or a newer tag) instead of the table's; the settings style follows `container`. */
      imageUri: z.string().min(1).max(512).optional(),
      /** Overrides the AMI the image implies (CUDA 13 images need al2-ami-sagemaker-inference-gpu-3-1). */
      inferenceAmiVersion: z.string().min(1).max(64).optional(),
      instanceCount: z.number().int().min(1).max(100).default(1),
      /**
       * What a local endpoint's record in the embedded SageMaker says it runs on: moto refuses GPU types
       * in endpoint configs, and a local endpoint costs nothing whatever it says.
       */
      localInstanceType: InstanceTypeSchema.default('ml.m5.large'),
      maxModelLength: z.number().int().min(128).max(1_048_576).default(4_096),
      gpuMemoryUtilization: z.number().gt(0).max(1).default(0.9),
      tensorParallelDegree: z.number().int().min(1).max(64).optional(),
      extraEnvironment: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string().max(1_024)).default({}),
      /** Endpoints legitimately take 5-15 min; a container that never answers its health check stays Creating for up to an hour. */
      inServiceTimeout: DurationSchema.default('60m'),
      autoscaling: AutoscalingSchema.prefault({}),
      smokeTest: SmokeTestSchema,
      /** How often a local endpoint publishes Invocations and ModelLatency to CloudWatch (SageMaker's own pace is a minute). */
      localMetricsInterval: DurationSchema.default('1m'),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_DEPLOY_CONTAINER', path: 'deploy.container', kind: 'string' },
    { name: 'LLMTWIN_DEPLOY_IMAGE_URI', path: 'deploy.imageUri', kind: 'string' },
    { name: 'LLMTWIN_DEPLOY_INSTANCE_COUNT', path: 'deploy.instanceCount', kind: 'number' },
    { name: 'LLMTWIN_DEPLOY_MAX_MODEL_LENGTH', path: 'deploy.maxModelLength', kind: 'number' },
    { name: 'LLMTWIN_DEPLOY_IN_SERVICE_TIMEOUT', path: 'deploy.inServiceTimeout', kind: 'string' },
    { name: 'LLMTWIN_DEPLOY_LOCAL_METRICS_INTERVAL', path: 'deploy.localMetricsInterval', kind: 'string' },
  ],
});
