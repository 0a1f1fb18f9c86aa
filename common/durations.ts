import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

/**
 * One way to write durations everywhere (config, workflow inputs, activity options): the strings
 * Temporal itself accepts, such as `15s`, `5m`, `1h`, `2 days`, parsed by Temporal's own parser.
 */
export type DurationString = string;

export function durationToMs(value: DurationString | number): number {
  return msToNumber(value as Duration);
}

function isPositiveDuration(value: string): boolean {
  try {
    return msToNumber(value as Duration) > 0;
  } catch {
    return false;
  }
}

export const DurationSchema = z
  .string()
  .refine(isPositiveDuration, { message: 'must be a positive duration such as "30s", "5m", "1h" or "2 days"' });
