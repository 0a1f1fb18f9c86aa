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

/**
 * The one workflow id every sweep of a queue runs its pass under (as a child of the run that was
 * started): Temporal runs at most one execution of an id at a time, so two sweeps never overlap.
 */
export function exclusiveSweepWorkflowId(taskQueue: string): string {
  return `idle-sweep-${taskQueue}-exclusive`;
}

/** A sweep that read nothing (it was skipped). */
export function emptySweepResult(mode: IdleSweepResult['mode'], now: number): IdleSweepResult {
  return {
    mode,
    observedAt: new Date(now).toISOString(),
    windowMs: 0,
    endpoints: 0,
    managed: 0,
    monitorsStarted: 0,
    monitorsAlreadyRunning: 0,
    metricQueries: 0,
    getMetricDataCalls: 0,
    durationMs: 0,
    fleetCostPerDayUsd: 0,
    rows: [],
    orphans: { endpointConfigs: [], models: [], deleted: false, scanned: false },
  };
}

/**
 * The most rows a sweep's result carries through workflow history. Its rows pass through the activity's
 * result, the exclusive child's and the sweep's own (each a payload): at about 260 bytes a row, 3,000
 * rows were 780 KB, over Temporal's 512 KB warning, and near 7,500 they would pass its 2 MB limit and fail
 * the sweep. 1,000 rows stay near 260 KB. `endpoints list` runs in the CLI and shows every endpoint.
 */
export const SWEEP_RESULT_MAX_ROWS = 1000;

/**
 * A result with at most `maxRows` rows: the ones a person needs first (endpoints whose monitor is not
 * simply running: just started, none, closed), then the most expensive, in the sweep's own order.
 */
export function boundSweepRows(result: IdleSweepResult, maxRows = SWEEP_RESULT_MAX_ROWS): IdleSweepResult {
  if (result.rows.length <= maxRows) return result;
  const ranked = result.rows
    .map((row, index) => ({ row, index }))
    .sort(
      (a, b) =>
        Number(a.row.monitor === 'running') - Number(b.row.monitor === 'running') ||
        (b.row.costPerDayUsd ?? 0) - (a.row.costPerDayUsd ?? 0) ||
        a.index - b.index,
    );
  const kept = ranked
    .slice(0, maxRows)
    .sort((a, b) => a.index - b.index)
    .map(({ row }) => row);
  return { ...result, rows: kept, rowsOmitted: result.rows.length - kept.length };
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
  /** false for an asynchronous inference endpoint: it publishes no Invocations, so it is never deleted as idle. */
  idleMeasurable?: false;
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
  /** Monitors this sweep sent its reading to: the new, those it had news for, and a share of the rest (absent in older results). */
  monitorsSignalled?: number;
  metricQueries: number;
  getMetricDataCalls: number;
  durationMs: number;
  fleetCostPerDayUsd: number;
  rows: FleetRow[];
  /** Rows left out of a result that travels through workflow history (see boundSweepRows); absent: none. */
  rowsOmitted?: number;
  /** Managed endpoint configs and models that nothing uses (older than an hour): deleted by an `ensure` sweep, listed by a report. */
  orphans: OrphanReport;
  /** What the sweep read from SageMaker and what it knew already (absent in results of older versions). */
  reads?: SweepReads;
  /** Set when another sweep of the same queue was running: this one read nothing and changed nothing. */
  skipped?: { runningSweep: string };
}

export interface OrphanReport {
  endpointConfigs: string[];
  models: string[];
  deleted: boolean;
  /** Whether this sweep looked (an ensure sweep looks once an hour per worker, a report always); absent in older results. */
  scanned?: boolean;
}

/**
 * Where a sweep's SageMaker reads went. An endpoint is read (DescribeEndpoint, ListTags, and
 * DescribeEndpointConfig for a config not read before) only when it is new or ListEndpoints shows it
 * changed; otherwise the worker's memory of the last sweep stands.
 */
export interface SweepReads {
  /** Endpoints ListEndpoints returned. */
  listed: number;
  /** Unchanged since this worker's last sweep: nothing read. */
  reused: number;
  /** New, changed or recreated: described and tags read. */
  loaded: number;
  /** Unchanged, but tags read again (tagged keep, or tags an hour old). */
  tagsReread: number;
  /** Known from the last sweep, no longer listed: forgotten. */
  dropped: number;
  /** Every SageMaker call of the sweep: list pages, reads, orphan scan and deletions. */
  sageMakerCalls: number;
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
export function formatIdle(row: Pick<FleetRow, 'idleMs' | 'idleIsLowerBound' | 'idleMeasurable'>): string {
  if (row.idleMeasurable === false) return 'not measurable';
  return `${row.idleIsLowerBound ? '>= ' : ''}${formatDuration(row.idleMs)}`;
}
