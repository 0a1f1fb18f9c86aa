import { HandlerUnfinishedPolicy } from '@temporalio/common';
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  metricMeter,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { IdleActivities, TeardownPlan } from '../../activities/idle';
import { AWS_CALL, IDLE_LOCAL_AWS_CALL, IDLE_LOCAL_TEARDOWN, TEARDOWN } from '../../common/shared/activity-options';
import {
  IDLE_MONITOR_STAGE,
  keepAliveSignal,
  observeSignal,
  pauseSignal,
  policyMs,
  policyProblem,
  resumeSignal,
  setPolicySignal,
  statusQuery,
  type FoundObservation,
  type IdleMonitorInput,
  type IdleMonitorState,
  type IdleSummary,
} from '../../common/idle/contract';
import {
  decideIdle,
  isNotMeasurable,
  isUsableObservation,
  laterOf,
  nextCheckDelayMs,
  nextInServiceAt,
  SWEEP_READING_TRUSTED_INTERVALS,
  type IdleDecision,
} from '../../common/idle/decision';
import { buildStatus, buildSummary } from '../../common/idle/report';
import { SEARCH_ATTRIBUTES } from '../../common/shared/search-attributes';
import { idleChecks } from './checks';

/**
 * The worker's Prometheus counters of what idle monitors saved: endpoints deleted as idle, and what they
 * cost a day (in cents: Temporal's counters count integers). Workflow metrics are not emitted on replay.
 */
function countDeletion(summary: IdleSummary): void {
  metricMeter.createCounter('llmtwin_idle_endpoints_deleted', 'endpoints', 'endpoints an idle monitor deleted').add(1);
  const saved = summary.estimatedSavedPerDayUsd;
  if (saved !== null && saved > 0) {
    metricMeter
      .createCounter('llmtwin_idle_saved_usd_cents_per_day', 'cents', 'what the endpoints deleted as idle cost a day, in US cents')
      .add(Math.round(saved * 100));
  }
}

const remoteReads = proxyActivities<IdleActivities>(AWS_CALL);
// A teardown is a handful of idempotent calls; retried as a whole, it finishes what a failed try began.
const remoteTeardown = proxyActivities<IdleActivities>(TEARDOWN);
const localReads = proxyLocalActivities<IdleActivities>(IDLE_LOCAL_AWS_CALL);
const localTeardown = proxyLocalActivities<IdleActivities>(IDLE_LOCAL_TEARDOWN);

/**
 * Runs started before it made their AWS calls as (remote) activities: three workflow tasks and two
 * activity tasks per deletion. Since, they are local activities (see IDLE_LOCAL_AWS_CALL): one
 * workflow task per deletion, which is what keeps a burst of deletions within one check interval.
 */
export const LOCAL_AWS_CALLS_PATCH = 'idle-monitor-local-aws-calls';

/**
 * Runs started before it took a sweep's reading for two intervals and looked again every interval,
 * so every sweep had to signal every monitor (a workflow task each). Since, a reading stands for
 * SWEEP_READING_TRUSTED_INTERVALS and the monitor sleeps to its deadline or until the reading goes
 * stale; the sweep signals only news, and re-sends an unchanged reading every third sweep.
 */
export const TRUSTS_SWEEP_READINGS_PATCH = 'idle-monitor-trusts-sweep-readings';

/** The monitor's three AWS calls as this run makes them: remote while replaying history from before the patch, local from there on. */
function awsCalls(): Pick<IdleActivities, 'observeEndpoint' | 'planEndpointTeardown' | 'teardownEndpoint'> {
  if (patched(LOCAL_AWS_CALLS_PATCH)) {
    return {
      observeEndpoint: localReads.observeEndpoint,
      planEndpointTeardown: localReads.planEndpointTeardown,
      teardownEndpoint: localTeardown.teardownEndpoint,
    };
  }
  return {
    observeEndpoint: remoteReads.observeEndpoint,
    planEndpointTeardown: remoteReads.planEndpointTeardown,
    teardownEndpoint: remoteTeardown.teardownEndpoint,
  };
}

/**
 * Runs started before it failed when an activity ran out of retries; since, a monitor whose AWS calls
 * keep failing reports itself degraded and tries again later: a loop that saves money must not die of
 * a brownout and leave the endpoint billing with nobody watching.
 */
export const SURVIVES_AWS_ERRORS_PATCH = 'idle-monitor-survives-aws-errors';

/** Runs started before it ended silently when cancelled; since, a cancel says the endpoint is left unwatched. */
export const CANCEL_SAYS_UNWATCHED_PATCH = 'idle-monitor-cancel-says-unwatched';

/** The policy's asyncMetric for the activities' reads, only when set (the input of older monitors' reads is unchanged). */
function asyncMetricOf(policy: { asyncMetric?: string }): { asyncMetric?: string } {
  return policy.asyncMetric ? { asyncMetric: policy.asyncMetric } : {};
}

/** Between teardown attempts that failed: doubling from 30 s, at most 10 min. */
function teardownBackoffMs(failures: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, failures - 1), 600_000);
}

/**
 * Watches one endpoint and deletes it once nobody has called it for a whole idle window (after the
 * grace period that protects new endpoints). Checks every interval with its own read, or with the
 * fleet sweep's observation while one is fresh; confirms with a fresh read right before deleting.
 * Completes with a summary when it deleted the endpoint or found it gone. An endpoint tagged
 * llmtwin:keep=true is never deleted: the monitor keeps running and reporting (a completed monitor
 * would only be restarted by the next sweep), so removing the tag brings the normal rules back.
 */
export async function idleMonitor(rawInput: IdleMonitorInput): Promise<IdleSummary> {
  const checks = idleChecks();
  const input = await checks.checkIdleMonitorInput(rawInput);
  const { endpointName } = input;
  let policy = input.policy;
  let ms = policyMs(policy);
  const state: IdleMonitorState = input.state
    ? { ...input.state, runs: input.state.runs + 1 }
    : { firstStartedAt: Date.now(), runs: 1, checks: 0, keepAlives: 0, paused: false };
  let decision: IdleDecision | undefined;
  let deleting = false;
  let wake = false;

  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.stage, value: IDLE_MONITOR_STAGE },
    { key: SEARCH_ATTRIBUTES.endpointName, value: endpointName },
  ]);

  setHandler(keepAliveSignal, () => {
    state.lastInvocationAt = laterOf(state.lastInvocationAt, Date.now());
    state.keepAlives += 1;
    wake = true;
  });
  setHandler(pauseSignal, () => {
    state.paused = true;
    wake = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    wake = true;
  });
  setHandler(setPolicySignal, async (patch) => {
    // A signal cannot be refused to its sender; a bad payload is recorded (status shows it), never fatal.
    const checked = await checks.checkPolicyPatch(patch);
    if (!checked.accepted) {
      state.rejectedPolicy = checked.reason;
      log.warn('setPolicy refused', { endpointName, reason: state.rejectedPolicy });
      return;
    }
    // Each field was checked on its own; the one rule across fields is checked on the merged policy.
    const merged = { ...policy, ...checked.patch };
    const problem = policyProblem(merged);
    if (problem) {
      state.rejectedPolicy = problem;
      log.warn('setPolicy refused', { endpointName, reason: problem });
      return;
    }
    policy = merged;
    ms = policyMs(policy);
    state.rejectedPolicy = undefined;
    wake = true;
  });
  setHandler(
    observeSignal,
    async (raw) => {
      // Only found observations stand in for a read: "gone" is something the monitor verifies itself.
      const observation = await checks.checkSweepObservation(raw);
      if (!observation) return;
      if (state.observation && observation.observedAt < state.observation.observedAt) return;
      state.observation = observation;
      state.observationFrom = 'sweep';
      wake = true;
    },
    // A reading still being checked when the monitor ends (it just deleted the endpoint) is of no use.
    { unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON },
  );
  setHandler(statusQuery, () => buildStatus({ endpointName, state, policy, decision, deleting, now: Date.now() }));

  const finish = (outcome: IdleSummary['outcome'], teardown: IdleSummary['teardown'], reason?: string) =>
    buildSummary({ endpointName, outcome, state, policy, teardown, endedAt: Date.now(), ...(reason ? { reason } : {}) });

  const record = (observation: FoundObservation, from: 'monitor' | 'sweep') => {
    state.observation = observation;
    state.observationFrom = from;
    state.inServiceAt = nextInServiceAt(state.inServiceAt, observation);
    state.lastInvocationAt = laterOf(state.lastInvocationAt, observation.lastInvocationAt);
  };
  const decide = () =>
    decideIdle({
      policy: ms,
      now: Date.now(),
      paused: state.paused,
      status: state.observation?.status ?? 'unknown',
      keep: state.observation?.keep ?? false,
      asynchronous: isNotMeasurable(state.observation, policy.asyncMetric),
      inServiceAt: state.inServiceAt,
      lastInvocationAt: state.lastInvocationAt,
    });

  /** The activity's value, or undefined after recording the failure (its retries spent) as degraded; cancellation passes. */
  const surviving = async <T>(during: 'check' | 'teardown', call: () => Promise<T>): Promise<T | undefined> => {
    try {
      const value = await call();
      delete state.degraded;
      return value;
    } catch (error) {
      if (isCancellation(error) || !patched(SURVIVES_AWS_ERRORS_PATCH)) throw error;
      const lastError = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
      state.degraded = {
        since: state.degraded?.since ?? Date.now(),
        failures: (state.degraded?.failures ?? 0) + 1,
        during,
        lastError,
      };
      state.failedAttempts = (state.failedAttempts ?? 0) + 1;
      log.warn('AWS calls failed; the monitor goes on degraded and tries again', { endpointName, during, lastError });
      return undefined;
    }
  };

  /**
   * A teardown that has begun runs to the end: not cancellable, and tried again (it is idempotent) until
   * it finishes, so a cancel or a failing DeleteEndpointConfig never leaves the config and model orphaned.
   */
  const teardownToTheEnd = (plan: TeardownPlan) =>
    CancellationScope.nonCancellable(async () => {
      for (;;) {
        const report = await surviving('teardown', () => awsCalls().teardownEndpoint({ plan, deleteModel: input.deleteModel }));
        if (report) return report;
        await sleep(teardownBackoffMs(state.degraded?.failures ?? 1));
      }
    });

  const continueIfDue = async (checksThisRun: number) => {
    if (checksThisRun >= input.maxChecksPerRun || workflowInfo().continueAsNewSuggested) {
      // Handlers wait on their checks: let them land in this run's state before carrying it over. Signals
      // that arrive while the continue-as-new is recorded make the server retry this task with them first.
      await condition(allHandlersFinished);
      await continueAsNew<typeof idleMonitor>({ ...input, policy, state });
    }
  };
  /** A brownout of days must not grow one run's history without bound either. */
  const waitAfterFailure = async (checksThisRun: number) => {
    await continueIfDue(checksThisRun);
    await condition(() => wake, ms.checkIntervalMs);
  };

  const watch = async (): Promise<IdleSummary> => {
    for (let checksThisRun = 1; ; checksThisRun += 1) {
      // Signal payloads are checked in local activities: decide only once every pending check has landed
      // (at the first check, the sweep's observation that came with signalWithStart).
      await condition(allHandlersFinished);
      wake = false;
      const now = Date.now();
      let source: 'monitor' | 'sweep' = 'sweep';
      const trustedIntervals = patched(TRUSTS_SWEEP_READINGS_PATCH) ? SWEEP_READING_TRUSTED_INTERVALS : 2;
      const fromSweep = isUsableObservation(state.observation, ms, now, { asyncMetric: policy.asyncMetric, trustedIntervals });
      if (state.observationFrom === 'sweep' && fromSweep && state.observation) {
        record(state.observation, 'sweep');
      } else {
        source = 'monitor';
        const observation = await surviving('check', () =>
          awsCalls().observeEndpoint({ endpointName, windowMs: ms.windowMs, now, ...asyncMetricOf(policy) }),
        );
        if (!observation) {
          // Nothing learnt this time: look again at the next interval (sooner if a signal arrives).
          await waitAfterFailure(checksThisRun);
          continue;
        }
        if (!observation.found) return finish('already-deleted', null);
        record(observation, 'monitor');
      }
      state.checks += 1;
      decision = decide();

      if (decision.action === 'delete') {
        deleting = true;
        // Never delete on old or second-hand data: read again, decide again, then tear down.
        const confirmed = await surviving('check', () =>
          awsCalls().planEndpointTeardown({ endpointName, windowMs: ms.windowMs, now: Date.now(), ...asyncMetricOf(policy) }),
        );
        if (!confirmed) {
          deleting = false;
          await waitAfterFailure(checksThisRun);
          continue;
        }
        if (!confirmed.observation.found) return finish('already-deleted', null);
        record(confirmed.observation, 'monitor');
        decision = decide();
        if (decision.action === 'delete' && confirmed.plan) {
          const teardown = await teardownToTheEnd(confirmed.plan);
          const summary = finish('deleted', teardown, decision.reason);
          countDeletion(summary);
          return summary;
        }
        deleting = false;
      }
      state.lastCheck = {
        at: now,
        action: decision.action,
        reason: decision.reason,
        source,
        ...(decision.deleteAt === undefined ? {} : { deleteAt: decision.deleteAt }),
      };

      await continueIfDue(checksThisRun);
      // Fed by the sweep (runs since the patch): the next look is at the deadline or when its reading goes stale.
      const staleAt =
        state.observationFrom === 'sweep' && trustedIntervals > 2 && state.observation
          ? state.observation.observedAt + trustedIntervals * ms.checkIntervalMs
          : undefined;
      await condition(() => wake, nextCheckDelayMs(decision, ms, Date.now(), staleAt));
    }
  };

  try {
    return await watch();
  } catch (error) {
    // Cancelled while watching (the Web UI, or stop-monitor): the endpoint stays up and bills with
    // nobody watching it. Say so where a person looks: the run's memo and the worker's log.
    if (isCancellation(error) && !deleting && patched(CANCEL_SAYS_UNWATCHED_PATCH)) {
      const message = `cancelled: ${endpointName} stays up, unwatched, until something else deletes it (the next fleet sweep, if scheduled, starts a new monitor)`;
      upsertMemo({ summary: message });
      log.warn(message, { endpointName });
    }
    throw error;
  }
}
