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
  try {
    return msToNumber(value as Duration) > 0;
  } catch {
    return false;
  }
}
