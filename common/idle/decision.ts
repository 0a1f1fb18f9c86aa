import type { EndpointObservation, FoundObservation, IdlePolicyMs, VariantSnapshot } from './contract';
import { roundCents } from '../shared/pricing';

/**
 * The idle monitor's functional core: when is an endpoint idle, when to look again, what it cost.
 * No I/O and no clock: `now` is always passed in (the workflow's time), so the same inputs give the
 * same answer in a workflow, a replay, a test or the sweep.
 */

export interface IdleDecisionInput {
  policy: IdlePolicyMs;
  now: number;
  paused: boolean;
  /** SageMaker status of the endpoint, e.g. InService. */
  status: string;
  keep: boolean;
  /** No metric to judge it by: an asynchronous inference endpoint without the policy's asyncMetric (isNotMeasurable). */
  asynchronous?: boolean;
  /** When the endpoint went InService (fixes the grace period); undefined before it has. */
  inServiceAt: number | undefined;
  /** Latest invocation known (metrics or keepAlive); undefined when none was ever seen. */
  lastInvocationAt: number | undefined;
}

export interface IdleDecision {
  action: 'delete' | 'wait' | 'keep';
  reason: string;
  /** When the endpoint becomes deletable if nothing changes; absent when it never will (paused, kept, not InService). */
  deleteAt?: number;
}

/**
 * Missing datapoints count as zero invocations, so an endpoint is deletable once both
 *   - the grace period after InService is over (inServiceAt + grace), and
 *   - a whole window has passed since the last invocation (lastInvocation + window).
 * Only an InService endpoint is ever deleted: one that is Creating or Updating is mid-change, and a
 * Failed or OutOfService one needs a person, not a janitor.
 */
export function decideIdle(input: IdleDecisionInput): IdleDecision {
  const { policy, now } = input;
  if (input.keep) return { action: 'keep', reason: 'tagged llmtwin:keep=true: never deleted' };
  if (input.asynchronous) {
    return {
      action: 'keep',
      reason:
        "not measurable: an asynchronous inference endpoint publishes no Invocations metric, so it is never deleted as idle (set the policy's asyncMetric, e.g. InvocationsProcessed, to judge it by that, or scale it to zero with its own autoscaling)",
    };
  }
  if (input.status !== 'InService' || input.inServiceAt === undefined) {
    return { action: 'wait', reason: `endpoint is ${input.status}; only an InService endpoint is deleted` };
  }
  const graceEndsAt = input.inServiceAt + policy.graceMs;
  const windowEndsAt = input.lastInvocationAt === undefined ? Number.NEGATIVE_INFINITY : input.lastInvocationAt + policy.windowMs;
  const deleteAt = Math.max(graceEndsAt, windowEndsAt);
  if (input.paused) return { action: 'wait', reason: 'paused: resume to allow deletion' };
  if (now >= deleteAt) {
    const reason =
      input.lastInvocationAt === undefined
        ? `no invocations in the window and the grace period ended ${formatDuration(now - graceEndsAt)} ago`
        : `idle for ${formatDuration(now - input.lastInvocationAt)} (window ${formatDuration(policy.windowMs)})`;
    return { action: 'delete', reason, deleteAt };
  }
  const reason =
    deleteAt === graceEndsAt && graceEndsAt > windowEndsAt ? 'in the grace period after InService' : 'invoked within the window';
  return { action: 'wait', reason, deleteAt };
}

/**
 * The next look: one check interval away, or sooner when the deletion deadline comes first, so an
 * endpoint is deleted at the end of its idle window rather than up to an interval later.
 */
export function nextCheckDelayMs(decision: IdleDecision, policy: IdlePolicyMs, now: number, staleAt?: number): number {
  const untilDeadline = decision.action === 'wait' && decision.deleteAt !== undefined ? decision.deleteAt - now : Number.POSITIVE_INFINITY;
  // Fed by the sweep, the monitor needs no look of its own until the sweep's reading goes stale: the
  // sweep signals whenever it has news, and the deadline is known.
  const cap = staleAt === undefined ? policy.checkIntervalMs : staleAt - now;
  return Math.max(1_000, Math.min(cap, untilDeadline));
}

/**
 * How many check intervals a sweep's reading stands for the monitor (runs since the patch
 * idle-monitor-trusts-sweep-readings; two before). The sweep sends a reading whenever it differs from
 * the one it sent last, and an unchanged one again every third sweep (SWEEP_RESENDS_EVERY), so five
 * leaves two intervals of slack for a late sweep.
 */
export const SWEEP_READING_TRUSTED_INTERVALS = 5;
export const SWEEP_RESENDS_EVERY = 3;

/** The grace period starts once: at the first InService seen (the endpoint's LastModifiedTime then). */
export function nextInServiceAt(previous: number | undefined, observation: EndpointObservation): number | undefined {
  if (previous !== undefined) return previous;
  if (!observation.found || observation.status !== 'InService') return undefined;
  return Math.min(observation.lastModifiedTime, observation.observedAt);
}

/** Latest invocation known: metrics can only move it forward (a keepAlive may be newer than metrics). */
export function laterOf(a: number | undefined, b: number | null | undefined): number | undefined {
  if (b === null || b === undefined) return a;
  return a === undefined ? b : Math.max(a, b);
}

/**
 * Whether the monitor may decide from this observation instead of reading AWS itself: it must cover
 * the monitor's window and be recent. Stale data can only make an endpoint look idler than it is, and
 * every deletion is confirmed with a fresh read first, so "recent" is generous: `trustedIntervals`
 * intervals (two by default; SWEEP_READING_TRUSTED_INTERVALS for runs since the patch).
 */
export function isUsableObservation(
  observation: EndpointObservation | undefined,
  policy: IdlePolicyMs,
  now: number,
  options: { asyncMetric?: string | undefined; trustedIntervals?: number } = {},
): observation is EndpointObservation {
  if (!observation) return false;
  if (now - observation.observedAt > (options.trustedIntervals ?? 2) * policy.checkIntervalMs) return false;
  if (!observation.found) return true;
  // A sweep with another policy did not read the metric this monitor judges an asynchronous endpoint by.
  const { asyncMetric } = options;
  if (observation.asynchronous && asyncMetric !== undefined && observation.measuredBy !== asyncMetric) return false;
  return observation.windowMs >= policy.windowMs;
}

/**
 * Whether this observation cannot tell if the endpoint is idle: an asynchronous endpoint publishes no
 * Invocations, so only a reading of the policy's asyncMetric can.
 */
export function isNotMeasurable(observation: FoundObservation | undefined, asyncMetric: string | undefined): boolean {
  if (!observation?.asynchronous) return false;
  return asyncMetric === undefined || observation.measuredBy !== asyncMetric;
}

export interface HourlyCost {
  /** Sum over variants of price x instances; null when any variant's type has no price. */
  usdPerHour: number | null;
  unpricedTypes: string[];
}

export function hourlyCost(variants: readonly VariantSnapshot[]): HourlyCost {
  let usdPerHour = 0;
  const unpricedTypes: string[] = [];
  for (const variant of variants) {
    if (variant.instanceCount === 0) continue;
    if (variant.usdPerInstanceHour === undefined) {
      unpricedTypes.push(variant.instanceType ?? `${variant.variantName} (serverless)`);
      continue;
    }
    usdPerHour += variant.usdPerInstanceHour * variant.instanceCount;
  }
  return { usdPerHour: unpricedTypes.length > 0 ? null : usdPerHour, unpricedTypes };
}

export function costPerDayUsd(variants: readonly VariantSnapshot[]): number | null {
  const { usdPerHour } = hourlyCost(variants);
  return usdPerHour === null ? null : roundCents(usdPerHour * 24);
}

export interface IdleCostFigures {
  uptimeMs: number | null;
  idleMs: number | null;
  estimatedIdleCostUsd: number | null;
  estimatedSavedPerDayUsd: number | null;
}

/** Uptime from creation, idle time from the last invocation (or InService) to `endedAt`, and their cost. */
export function idleCostFigures(
  observation: FoundObservation | undefined,
  inServiceAt: number | undefined,
  lastInvocationAt: number | undefined,
  endedAt: number,
): IdleCostFigures {
  if (!observation) return { uptimeMs: null, idleMs: null, estimatedIdleCostUsd: null, estimatedSavedPerDayUsd: null };
  const { usdPerHour } = hourlyCost(observation.variants);
  const idleSince = laterOf(inServiceAt, lastInvocationAt);
  const idleMs = idleSince === undefined ? null : Math.max(0, endedAt - idleSince);
  return {
    uptimeMs: Math.max(0, endedAt - observation.creationTime),
    idleMs,
    estimatedIdleCostUsd: usdPerHour === null || idleMs === null ? null : roundCents((usdPerHour * idleMs) / 3_600_000),
    estimatedSavedPerDayUsd: usdPerHour === null ? null : roundCents(usdPerHour * 24),
  };
}

/** `1h 05m`, `12m 30s`, `45s`: short and exact enough for people. */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.max(0, Math.round(ms / 1000));
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const pad = (value: number) => String(value).padStart(2, '0');
  if (days > 0) return `${days}d ${pad(hours)}h`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m`;
  if (minutes > 0) return `${minutes}m ${pad(seconds)}s`;
  return `${seconds}s`;
}
