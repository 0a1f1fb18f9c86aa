import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES, type ErrorType } from '../../common/shared/errors';

/**
 * The one AWS error classifier. An SDK error becomes either a retryable ApplicationFailure (throttling,
 * 5xx, network: Temporal retries it with backoff) or a non-retryable one whose type says what kind of
 * problem it is and whose message says what a person should do.
 */

export interface AwsCallContext {
  /** The API operation, e.g. `CreateTrainingJob`. */
  operation: string;
  /** What the call was about, e.g. `training job llmtwin-train-...`. */
  resource?: string;
}

export interface Classification {
  type: ErrorType;
  retryable: boolean;
  advice: string;
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'PriorRequestNotComplete',
]);

const ACCESS_NAMES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'AuthFailure',
]);

const NOT_FOUND_NAMES = new Set([
  'ResourceNotFound',
  'ResourceNotFoundException',
  'NoSuchKey',
  'NoSuchBucket',
  'NotFound',
  'ObjectNotFound',
  'ObjectNotFoundException',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

/** AWS slowing the caller down (any service's way of saying so): retried with backoff. */
export function isThrottlingError(error: unknown): boolean {
  const err = (error ?? {}) as SdkLikeError;
  const status = err.$metadata?.httpStatusCode;
  return (
    THROTTLING_NAMES.has(err.name ?? '') ||
    Boolean(err.$retryable?.throttling) ||
    /rate exceeded|throttl/i.test(err.message ?? '') ||
    status === 429
  );
}

export function classifyAwsError(error: unknown): Classification {
  const err = (error ?? {}) as SdkLikeError;
  const name = err.name ?? '';
  const message = err.message ?? '';
  const status = err.$metadata?.httpStatusCode;

  if (isThrottlingError(err)) {
    return { type: ERROR_TYPES.transient, retryable: true, advice: 'AWS is throttling; retrying with backoff' };
  }
  if (isNetworkError(err)) {
    return { type: ERROR_TYPES.transient, retryable: true, advice: 'network error reaching AWS; retrying with backoff' };
  }
  if (ACCESS_NAMES.has(name) || status === 403) {
    return {
      type: ERROR_TYPES.accessDenied,
      retryable: false,
      advice: "check the worker's AWS credentials and that its IAM policy (and the SageMaker execution role) allow this call",
    };
  }
  if (name === 'ResourceLimitExceeded' || /ResourceLimitExceeded|service quota|account-level service limit/i.test(message)) {
    return {
      type: ERROR_TYPES.quotaExceeded,
      retryable: false,
      advice: 'request a quota increase in Service Quotas or choose another instance type',
    };
  }
  if (/InsufficientCapacity|insufficient capacity|CapacityError/i.test(name + ' ' + message)) {
    return {
      type: ERROR_TYPES.capacity,
      retryable: false,
      advice: 'AWS has no capacity for this instance type now; try another type or region, or later',
    };
  }
  if (
    NOT_FOUND_NAMES.has(name) ||
    status === 404 ||
    (name === 'ValidationException' && /could not find|does not exist|not found/i.test(message))
  ) {
    return {
      type: ERROR_TYPES.notFound,
      retryable: false,
      advice: 'the resource does not exist; check the name, or that an earlier stage created it',
    };
  }
  if (err.$fault === 'server' || (status !== undefined && status >= 500)) {
    return { type: ERROR_TYPES.transient, retryable: true, advice: 'AWS answered with a server error; retrying with backoff' };
  }
  if (status !== undefined && status >= 400) {
    return {
      type: ERROR_TYPES.validation,
      retryable: false,
      advice: 'AWS rejected the request as invalid; fix the input named in the message',
    };
  }
  if (err.$fault === 'client') {
    return { type: ERROR_TYPES.validation, retryable: false, advice: 'AWS rejected the request; fix the input named in the message' };
  }
  // Unknown shapes (bugs, SDK deserialization trouble) are retried: a bounded retry policy ends them.
  return { type: ERROR_TYPES.transient, retryable: true, advice: 'unexpected error; retrying' };
}

export function isNetworkError(error: unknown): boolean {
  const err = (error ?? {}) as SdkLikeError;
  if (err.code && NETWORK_CODES.has(err.code)) return true;
  if (['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError'].includes(err.name ?? '')) return true;
  const cause = err.cause as SdkLikeError | undefined;
  return Boolean(cause && cause !== err && cause.code && NETWORK_CODES.has(cause.code));
}

/** Wraps an AWS SDK error as an ApplicationFailure carrying its classification and the original cause. */
export function toAwsFailure(error: unknown, context: AwsCallContext): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const classification = classifyAwsError(error);
  const err = (error ?? {}) as SdkLikeError;
  const target = context.resource ? ` (${context.resource})` : '';
  const reason = (err.message ?? String(error)).replace(/\.+\s*$/, '');
  const message = `${context.operation}${target} failed: ${err.name ?? 'Error'}: ${reason}. ${classification.advice}.`;
  const facts = {
    operation: context.operation,
    ...(context.resource ? { resource: context.resource } : {}),
    awsErrorName: err.name,
    httpStatusCode: err.$metadata?.httpStatusCode,
    // What AWS support asks for; also in the failure's details, which the Web UI shows.
    requestId: err.$metadata?.requestId,
    errorType: classification.type,
    retryable: classification.retryable,
  };
  logFailedCall(facts, message);
  return ApplicationFailure.create({
    type: classification.type,
    message,
    nonRetryable: !classification.retryable,
    cause: error instanceof Error ? error : undefined,
    details: [
      {
        awsErrorName: err.name,
        httpStatusCode: err.$metadata?.httpStatusCode,
        operation: context.operation,
        requestId: err.$metadata?.requestId,
      },
    ],
  });
}

/**
 * Inside an activity, a structured log line per failed call: the activity logger adds the workflow id,
 * run id, activity type (the stage's step) and task queue. Outside one (the CLI) there is no such logger.
 */
function logFailedCall(facts: Record<string, unknown>, message: string): void {
  let logger: { warn(message: string, meta: Record<string, unknown>): void };
  try {
    logger = Context.current().log;
  } catch {
    return;
  }
  logger.warn(`AWS call failed: ${message}`, facts);
}

/** Runs one AWS call and converts anything it throws through the classifier. */
export async function awsCall<T>(context: AwsCallContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toAwsFailure(error, context);
  }
}

/**
 * Runs one read (Describe*, HeadObject, GetObject) of a resource that may not exist: undefined when AWS
 * says it does not, the classified failure for anything else. The first step of describe-before-create.
 */
export async function readIfExists<T>(context: AwsCallContext, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw toAwsFailure(error, context);
  }
}

/** True for errors AWS uses to say "no such resource", which describe-before-create treats as absent. */
export function isNotFound(error: unknown): boolean {
  return classifyAwsError(error).type === ERROR_TYPES.notFound;
}

/**
 * True for "already exists" answers (S3 BucketAlreadyOwnedByYou, SageMaker ResourceInUse or
 * "Cannot create a duplicate ..."). Callers then describe the existing resource and adopt it when it
 * matches what they would have created.
 */
export function isAlreadyExists(error: unknown): boolean {
  const err = (error ?? {}) as SdkLikeError;
  if (
    [
      'BucketAlreadyOwnedByYou',
      'ResourceInUse',
      'ResourceInUseException',
      'AlreadyExistsException',
      'EntityAlreadyExists',
      'ConflictException',
    ].includes(err.name ?? '')
  ) {
    return true;
  }
  return err.name === 'ValidationException' && /already exist|duplicate/i.test(err.message ?? '');
}

/**
 * A create answered "already exists" but a describe cannot see the resource yet: SageMaker refuses a
 * second create while the first is still in flight. Retryable: the next attempt describes it again
 * and judges it like any resource found under its name.
 */
export function notDescribableYet(resource: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: ERROR_TYPES.transient,
    message: `${resource} appeared while this run created it, but cannot be described yet; looking again`,
    ...(cause instanceof Error ? { cause } : {}),
  });
}

/** A describe that answers undefined for a missing resource and throws anything else as it came (for the caller's classifier). */
export async function undefinedIfNotFound<T>(describe: () => Promise<T>): Promise<T | undefined> {
  try {
    return await describe();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A create that answers `exists` when a resource of that name is already there; other errors are thrown as they came. */
export async function createdOrExists(create: () => Promise<unknown>): Promise<'created' | 'exists'> {
  try {
    await create();
    return 'created';
  } catch (error) {
    if (isAlreadyExists(error)) return 'exists';
    throw error;
  }
}
