import type { LlmtwinConfig } from '../config';
import { durationToMs, isPositiveDuration } from '../shared/durations';
import type { IdlePolicy } from './schemas';

/**
 * The idle policy in numbers, and its one rule across fields. Apart from the contract so that the config
 * schema can check the rule without loading the workflow SDK (what `llmtwin config` starts in depends on it).
 */

export interface IdlePolicyMs {
  checkIntervalMs: number;
  windowMs: number;
  graceMs: number;
}

export function policyMs(policy: IdlePolicy): IdlePolicyMs {
  const windowMs = durationToMs(policy.window);
  return {
    checkIntervalMs: durationToMs(policy.checkInterval),
    windowMs,
    graceMs: policy.grace === undefined ? windowMs : durationToMs(policy.grace),
  };
}

/**
 * Why a policy cannot be used, or undefined: a window shorter than the check interval would let an
 * endpoint sit idle for up to an interval past its window (and makes no sense as a rule).
 */
export function policyProblem(policy: Pick<IdlePolicy, 'checkInterval' | 'window'>): string | undefined {
  // A value that is no duration at all is its field's own problem, reported there.
  if (!isPositiveDuration(policy.window) || !isPositiveDuration(policy.checkInterval)) return undefined;
  if (durationToMs(policy.window) >= durationToMs(policy.checkInterval)) return undefined;
  return `window (${policy.window}) is shorter than checkInterval (${policy.checkInterval}): make the window at least one interval`;
}

export function policyFromConfig(idle: LlmtwinConfig['idle']): IdlePolicy {
  return {
    checkInterval: idle.checkInterval,
    window: idle.window,
    ...(idle.grace === undefined ? {} : { grace: idle.grace }),
    ...(idle.asyncMetric === undefined ? {} : { asyncMetric: idle.asyncMetric }),
  };
}
