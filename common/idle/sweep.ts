import { formatDuration } from './decision';
import { DEFAULT_TASK_QUEUE, taskQueuesFor } from '../shared/task-queues';

import type { IdleSweepInput } from './schemas';

export type { IdleSweepInput, ParsedIdleSweepInput } from './schemas';

/**
 * The fleet sweep's contract. One `idleSweep` run lists the account's endpoints, reads all their
 * Invocations metrics in batched GetMetricData calls, and either makes sure every endpoint tagged
 * llmtwin:managed=true has a running monitor (mode `ensure`, what the Schedule runs) or only reports
 * on every endpoint (mode `report`, what `llmtwin endpoints list` shows).
 */

export const IDLE_SWEEP_WORKFLOW_TYPE = 'idleSweep';
export const IDLE_SWEEP_STAGE = 'idle-sweep';
/** The workflow's signature: what clients start by type name (the CLI never imports workflow code). */
export type IdleSweepWorkflow = (input?: IdleSweepInput) => Promise<IdleSweepResult>;
/** One schedule per namespace and task queue; `llmtwin endpoints schedule` creates or updates it. */
export const IDLE_SWEEP_SCHEDULE_ID = 'llmtwin-idle-sweep';

/**
 * `llmtwin-idle-sweep` for the default idle queue (and for the default control queue, where the sweep
 * ran before the idle queue existed, so updating the schedule moves it), `llmtwin-idle-sweep-<queue>`
 * for any other.
 */
export function idleSweepScheduleId(taskQueue: string): string {
  const isDefault = taskQueue === DEFAULT_TASK_QUEUE || taskQueue === taskQueuesFor(DEFAULT_TASK_QUEUE).idle;
  return isDefault ? IDLE_SWEEP_SCHEDULE_ID : `${IDLE_SWEEP_SCHEDULE_ID}-${taskQueue}`;
}

/** GetMetricData takes at most 500 metric queries per call. */
export const MAX_METRIC_QUERIES_PER_CALL = 500;

/** One line of the fleet report. */
export interface FleetRow {
  endpointName: string;
  status: string;
  managed: boolean;
  keep: boolean;
  instances: string;
  lastInvocationAt: string | null;
  /** Time since the last invocation; when none is in the window, the time the window proves (a lower bound). */
  idleMs: number;
  idleIsLowerBound: boolean;
  costPerDayUsd: number | null;
  /** started: this sweep started it; running: it was already running; none: no monitor; or the closed monitor's status. */
  monitor: string;
  /** From the running monitor's status query (report mode). */
  monitorState: string | null;
  deleteAt: string | null;
}

export interface IdleSweepResult {
  mode: 'ensure' | 'report';
  observedAt: string;
  windowMs: number;
  endpoints: number;
  managed: number;
  monitorsStarted: number;
  monitorsAlreadyRunning: number;
  metricQueries: number;
  getMetricDataCalls: number;
  durationMs: number;
  fleetCostPerDayUsd: number;
  rows: FleetRow[];
  /** Managed endpoint configs and models that nothing uses (older than an hour): deleted by an `ensure` sweep, listed by a report. */
  orphans: OrphanReport;
}

export interface OrphanReport {
  endpointConfigs: string[];
  models: string[];
  deleted: boolean;
}

/** ceil(n / 500): the fewest GetMetricData calls that read n metrics. */
export function metricCallsFor(metricQueries: number): number {
  return Math.ceil(metricQueries / MAX_METRIC_QUERIES_PER_CALL);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** `>= 1h 00m` when no invocation is in the window (a lower bound), `12m 05s` otherwise. */
export function formatIdle(row: Pick<FleetRow, 'idleMs' | 'idleIsLowerBound'>): string {
  return `${row.idleIsLowerBound ? '>= ' : ''}${formatDuration(row.idleMs)}`;
}
