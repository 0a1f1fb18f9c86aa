import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import type { LlmtwinConfig } from './config';
import { DurationSchema, durationToMs } from './durations';
import { SAGEMAKER_NAME_MAX, SAGEMAKER_NAME_PATTERN } from './naming';

/**
 * The idle monitor's contract: what starts it, what it carries across continue-as-new, the signals and
 * query people and the sweep send it, and what it returns. Pure and workflow-safe; the decision maths
 * live in idle-decision.ts, the fleet sweep's contract in idle-sweep.ts.
 */

export const IDLE_MONITOR_WORKFLOW_TYPE = 'idleMonitor';
export const IDLE_MONITOR_STAGE = 'idle-monitor';

/**
 * One monitor per endpoint: the workflow id is derived from the endpoint name alone, so a second start
 * for the same endpoint finds the first (see IDLE_MONITOR_ID_POLICIES). Endpoint names are unique per
 * account and region, and one llmtwin deployment serves one region (config.aws.region).
 */
export function idleMonitorWorkflowId(endpointName: string): string {
  return `idle-monitor-${endpointName}`;
}

/**
 * How every starter (CLI, sweep, deployment stage) starts a monitor:
 * - conflict USE_EXISTING: starting while one runs returns the running one (idempotent, never a second);
 * - reuse ALLOW_DUPLICATE: once a monitor has closed (its endpoint deleted, or it failed), an endpoint
 *   re-created under the same name gets a fresh monitor.
 * Client starters use signalWithStart (it always attaches to a running workflow). A workflow starting
 * the monitor as a child uses parentClosePolicy ABANDON and treats WorkflowExecutionAlreadyStartedError
 * as "already monitored".
 */
export const IDLE_MONITOR_ID_POLICIES = {
  workflowIdConflictPolicy: 'USE_EXISTING',
  workflowIdReusePolicy: 'ALLOW_DUPLICATE',
} as const;

const EndpointNameSchema = z
  .string()
  .max(SAGEMAKER_NAME_MAX)
  .regex(SAGEMAKER_NAME_PATTERN, 'must be a SageMaker endpoint name (letters, digits, single hyphens, at most 63 characters)');

/** Zero is allowed for grace (no protection for new endpoints); not for interval or window. */
const GraceSchema = z
  .string()
  .refine(
    (value) => {
      try {
        return durationToMs(value) >= 0;
      } catch {
        return false;
      }
    },
    { message: 'must be a duration such as "0s", "30m" or "2h"' },
  );

/** Idle policy. Defaults match config.idle; starters pass config.idle explicitly (policyFromConfig). */
export const IdlePolicySchema = z.object({
  /** How often the monitor checks the endpoint. */
  checkInterval: DurationSchema.default('5m'),
  /** A whole window with no invocations makes an endpoint idle. */
  window: DurationSchema.default('60m'),
  /** Protection after the endpoint went InService; unset means one window. */
  grace: GraceSchema.optional(),
});
export type IdlePolicy = z.output<typeof IdlePolicySchema>;
export type IdlePolicyInput = z.input<typeof IdlePolicySchema>;

/** The `setPolicy` signal's payload: any subset of the policy. */
export const IdlePolicyPatchSchema = z
  .object({ checkInterval: DurationSchema.optional(), window: DurationSchema.optional(), grace: GraceSchema.optional() })
  .strict()
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), { message: 'give at least one of checkInterval, window, grace' });
export type IdlePolicyPatch = z.input<typeof IdlePolicyPatchSchema>;

export interface IdlePolicyMs {
  checkIntervalMs: number;
  windowMs: number;
  graceMs: number;
}

export function policyMs(policy: IdlePolicy): IdlePolicyMs {
  const windowMs = durationToMs(policy.window);
  return { checkIntervalMs: durationToMs(policy.checkInterval), windowMs, graceMs: policy.grace === undefined ? windowMs : durationToMs(policy.grace) };
}

export function policyFromConfig(idle: LlmtwinConfig['idle']): IdlePolicy {
  return { checkInterval: idle.checkInterval, window: idle.window, ...(idle.grace === undefined ? {} : { grace: idle.grace }) };
}

const VariantSchema = z.object({
  variantName: z.string(),
  /** Absent for serverless variants, which have no instances to price. */
  instanceType: z.string().optional(),
  instanceCount: z.number().int().nonnegative(),
  /** Price of one instance of this type (config.pricing over the built-in table); absent if unknown. */
  usdPerInstanceHour: z.number().nonnegative().optional(),
});
export type VariantSnapshot = z.output<typeof VariantSchema>;

/**
 * What one look at an endpoint found: SageMaker's view plus the Invocations metric over a window
 * ending at `observedAt`. Made by the monitor's own check or by the fleet sweep (the `observe` signal).
 * Times are epoch milliseconds.
 */
export const FoundObservationSchema = z.object({
  found: z.literal(true),
  endpointName: z.string(),
  observedAt: z.number(),
  /** Length of the metric window that ends at observedAt. */
  windowMs: z.number().nonnegative(),
  status: z.string(),
  creationTime: z.number(),
  lastModifiedTime: z.number(),
  endpointConfigName: z.string().optional(),
  variants: z.array(VariantSchema),
  managed: z.boolean(),
  keep: z.boolean(),
  /** End of the last 1-minute metric period with invocations inside the window; null when none. */
  lastInvocationAt: z.number().nullable(),
  invocationsInWindow: z.number().nonnegative(),
});
export const EndpointObservationSchema = z.discriminatedUnion('found', [
  z.object({ found: z.literal(false), endpointName: z.string(), observedAt: z.number() }),
  FoundObservationSchema,
]);
export type EndpointObservation = z.output<typeof EndpointObservationSchema>;
export type FoundObservation = z.output<typeof FoundObservationSchema>;

/** SageMaker's side of an observation: what a describe of the endpoint (and its tags) tells. */
export type EndpointState = Omit<FoundObservation, 'observedAt' | 'windowMs' | 'lastInvocationAt' | 'invocationsInWindow'>;
/** CloudWatch's side: one endpoint's Invocations over the window. */
export interface InvocationReading {
  invocations: number;
  lastInvocationAt: number | null;
}

/**
 * One observation from both sides, as the monitor's own check and the fleet sweep make it. No datapoints
 * (no reading) means no invocations; fields beyond EndpointState (such as an ARN) are left out.
 */
export function observationOf(state: EndpointState, reading: InvocationReading | undefined, now: number, windowMs: number): FoundObservation {
  const { found, endpointName, status, creationTime, lastModifiedTime, endpointConfigName, variants, managed, keep } = state;
  return {
    found,
    endpointName,
    observedAt: now,
    windowMs,
    status,
    creationTime,
    lastModifiedTime,
    ...(endpointConfigName === undefined ? {} : { endpointConfigName }),
    variants,
    managed,
    keep,
    lastInvocationAt: reading?.lastInvocationAt ?? null,
    invocationsInWindow: reading?.invocations ?? 0,
  };
}

export const CheckActionSchema = z.enum(['delete', 'wait', 'keep']);

/** Everything the monitor knows; carried through continue-as-new in the input's `state`. */
export const IdleMonitorStateSchema = z.object({
  firstStartedAt: z.number(),
  runs: z.number().int().positive(),
  checks: z.number().int().nonnegative(),
  keepAlives: z.number().int().nonnegative(),
  paused: z.boolean(),
  /** When the endpoint first went InService, as far as this monitor knows; fixes the grace period. */
  inServiceAt: z.number().optional(),
  /** Latest invocation seen in metrics, or a keepAlive. */
  lastInvocationAt: z.number().optional(),
  lastCheck: z
    .object({ at: z.number(), action: CheckActionSchema, reason: z.string(), source: z.enum(['monitor', 'sweep']), deleteAt: z.number().optional() })
    .optional(),
  /** The newest observation of the endpoint (from this monitor's own check or from the sweep). */
  observation: FoundObservationSchema.optional(),
  /** Who made it: a sweep's observation stands in for the monitor's own read while it is fresh. */
  observationFrom: z.enum(['monitor', 'sweep']).optional(),
  /** Why the last `setPolicy` was refused, if it was. */
  rejectedPolicy: z.string().optional(),
});
export type IdleMonitorState = z.output<typeof IdleMonitorStateSchema>;

export const IdleMonitorInputSchema = z.object({
  endpointName: EndpointNameSchema,
  policy: IdlePolicySchema.prefault({}),
  /** Delete the model(s) the endpoint serves when they are ours (tagged llmtwin:managed=true). */
  deleteModel: z.boolean().default(true),
  /** Continue-as-new after this many checks (well before the history grows large). */
  maxChecksPerRun: z.number().int().min(1).max(5_000).default(200),
  /** Carried across continue-as-new; leave unset when starting a monitor. */
  state: IdleMonitorStateSchema.optional(),
});
export type IdleMonitorInput = z.input<typeof IdleMonitorInputSchema>;
export type ParsedIdleMonitorInput = z.output<typeof IdleMonitorInputSchema>;

/** What was torn down (or deliberately left) when the monitor deleted an idle endpoint. */
export interface TeardownReport {
  endpointDeleted: boolean;
  scalingPoliciesDeleted: string[];
  scalableTargetsDeregistered: string[];
  endpointConfig: { name: string; deleted: boolean; reason: string } | null;
  models: Array<{ name: string; deleted: boolean; reason: string }>;
}

export interface IdleSummary {
  endpointName: string;
  /** deleted: the monitor deleted it; already-deleted: it was gone when looked at. */
  outcome: 'deleted' | 'already-deleted';
  message: string;
  endedAt: string;
  creationTime: string | null;
  inServiceAt: string | null;
  lastInvocationAt: string | null;
  /** Creation to deletion. */
  uptime: string | null;
  uptimeMs: number | null;
  /** From the last invocation (or InService) to deletion. */
  idleMs: number | null;
  estimatedIdleCostUsd: number | null;
  estimatedSavedPerDayUsd: number | null;
  instances: VariantSnapshot[];
  teardown: TeardownReport | null;
  policy: IdlePolicy;
  checks: number;
  runs: number;
  keepAlives: number;
}

export interface IdleMonitorStatus {
  endpointName: string;
  /** watching | paused | kept (llmtwin:keep=true) | waiting (endpoint not InService) | deleting */
  state: 'watching' | 'paused' | 'kept' | 'waiting' | 'deleting';
  paused: boolean;
  policy: IdlePolicy;
  endpointStatus: string | null;
  lastCheck: { at: string; action: string; reason: string; source: string } | null;
  lastInvocationAt: string | null;
  inServiceAt: string | null;
  /** Null while paused or kept, or before the endpoint is InService. */
  deleteAt: string | null;
  timeUntilDeletionMs: number | null;
  costPerDayUsd: number | null;
  checks: number;
  runs: number;
  keepAlives: number;
  rejectedPolicy: string | null;
}

/** Counts as an invocation now: pushes the deletion one window away. */
export const keepAliveSignal = defineSignal('keepAlive');
/** Never delete until resumed (checks go on, so status stays current). */
export const pauseSignal = defineSignal('pause');
/** Back to normal rules; idle time is not reset (send keepAlive for that). */
export const resumeSignal = defineSignal('resume');
/** Change interval, window or grace; the payload is validated with IdlePolicyPatchSchema. */
export const setPolicySignal = defineSignal<[IdlePolicyPatch]>('setPolicy');
/** A fresh observation from the fleet sweep, so monitors need not each read CloudWatch. */
export const observeSignal = defineSignal<[EndpointObservation]>('observe');
export const statusQuery = defineQuery<IdleMonitorStatus>('status');
