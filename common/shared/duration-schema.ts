import { z } from 'zod';
import { isNonNegativeDuration, isPositiveDuration } from './durations';

/**
 * A positive duration string at a boundary (config, workflow and CLI input). Apart from durations.ts so
 * workflow code that only converts durations never loads zod (see workflows/idle/checks.ts for why that matters).
 */
export const DurationSchema = z
  .string()
  .refine(isPositiveDuration, { message: 'must be a positive duration such as "30s", "5m", "1h" or "2 days"' });

/** A duration that may be zero ("0s"), such as the idle grace period. */
export const NonNegativeDurationSchema = z
  .string()
  .refine(isNonNegativeDuration, { message: 'must be a duration such as "0s", "30m" or "2h"' });
