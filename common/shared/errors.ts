/**
 * Error types are an API: activities throw ApplicationFailures with one of these `type`s, workflows and
 * clients branch on them. Retryable kinds are retried by Temporal with backoff; the rest fail at once.
 */
export const ERROR_TYPES = {
  /** Bad input or a request AWS rejected as invalid: fix the input, then run again. */
  validation: 'ValidationError',
  /** Credentials or IAM policy do not allow the call. */
  accessDenied: 'AccessDenied',
  /** An account quota (instances, jobs) is exhausted. */
  quotaExceeded: 'QuotaExceeded',
  /** AWS has no capacity for the instance type right now. */
  capacity: 'CapacityError',
  /** A resource the call needs does not exist. */
  notFound: 'NotFound',
  /** A resource exists under our deterministic name but does not match what we would create. */
  conflict: 'ResourceConflict',
  /** Throttling, 5xx or network trouble: retried with backoff. */
  transient: 'TransientAwsError',
  /** A SageMaker job ended Failed. */
  jobFailed: 'JobFailed',
  /** A SageMaker job ended Stopped (someone stopped it): a cancellation, never a success. */
  jobStopped: 'JobStopped',
  /** An endpoint ended Failed, or did not come InService in time. */
  endpointFailed: 'EndpointFailed',
  /** A deployed endpoint answered the smoke test's prompt with an error or nothing usable. */
  smokeTestFailed: 'SmokeTestFailed',
} as const;

export type ErrorType = (typeof ERROR_TYPES)[keyof typeof ERROR_TYPES];

export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ERROR_TYPES.validation,
  ERROR_TYPES.accessDenied,
  ERROR_TYPES.quotaExceeded,
  ERROR_TYPES.capacity,
  ERROR_TYPES.notFound,
  ERROR_TYPES.conflict,
  ERROR_TYPES.jobFailed,
  ERROR_TYPES.jobStopped,
  ERROR_TYPES.endpointFailed,
  ERROR_TYPES.smokeTestFailed,
];
