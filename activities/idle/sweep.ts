import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import {
  IDLE_MONITOR_ID_POLICIES,
  IDLE_MONITOR_WORKFLOW_TYPE,
  idleMonitorWorkflowId,
  observationOf,
  observeSignal,
  policyMs,
  statusQuery,
  type FoundObservation,
  type IdleMonitorInput,
  type IdlePolicy,
  type IdlePolicyMs,
} from '../../common/idle/contract';
import { costPerDayUsd, decideIdle, isNotMeasurable, nextInServiceAt } from '../../common/idle/decision';
import type { FleetRow, IdleSweepResult, OrphanReport } from '../../common/idle/sweep';
import { roundCents, type PricingConfig } from '../../common/shared/pricing';
import { listAllEndpoints } from '../aws/endpoints';
import type { LoadedEndpoint } from './endpoint-reads';
import { deleteOrphans, findOrphans, ORPHAN_SCAN_EVERY_MS, type InUse } from './orphans';
import { SweepReadCache, type SentReadings } from './sweep-cache';
import { canonicalJson } from '../../common/shared/canonical-json';
import { invocationTargets, readInvocations } from './invocations';
import { mapWithConcurrency } from '../../common/shared/concurrency';
import { describeWorkflowIfExists, runningWorkflowsOnQueue } from '../../platform/temporal-client';
import type { CloudWatchSender, SageMakerSender } from '../aws/clients';

export interface SweepDeps {
  sagemaker: SageMakerSender;
  cloudwatch: CloudWatchSender;
  pricing: PricingConfig;
  /** Names of resources llmtwin makes start with `<prefix>-`: where orphans are looked for. */
  resourceNamePrefix: string;
  /** How old an unused config or model must be to count as an orphan (default an hour; tests use 0). */
  orphanGraceMs?: number;
  /** How often a worker's sweeps look for orphans (default hourly; tests use 0: every sweep). */
  orphanScanEveryMs?: number;
  /** What this worker's earlier sweeps read; default: nothing (a one-off report reads everything). */
  readCache?: SweepReadCache;
  /** Concurrent SageMaker describes (AWS throttles Describe* at a few tens of calls a second). */
  describeConcurrency?: number;
  /** The client that starts and signals monitors; default: the worker's own, bound to its namespace. */
  temporalClient?: () => Client;
}

export interface SweepFleetInput {
  mode: 'ensure' | 'report';
  policy: IdlePolicy;
  deleteModel: boolean;
  /** The workflow's clock: metric windows end here (never this process's clock). */
  now: number;
  /** Queue the monitors run on (the sweep's own workflow queue). */
  taskQueue: string;
}

/** Endpoints being deleted or that failed to create bill nothing and need no monitor. */
const UNMONITORED_STATUSES = new Set(['Deleting', 'Failed']);
const MONITOR_CALL_CONCURRENCY = 16;

/**
 * One pass over the fleet: list, read what changed since this worker's last sweep (see sweep-cache.ts;
 * bounded concurrency), read every selected endpoint's
 * Invocations in ceil(variants / 500) GetMetricData calls, then either make sure each managed endpoint
 * has a running monitor (handing it this observation, so monitors need not read CloudWatch themselves)
 * or just report. Idempotent: a retry re-reads and re-signals; signalWithStart never makes a second
 * monitor. Heartbeats after each step, so a cancelled or lost sweep is noticed within a minute.
 */
export async function sweepFleet(deps: SweepDeps, input: SweepFleetInput, run: SweepRun = activityRun(deps)): Promise<IdleSweepResult> {
  const startedAt = Date.now();
  const context = { heartbeat: run.heartbeat };
  const { abortSignal } = run;
  // Every in-flight SDK call listens on the one cancellation signal: up to both pools' concurrency at once.
  setMaxListeners((deps.describeConcurrency ?? 8) + MONITOR_CALL_CONCURRENCY + 8, abortSignal);
  const { windowMs } = policyMs(input.policy);

  // Counted here: the figure a fleet's owner needs to see against the account's API rate limits.
  const counted = countingSender(deps.sagemaker);
  const sagemaker = counted.sender;
  const cache = deps.readCache ?? new SweepReadCache();

  const summaries = await listAllEndpoints(sagemaker, abortSignal);
  context.heartbeat({ step: 'listed', endpoints: summaries.length });
  const { loaded, reads } = await cache.refresh(sagemaker, summaries, {
    pricing: deps.pricing,
    now: input.now,
    concurrency: deps.describeConcurrency ?? 8,
    abortSignal,
    onProgress: (done, of) => {
      if (done % 50 === 0) context.heartbeat({ step: 'reading endpoints', done, of });
    },
  });
  const snapshots = loaded.map((endpoint) => endpoint.snapshot);
  const selected = input.mode === 'report' ? snapshots : snapshots.filter((snapshot) => snapshot.managed);

  // An asynchronous endpoint publishes no Invocations: unless the policy names its metric, there is nothing to ask.
  const targets = selected.flatMap((snapshot) => invocationTargets(snapshot, input.policy.asyncMetric));
  const invocations = await readInvocations(deps.cloudwatch, targets, { now: input.now, windowMs }, abortSignal);
  context.heartbeat({ step: 'metrics read', queries: targets.length, calls: invocations.calls });
  const observations = selected.map((snapshot) =>
    observationOf(snapshot, invocations.byEndpoint.get(snapshot.endpointName), input.now, windowMs, input.policy.asyncMetric),
  );

  const { client } = run;
  // One visibility listing instead of a describe per monitor (a thousand calls to Temporal each sweep).
  // Monitors started on another queue (the control queue, before the idle queue existed) are not
  // listed, and are described one by one, as they all are where the server cannot list.
  const listedRunning =
    (input.mode === 'ensure' ? await runningWorkflowsOnQueue(client, IDLE_MONITOR_WORKFLOW_TYPE, input.taskQueue) : undefined) ??
    new Map<string, string>();
  context.heartbeat({ step: 'monitors listed', running: listedRunning.size });
  const monitors = await mapWithConcurrency(observations, MONITOR_CALL_CONCURRENCY, async (observation, index) => {
    if (index % 100 === 0)
      context.heartbeat({ step: input.mode === 'ensure' ? 'ensuring monitors' : 'reading monitors', done: index, of: observations.length });
    if (input.mode === 'report') return readMonitor(client, observation.endpointName);
    if (UNMONITORED_STATUSES.has(observation.status))
      return { monitor: `none (endpoint ${observation.status})`, monitorState: null, deleteAt: null };
    return ensureMonitor(client, observation, input, cache.sentReadings, listedRunning);
  });

  const rows = observations.map((observation, index) =>
    toRow(
      observation,
      monitors[index] ?? { monitor: 'none', monitorState: null, deleteAt: null },
      input.now,
      windowMs,
      input.policy.asyncMetric,
    ),
  );

  const inUse = inUseBy(loaded);
  const orphans = await sweepOrphans(sagemaker, cache, inUse, deps, input, abortSignal);
  context.heartbeat({ step: 'orphans', ...orphans });
  cache.configs.keepOnly(new Set([...inUse.configs.keys(), ...inUse.rollbackConfigs]));
  return {
    mode: input.mode,
    observedAt: new Date(input.now).toISOString(),
    windowMs,
    endpoints: snapshots.length,
    managed: snapshots.filter((snapshot) => snapshot.managed).length,
    monitorsStarted: rows.filter((row) => row.monitor === 'started').length,
    monitorsAlreadyRunning: rows.filter((row) => row.monitor === 'running').length,
    monitorsSignalled: monitors.filter((view) => view.signalled).length,
    metricQueries: targets.length,
    getMetricDataCalls: invocations.calls,
    durationMs: Date.now() - startedAt,
    fleetCostPerDayUsd: roundCents(rows.reduce((total, row) => total + (row.costPerDayUsd ?? 0), 0)),
    rows,
    orphans,
    reads: { ...reads, sageMakerCalls: counted.calls() },
  };
}

/**
 * Orphans are looked for at most once per ORPHAN_SCAN_EVERY_MS per worker (two listings and a tag
 * read per candidate: at a thousand endpoints, more than the rest of a steady sweep), and at every
 * report. They bill nothing, so an hour's wait costs nothing.
 */
async function sweepOrphans(
  sagemaker: SageMakerSender,
  cache: SweepReadCache,
  inUse: InUse,
  deps: SweepDeps,
  input: SweepFleetInput,
  abortSignal: AbortSignal,
): Promise<OrphanReport> {
  const every = deps.orphanScanEveryMs ?? ORPHAN_SCAN_EVERY_MS;
  const due = input.mode === 'report' || cache.orphansScannedAt === undefined || input.now - cache.orphansScannedAt >= every;
  if (!due) return { endpointConfigs: [], models: [], deleted: false, scanned: false };
  const found = await findOrphans(
    sagemaker,
    inUse,
    {
      prefix: deps.resourceNamePrefix,
      now: input.now,
      readConfig: (name) => cache.configs.read(sagemaker, name, abortSignal),
      ...(deps.orphanGraceMs === undefined ? {} : { graceMs: deps.orphanGraceMs }),
    },
    abortSignal,
  );
  const deleteThem = input.mode === 'ensure' && found.endpointConfigs.length + found.models.length > 0;
  if (deleteThem) await deleteOrphans(sagemaker, found, abortSignal);
  cache.orphansScannedAt = input.now;
  return { ...found, deleted: deleteThem, scanned: true };
}

/** The sender, counting the calls sent through it (the SDK's retries of one call count once). */
function countingSender(sender: SageMakerSender): { sender: SageMakerSender; calls: () => number } {
  let calls = 0;
  const send = ((...args: Parameters<SageMakerSender['send']>) => {
    calls += 1;
    return sender.send(...args);
  }) as SageMakerSender['send'];
  return { sender: { send }, calls: () => calls };
}

/** What the listed endpoints use: the configs they serve (with those configs' models) and the ones they keep for a rollback. */
function inUseBy(loaded: LoadedEndpoint[]): InUse {
  const configs = new Map<string, string[] | undefined>();
  const rollbackConfigs = new Set<string>();
  for (const { endpoint, config, previousConfig } of loaded) {
    if (endpoint.EndpointConfigName)
      configs.set(
        endpoint.EndpointConfigName,
        config ? (config.ProductionVariants ?? []).flatMap((v) => (v.ModelName ? [v.ModelName] : [])) : undefined,
      );
    if (previousConfig) rollbackConfigs.add(previousConfig);
  }
  return { configs, rollbackConfigs };
}

/** Where a sweep runs: inside the sweep activity, or in the CLI's `endpoints list` (a report needs no workflow run). */
export interface SweepRun {
  heartbeat: (details: Record<string, unknown>) => void;
  abortSignal: AbortSignal;
  /** Starts, signals and queries the monitors. */
  client: Client;
}

function activityRun(deps: SweepDeps): SweepRun {
  const context = Context.current();
  return {
    heartbeat: (details) => context.heartbeat(details),
    abortSignal: context.cancellationSignal,
    client: deps.temporalClient?.() ?? context.client,
  };
}

interface MonitorView {
  monitor: string;
  monitorState: string | null;
  deleteAt: string | null;
  /** The monitor's own last invocation, keepAlive included (report mode). */
  lastInvocationAt?: number | null;
  /** Whether this sweep sent the monitor its reading (ensure mode). */
  signalled?: boolean;
}

/**
 * Describe first so the report can tell "started" from "already running"; then signalWithStart, which
 * attaches to a running monitor (or one another starter just created) and starts one otherwise: never
 * a second monitor for an endpoint.
 */
async function ensureMonitor(
  client: Client,
  observation: FoundObservation,
  input: SweepFleetInput,
  sentReadings: SentReadings,
  listedRunning: ReadonlyMap<string, string>,
): Promise<MonitorView> {
  const workflowId = idleMonitorWorkflowId(observation.endpointName);
  const fingerprint = readingFingerprint(observation);
  const ms = policyMs(input.policy);
  const deleteAt = deadlineOf(observation, ms, input);
  const isDue = (runId: string) =>
    sentReadings.isDue(observation.endpointName, { runId, fingerprint }, input.now, ms.checkIntervalMs, deleteAt);
  // Listed as running, and nothing to send it: no call at all. A listing seconds behind (a monitor that
  // just closed) only delays a restart to the next sweep; anything this sweep sends is decided on a describe.
  const listedRunId = listedRunning.get(workflowId);
  if (listedRunId !== undefined && !isDue(listedRunId)) return { monitor: 'running', monitorState: null, deleteAt: null, signalled: false };
  const previous = await describeWorkflowIfExists(client, workflowId);
  const wasRunning = previous?.status === 'RUNNING';
  if (wasRunning && !isDue(previous.runId)) return { monitor: 'running', monitorState: null, deleteAt: null, signalled: false };
  // A monitor that closed while this sweep ran has most likely just deleted the endpoint this sweep
  // listed a moment earlier: starting another would only find it gone. The next sweep decides.
  if (previous && !wasRunning && previous.closedAt !== undefined && previous.closedAt >= input.now) {
    return { monitor: `${previous.status.toLowerCase()} during this sweep`, monitorState: null, deleteAt: null };
  }
  const monitorInput: IdleMonitorInput = { endpointName: observation.endpointName, policy: input.policy, deleteModel: input.deleteModel };
  const handle = await client.workflow.signalWithStart(IDLE_MONITOR_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: input.taskQueue,
    workflowIdReusePolicy: IDLE_MONITOR_ID_POLICIES.workflowIdReusePolicy,
    args: [monitorInput],
    signal: observeSignal,
    signalArgs: [observation],
  });
  sentReadings.record(observation.endpointName, { at: input.now, runId: handle.signaledRunId, fingerprint });
  return { monitor: wasRunning ? 'running' : 'started', monitorState: null, deleteAt: null, signalled: true };
}

/** When the monitor would delete the endpoint by this reading under the sweep's policy, as it decides (decideIdle); undefined: never. */
function deadlineOf(observation: FoundObservation, ms: IdlePolicyMs, input: SweepFleetInput): number | undefined {
  return decideIdle({
    policy: ms,
    now: input.now,
    paused: false,
    status: observation.status,
    keep: observation.keep,
    asynchronous: isNotMeasurable(observation, input.policy.asyncMetric),
    inServiceAt: nextInServiceAt(undefined, observation),
    lastInvocationAt: observation.lastInvocationAt ?? undefined,
  }).deleteAt;
}

/** What in a reading can change a monitor's decision: all of it but the time it was made and the sliding count. */
function readingFingerprint(observation: FoundObservation): string {
  const { observedAt: _at, invocationsInWindow: _count, ...decisive } = observation;
  return canonicalJson(decisive);
}

async function readMonitor(client: Client, endpointName: string): Promise<MonitorView> {
  const workflowId = idleMonitorWorkflowId(endpointName);
  const status = (await describeWorkflowIfExists(client, workflowId))?.status;
  if (status !== 'RUNNING') return { monitor: status === undefined ? 'none' : status.toLowerCase(), monitorState: null, deleteAt: null };
  try {
    const monitorStatusView = await client.workflow.getHandle(workflowId).query(statusQuery);
    const lastInvocationAt = monitorStatusView.lastInvocationAt === null ? null : Date.parse(monitorStatusView.lastInvocationAt);
    return { monitor: 'running', monitorState: monitorStatusView.state, deleteAt: monitorStatusView.deleteAt, lastInvocationAt };
  } catch {
    // A monitor busy continuing-as-new or without a free worker cannot answer now; the row still says it runs.
    return { monitor: 'running', monitorState: null, deleteAt: null };
  }
}

function toRow(observation: FoundObservation, view: MonitorView, now: number, windowMs: number, asyncMetric?: string): FleetRow {
  const { lastInvocationAt: monitorsLast, signalled: _signalled, ...monitor } = view;
  // A keepAlive counts as an invocation: the monitor knows of it, CloudWatch does not.
  const known = [observation.lastInvocationAt, monitorsLast].filter((time): time is number => typeof time === 'number');
  const last = known.length > 0 ? Math.max(...known) : null;
  const provenIdle = Math.max(0, Math.min(windowMs, now - observation.creationTime));
  return {
    endpointName: observation.endpointName,
    status: observation.status,
    managed: observation.managed,
    keep: observation.keep,
    instances: observation.variants.map((variant) => `${variant.instanceCount} x ${variant.instanceType ?? 'serverless'}`).join(', '),
    lastInvocationAt: last === null ? null : new Date(last).toISOString(),
    idleMs: last === null ? provenIdle : Math.max(0, now - last),
    idleIsLowerBound: last === null,
    costPerDayUsd: costPerDayUsd(observation.variants),
    ...(isNotMeasurable(observation, asyncMetric) ? { idleMeasurable: false as const } : {}),
    ...monitor,
  };
}
