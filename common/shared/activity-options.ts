import type { ActivityOptions, LocalActivityOptions } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';

/**
 * Activity option presets, next to nothing else so every proxy reads the same way: every
 * `proxyActivities` in workflows/ takes one of these by name (test/unit/shared/activity-presets.test.ts
 * checks it; only `taskQueue` may be added, to route a stage's work to its queue). Every activity has
 * a start-to-close timeout and a heartbeat timeout: the workers keep each one heartbeating while it
 * runs (workers/heartbeat-interceptor.ts), so a killed worker's activity is retried elsewhere within
 * seconds, not after its whole start-to-close timeout. Retries back off; the error types that mean
 * "a person must act" are never retried.
 */
const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** Single AWS control-plane calls (describe, create, delete, tag): quick, retried on throttling/5xx. */
export const AWS_CALL: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8, nonRetryableErrorTypes },
};

/** A few AWS reads plus a small upload (planning a job: reading the manifest, staging the training code). */
export const AWS_SETUP: ActivityOptions = { ...AWS_CALL, startToCloseTimeout: '5m' };

/**
 * Creates a billable resource (a training job). On cancellation the workflow waits for the attempt in
 * flight to really finish before its cleanup runs, so a job created at that moment is still found and stopped.
 */
export const AWS_CREATE: ActivityOptions = { ...AWS_CALL, cancellationType: 'WAIT_CANCELLATION_COMPLETED' };

/**
 * Waiting on a long SageMaker operation by polling inside the activity: heartbeats its progress every
 * poll, and the worker keeps it heartbeating between polls, so a worker that died is noticed (and the
 * wait resumed elsewhere, from its last heartbeat) within 30 s.
 * Polling is only reading, so on cancellation the workflow moves on to its cleanup at once (TRY_CANCEL).
 */
export const LONG_WAIT: ActivityOptions = {
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '30s',
  cancellationType: 'TRY_CANCEL',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 20, nonRetryableErrorTypes },
};

/**
 * CPU-heavy data work on the data queue: heartbeats progress. A minute, not seconds: its synchronous
 * stretches hold the event loop (2.3 s at most on a 40 MB corpus, bench/prepare-data.ts), and they grow
 * with the corpus; a false timeout would start a retry beside an attempt that still runs. A killed data
 * worker's build is reported by the worker that restarts on its machine (workers/attempt-journal.ts)
 * and retried at once, from its checkpoint; only a worker on another machine waits out the minute.
 */
export const DATA_WORK: ActivityOptions = {
  startToCloseTimeout: '6h',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 5, nonRetryableErrorTypes },
};

/**
 * Stopping a job after a cancellation: must run even though the workflow is being cancelled, and
 * SageMaker takes minutes to stop one (SIGTERM, 120 s grace, upload), which the activity waits out.
 */
export const STOP_JOB: ActivityOptions = { ...AWS_CALL, startToCloseTimeout: '30m', heartbeatTimeout: '30s' };

/**
 * Changing an endpoint and waiting for it to settle: undoing a deployment (its endpoint may first have
 * to finish Creating or Updating) or rolling back to an earlier config. Minutes to an hour; heartbeats.
 */
export const ENDPOINT_CHANGE: ActivityOptions = { ...AWS_CALL, startToCloseTimeout: '3h', heartbeatTimeout: '30s' };

/** Deleting an endpoint with its autoscaling, config and models: a handful of idempotent calls, retried as a whole. */
export const TEARDOWN: ActivityOptions = { ...AWS_CALL, startToCloseTimeout: '5m' };

/**
 * The idle monitor's AWS calls (its own read, the confirming read and plan, the teardown) as local
 * activities: each runs inside the workflow task that needs it, so a deletion costs one workflow task
 * instead of three plus two activity tasks. With a thousand monitors on one small worker, workflow
 * tasks (each a history replay when the monitor is not cached) are what a burst of deletions waits
 * on. Same retries as AWS_CALL and TEARDOWN; a worker that dies mid-call has its workflow task run
 * again elsewhere, which runs the (idempotent) call again.
 */
export const IDLE_LOCAL_AWS_CALL: LocalActivityOptions = {
  startToCloseTimeout: '2m',
  retry: AWS_CALL.retry,
  // A retry that waits longer than this waits on a workflow timer, not in the worker's memory: a
  // brownout of minutes holds no workflow task open.
  localRetryThreshold: '1s',
};
export const IDLE_LOCAL_TEARDOWN: LocalActivityOptions = { ...IDLE_LOCAL_AWS_CALL, startToCloseTimeout: '5m' };

/**
 * One pass over the whole fleet in one activity, which keeps the sweep's history at a few events however
 * large the fleet is. It heartbeats after each step; a sweep is a snapshot, so a retry starts over.
 */
export const FLEET_SWEEP: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 3, nonRetryableErrorTypes },
};

/**
 * Boundary checks run as local activities (pure, in-process, milliseconds): a validation error is
 * final; anything else (a worker hiccup) is tried again a few times.
 */
export const LOCAL_CHECK: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes },
};
