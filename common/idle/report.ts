import type { IdleMonitorState, IdleMonitorStatus, IdlePolicy, IdleSummary, TeardownReport } from './contract';
import { costPerDayUsd, formatDuration, idleCostFigures, type IdleDecision } from './decision';

/** What the monitor shows (status query) and returns (summary), built from its state. Pure. */

function iso(ms: number | undefined | null): string | null {
  return ms === undefined || ms === null ? null : new Date(ms).toISOString();
}

export function buildStatus(input: {
  endpointName: string;
  state: IdleMonitorState;
  policy: IdlePolicy;
  decision: IdleDecision | undefined;
  deleting: boolean;
  now: number;
}): IdleMonitorStatus {
  const { state, decision, now } = input;
  const observation = state.observation;
  const deleteAt = decision?.action === 'wait' || decision?.action === 'delete' ? decision.deleteAt : undefined;
  const status = observation?.status ?? null;
  const view: IdleMonitorStatus['state'] = input.deleting
    ? 'deleting'
    : state.paused
      ? 'paused'
      : observation?.keep
        ? 'kept'
        : status !== 'InService'
          ? 'waiting'
          : 'watching';
  return {
    endpointName: input.endpointName,
    state: view,
    paused: state.paused,
    policy: input.policy,
    endpointStatus: status,
    lastCheck: state.lastCheck
      ? {
          at: new Date(state.lastCheck.at).toISOString(),
          action: state.lastCheck.action,
          reason: state.lastCheck.reason,
          source: state.lastCheck.source,
        }
      : null,
    lastInvocationAt: iso(state.lastInvocationAt),
    inServiceAt: iso(state.inServiceAt),
    deleteAt: state.paused ? null : iso(deleteAt),
    timeUntilDeletionMs: state.paused || deleteAt === undefined ? null : Math.max(0, deleteAt - now),
    costPerDayUsd: observation ? costPerDayUsd(observation.variants) : null,
    checks: state.checks,
    runs: state.runs,
    keepAlives: state.keepAlives,
    rejectedPolicy: state.rejectedPolicy ?? null,
    degraded: state.degraded ? { ...state.degraded, since: new Date(state.degraded.since).toISOString() } : null,
  };
}

export function buildSummary(input: {
  endpointName: string;
  outcome: IdleSummary['outcome'];
  state: IdleMonitorState;
  policy: IdlePolicy;
  teardown: TeardownReport | null;
  endedAt: number;
  reason?: string;
}): IdleSummary {
  const { state, endedAt } = input;
  const observation = input.outcome === 'deleted' ? state.observation : undefined;
  const figures = idleCostFigures(observation, state.inServiceAt, state.lastInvocationAt, endedAt);
  const message =
    input.outcome === 'deleted'
      ? `deleted ${input.endpointName}: ${input.reason ?? 'idle'}; ${figures.estimatedSavedPerDayUsd === null ? 'saving unknown (instance type not priced)' : `saves about $${figures.estimatedSavedPerDayUsd.toFixed(2)} a day`}`
      : state.observation
        ? `${input.endpointName} was deleted outside this monitor; nothing left to do`
        : `${input.endpointName} does not exist (this monitor never saw it): check the name and region`;
  return {
    endpointName: input.endpointName,
    outcome: input.outcome,
    message,
    endedAt: new Date(endedAt).toISOString(),
    creationTime: iso(state.observation?.creationTime),
    inServiceAt: iso(state.inServiceAt),
    lastInvocationAt: iso(state.lastInvocationAt),
    uptime: figures.uptimeMs === null ? null : formatDuration(figures.uptimeMs),
    ...figures,
    instances: state.observation?.variants ?? [],
    teardown: input.teardown,
    policy: input.policy,
    checks: state.checks,
    runs: state.runs,
    keepAlives: state.keepAlives,
    failedAttempts: state.failedAttempts ?? 0,
  };
}
