import { z } from 'zod';
import { DEPLOY_CONFIG } from '../deploy/config';
import { EVALUATE_CONFIG } from '../evaluate/config';
import { FINE_TUNE_CONFIG } from '../fine-tune/config';
import { IDLE_CONFIG } from '../idle/config';
import { PREPARE_DATA_CONFIG, PREPARE_THREADS_CONFIG, SOURCES_CONFIG } from '../prepare-data/config';
import { unknownInstanceTypeProblem } from '../shared/instance-types';
import { SageMakerNameSchema } from '../shared/schemas';
import type { EnvVarSpec, LeafPaths } from './sections';
import {
  AWS_CONFIG,
  COMPUTE_CONFIG,
  LOG_CONFIG,
  POLLING_CONFIG,
  PRICING_CONFIG,
  S3_CONFIG,
  SAGEMAKER_CONFIG,
  TEMPORAL_CONFIG,
  WORKER_CONFIG,
} from './shared-sections';

/**
 * Everything a worker or the CLI needs, composed here from the shared sections and one section per
 * stage (common/<stage>/config.ts; a new stage adds its line below). Strict at every level: an unknown
 * key in the config file is an error naming it. Defaults point at the embedded local stack (`npm run
 * dev -- start`): the Temporal dev server on 7233 and moto on 5055. Pure: the loader that reads the
 * environment and the optional JSON file is platform/config.ts.
 */
const SECTIONS = [
  TEMPORAL_CONFIG,
  AWS_CONFIG,
  S3_CONFIG,
  SAGEMAKER_CONFIG,
  COMPUTE_CONFIG,
  POLLING_CONFIG,
  WORKER_CONFIG,
  LOG_CONFIG,
  PRICING_CONFIG,
  PREPARE_DATA_CONFIG,
  SOURCES_CONFIG,
  PREPARE_THREADS_CONFIG,
  FINE_TUNE_CONFIG,
  EVALUATE_CONFIG,
  DEPLOY_CONFIG,
  IDLE_CONFIG,
] as const;

export const ConfigSchema = z
  .strictObject({
    temporal: TEMPORAL_CONFIG.schema,
    aws: AWS_CONFIG.schema,
    s3: S3_CONFIG.schema,
    sagemaker: SAGEMAKER_CONFIG.schema,
    compute: COMPUTE_CONFIG.schema,
    polling: POLLING_CONFIG.schema,
    worker: WORKER_CONFIG.schema,
    log: LOG_CONFIG.schema,
    pricing: PRICING_CONFIG.schema,
    [PREPARE_DATA_CONFIG.key]: PREPARE_DATA_CONFIG.schema,
    [SOURCES_CONFIG.key]: SOURCES_CONFIG.schema,
    [PREPARE_THREADS_CONFIG.key]: PREPARE_THREADS_CONFIG.schema,
    [FINE_TUNE_CONFIG.key]: FINE_TUNE_CONFIG.schema,
    [EVALUATE_CONFIG.key]: EVALUATE_CONFIG.schema,
    [DEPLOY_CONFIG.key]: DEPLOY_CONFIG.schema,
    [IDLE_CONFIG.key]: IDLE_CONFIG.schema,
    /** Starts every SageMaker name of ours (resourceName), so two deployments in one account never collide. */
    resourceNamePrefix: SageMakerNameSchema.max(20).default('llmtwin'),
  })
  .superRefine((config, ctx) => {
    const { sagemaker } = config;
    const configuredTypes: Array<[string[], string]> = [
      [['sagemaker', 'trainingInstanceType'], sagemaker.trainingInstanceType],
      ...sagemaker.trainingInstanceFallbacks.map((type, index): [string[], string] => [
        ['sagemaker', 'trainingInstanceFallbacks', String(index)],
        type,
      ]),
      [['sagemaker', 'processingInstanceType'], sagemaker.processingInstanceType],
      [['sagemaker', 'inferenceInstanceType'], sagemaker.inferenceInstanceType],
    ];
    for (const [path, type] of configuredTypes) {
      const problem = unknownInstanceTypeProblem(type, sagemaker.extraInstanceTypes);
      if (problem) ctx.addIssue({ code: 'custom', path, message: problem });
    }
    if (config.aws.target === 'aws' && !config.sagemaker.executionRoleArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['sagemaker', 'executionRoleArn'],
        message: 'is required when aws.target is "aws": set LLMTWIN_SAGEMAKER_ROLE_ARN to a role SageMaker can assume',
      });
    }
  });

export type LlmtwinConfig = z.output<typeof ConfigSchema>;
export type LlmtwinConfigInput = z.input<typeof ConfigSchema>;
/** Every settable field, as a dotted path (`idle.window`). */
export type ConfigFieldPath = LeafPaths<LlmtwinConfig>;

/**
 * Environment variables and the field each sets: standard AWS and Temporal names where they exist,
 * `LLMTWIN_*` otherwise. Typed against the schema, so an entry can only name a real field.
 */
export const ENV_VARS: ReadonlyArray<EnvVarSpec<ConfigFieldPath>> = [
  ...SECTIONS.flatMap((section): ReadonlyArray<EnvVarSpec<ConfigFieldPath>> => section.envVars),
  { name: 'LLMTWIN_RESOURCE_PREFIX', path: 'resourceNamePrefix', kind: 'string' },
];
