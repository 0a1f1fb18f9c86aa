import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { EndpointObservation, FoundObservation, IdleMonitorInput, IdlePolicy, IdlePolicyPatch, VariantSnapshot } from './schemas';

export type {
  EndpointObservation,
  FoundObservation,
  IdleMonitorInput,
  IdleMonitorState,
  IdlePolicy,
  IdlePolicyInput,
  IdlePolicyPatch,
  ParsedIdleMonitorInput,
  VariantSnapshot,
} from './schemas';

/**
 * The idle monitor's contract: what starts it, what it carries across continue-as-new, the signals and
 * query people and the sweep send it, and what it returns. Pure, workflow-safe and free of zod (its
 * schemas are in schemas.ts); the decision maths live in decision.ts, the fleet sweep's contract in
 * sweep.ts.
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

export { policyFromConfig, policyMs, policyProblem, type IdlePolicyMs } from './policy';

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
export function observationOf(
  state: EndpointState,
  reading: InvocationReading | undefined,
  now: number,
  windowMs: number,
  /** The metric an asynchronous endpoint's reading counted (the policy's asyncMetric), if it was read. */
  asyncMetric?: string,
): FoundObservation {
  const { found, endpointName, status, creationTime, lastModifiedTime, endpointConfigName, variants, managed, keep, asynchronous } = state;
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
    ...(asynchronous ? { asynchronous } : {}),
    ...(asynchronous && asyncMetric ? { measuredBy: asyncMetric } : {}),
    lastInvocationAt: reading?.lastInvocationAt ?? null,
    invocationsInWindow: reading?.invocations ?? 0,
  };
}

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
  /** Checks or teardown attempts that failed on AWS errors and were tried again later. */
  failedAttempts: number;
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
  /** While AWS calls keep failing: since when, how many times in a row, during what, the last error. The monitor goes on. */
  degraded: { since: string; failures: number; during: 'check' | 'teardown'; lastError: string } | null;
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

/** The workflow's signature: what clients start by type name (the CLI never imports workflow code). */
export type IdleMonitorWorkflow = (input: IdleMonitorInput) => Promise<IdleSummary>;
