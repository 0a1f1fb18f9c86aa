import type { ActivityOptions, LocalActivityOptions } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';

/**
 * Activity option presets, next to nothing else so every proxy reads the same way. Every activity has
 * a start-to-close timeout; every long one heartbeats. Retries back off; the error types that mean
 * "a person must act" are never retried.
 */
const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/** Single AWS control-plane calls (describe, create, delete, tag): quick, retried on throttling/5xx. */
export const AWS_CALL: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8, nonRetryableErrorTypes },
};

/** Waiting on a long SageMaker operation by polling inside the activity: heartbeats every poll. */
export const LONG_WAIT: ActivityOptions = {
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '3m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 20, nonRetryableErrorTypes },
};

/** CPU-heavy data work on the data queue: heartbeats progress, resumes from its last heartbeat. */
export const DATA_WORK: ActivityOptions = {
  startToCloseTimeout: '6h',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 5, nonRetryableErrorTypes },
};

/** Cleanup after a cancellation: must run even though the workflow is being cancelled. */
export const CLEANUP: ActivityOptions = {
  ...AWS_CALL,
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
};

/**
 * Boundary checks run as local activities (pure, in-process, milliseconds): a validation error is
 * final; anything else (a worker hiccup) is tried again a few times.
 */
export const LOCAL_CHECK: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes },
};
