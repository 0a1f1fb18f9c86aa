import { z } from 'zod';
import { configSection } from '../config/sections';
import { DurationSchema } from '../shared/duration-schema';
import { EnvVarNameSchema, SecretArnSchema, SemverSchema } from '../shared/schemas';

/**
 * Fine-tune's worker-side defaults (a run's input overrides each). The preferred and fallback
 * instance types are in the shared `sagemaker` section, beside the other stages' instance types.
 */
export const FINE_TUNE_CONFIG = configSection({
  key: 'training',
  schema: z
    .strictObject({
      /** Base model when a fine-tune input names none: small, ungated, Apache-2.0, with a chat template. */
      baseModelId: z.string().min(1).default('Qwen/Qwen2.5-1.5B-Instruct'),
      /** Secrets Manager secret holding the Hugging Face token (plain string or {"HF_TOKEN": "..."}). */
      hfTokenSecretArn: SecretArnSchema.optional(),
      /** Otherwise the token is read from this variable of the worker's environment, when set there. */
      hfTokenEnvVar: EnvVarNameSchema.default('HF_TOKEN'),
      /** Managed spot training (up to ~70% cheaper; may wait for capacity). */
      spot: z.boolean().default(false),
      maxRuntime: DurationSchema.default('12h'),
      spotMaxWait: DurationSchema.default('24h'),
      volumeSizeGb: z.number().int().min(1).max(16_384).default(100),
      /** A row of common/fine-tune/images.ts, or an explicit image URI that wins over it. */
      transformersVersion: SemverSchema.default('4.56.2'),
      pytorchVersion: SemverSchema.default('2.8.0'),
      imageUri: z.string().min(1).optional(),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_TRAINING_BASE_MODEL', path: 'training.baseModelId', kind: 'string' },
    { name: 'LLMTWIN_HF_TOKEN_SECRET_ARN', path: 'training.hfTokenSecretArn', kind: 'string' },
    { name: 'LLMTWIN_HF_TOKEN_ENV_VAR', path: 'training.hfTokenEnvVar', kind: 'string' },
    { name: 'LLMTWIN_TRAINING_SPOT', path: 'training.spot', kind: 'boolean' },
    { name: 'LLMTWIN_TRAINING_MAX_RUNTIME', path: 'training.maxRuntime', kind: 'string' },
    { name: 'LLMTWIN_TRAINING_SPOT_MAX_WAIT', path: 'training.spotMaxWait', kind: 'string' },
    { name: 'LLMTWIN_TRAINING_VOLUME_GB', path: 'training.volumeSizeGb', kind: 'number' },
    { name: 'LLMTWIN_TRAINING_TRANSFORMERS_VERSION', path: 'training.transformersVersion', kind: 'string' },
    { name: 'LLMTWIN_TRAINING_PYTORCH_VERSION', path: 'training.pytorchVersion', kind: 'string' },
    { name: 'LLMTWIN_TRAINING_IMAGE_URI', path: 'training.imageUri', kind: 'string' },
  ],
});
