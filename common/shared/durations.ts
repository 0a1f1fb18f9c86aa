import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';

/**
 * One way to write durations everywhere (config, workflow inputs, activity options): the strings
 * Temporal itself accepts, such as `15s`, `5m`, `1h`, `2 days`, parsed by Temporal's own parser.
 */
export type DurationString = string;

export function durationToMs(value: DurationString | number): number {
  return msToNumber(value as Duration);
}

/** Whether `value` is a duration Temporal's parser accepts and longer than zero. */
export function isPositiveDuration(value: string): boolean {
  return msOrNaN(value) > 0;
}

/** Like isPositiveDuration, with zero allowed ("0s"). */
export function isNonNegativeDuration(value: string): boolean {
  return msOrNaN(value) >= 0;
}

/** NaN for what Temporal's parser rejects, so every comparison with it is false. */
function msOrNaN(value: string): number {
  try {
    return msToNumber(value as Duration);
  } catch {
    return Number.NaN;
  }
}
