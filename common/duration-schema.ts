import { z } from 'zod';
import { isPositiveDuration } from './durations';

/**
 * A positive duration string at a boundary (config, workflow and CLI input). Apart from durations.ts so
 * workflow code that only converts durations never loads zod (see workflows/idle.ts for why that matters).
 */
export const DurationSchema = z
  .string()
  .refine(isPositiveDuration, { message: 'must be a positive duration such as "30s", "5m", "1h" or "2 days"' });
