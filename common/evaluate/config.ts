import { z } from 'zod';
import { configSection } from '../config/sections';
import { DurationSchema } from '../shared/duration-schema';
import { GATE_METRICS } from './gate';

/**
 * Evaluate's worker-side defaults (a run's input overrides each). The instance type is the shared
 * `sagemaker.processingInstanceType`; the image is training's (`training.*Version`), so the job scores
 * with the libraries the model was trained with.
 */
export const EVALUATE_CONFIG = configSection({
  key: 'evaluation',
  schema: z
    .strictObject({
      maxRuntime: DurationSchema.default('4h'),
      volumeSizeGb: z.number().int().min(1).max(16_384).default(100),
      /** Held-out pairs scored per model: a few hundred generations bound the job's time on one GPU. */
      maxSamples: z.number().int().min(1).max(10_000).default(200),
      /** The champion/challenger rule's metric, and how much worse (relative) still passes. */
      primaryMetric: z.enum(GATE_METRICS).default('perplexity'),
      tolerance: z.number().min(0).max(1).default(0.02),
      /** How long a manual approval waits for a person by default. */
      approvalTimeout: DurationSchema.default('72h'),
    })
    .prefault({}),
  envVars: [
    { name: 'LLMTWIN_EVALUATION_MAX_RUNTIME', path: 'evaluation.maxRuntime', kind: 'string' },
    { name: 'LLMTWIN_EVALUATION_VOLUME_GB', path: 'evaluation.volumeSizeGb', kind: 'number' },
    { name: 'LLMTWIN_EVALUATION_MAX_SAMPLES', path: 'evaluation.maxSamples', kind: 'number' },
    { name: 'LLMTWIN_EVALUATION_PRIMARY_METRIC', path: 'evaluation.primaryMetric', kind: 'string' },
    { name: 'LLMTWIN_EVALUATION_TOLERANCE', path: 'evaluation.tolerance', kind: 'number' },
    { name: 'LLMTWIN_EVALUATION_APPROVAL_TIMEOUT', path: 'evaluation.approvalTimeout', kind: 'string' },
  ],
});
