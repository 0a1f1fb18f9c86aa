import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { awsCall, classifyAwsError, isAlreadyExists, isNotFound, toAwsFailure } from '../../../activities/aws/errors';

/** Errors shaped like the AWS SDK v3's service exceptions. */
function sdkError(name: string, message: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
  return Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

describe('classifyAwsError', () => {
  it.each([
    [sdkError('ThrottlingException', 'Rate exceeded', 400), 'TransientAwsError', true],
    [sdkError('ValidationException', 'Rate exceeded', 400), 'TransientAwsError', true],
    [sdkError('InternalFailure', 'boom', 500), 'TransientAwsError', true],
    [sdkError('ServiceUnavailable', 'try later', 503), 'TransientAwsError', true],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'TransientAwsError', true],
    [sdkError('AccessDeniedException', 'not authorized to perform sagemaker:CreateTrainingJob', 400), 'AccessDenied', false],
    [
      sdkError('ResourceLimitExceeded', 'account-level service limit ml.g5.2xlarge for training job usage is 0', 400),
      'QuotaExceeded',
      false,
    ],
    [sdkError('CapacityError', 'Insufficient capacity for ml.p4d.24xlarge', 400), 'CapacityError', false],
    [sdkError('ValidationException', 'Could not find training job "x"', 400), 'NotFound', false],
    [sdkError('ResourceNotFound', 'Could not find endpoint', 400), 'NotFound', false],
    [sdkError('NoSuchKey', 'The specified key does not exist.', 404), 'NotFound', false],
    [sdkError('ValidationException', '1 validation error detected: Value at roleArn failed', 400), 'ValidationError', false],
  ])('%s -> %s (retryable %s)', (error, type, retryable) => {
    expect(classifyAwsError(error)).toMatchObject({ type, retryable });
  });
});

describe('toAwsFailure', () => {
  it('keeps the cause and says what to do', () => {
    const cause = sdkError('AccessDeniedException', 'no', 400);
    const failure = toAwsFailure(cause, { operation: 'CreateEndpoint', resource: 'endpoint twin' });
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('AccessDenied');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.cause).toBe(cause);
    expect(failure.message).toMatch(
      /^CreateEndpoint \(endpoint twin\) failed: AccessDeniedException: no\. check the worker's AWS credentials/,
    );
  });

  it('passes ApplicationFailures through untouched', () => {
    const failure = ApplicationFailure.nonRetryable('mine', 'ValidationError');
    expect(toAwsFailure(failure, { operation: 'X' })).toBe(failure);
  });

  it('wraps what awsCall throws', async () => {
    await expect(
      awsCall({ operation: 'DescribeEndpoint' }, () => Promise.reject(sdkError('ThrottlingException', 'slow down', 400))),
    ).rejects.toMatchObject({
      type: 'TransientAwsError',
      nonRetryable: false,
    });
  });
});

describe('predicates', () => {
  it('recognises already-exists answers', () => {
    expect(isAlreadyExists(sdkError('BucketAlreadyOwnedByYou', 'yours', 409))).toBe(true);
    expect(isAlreadyExists(sdkError('ValidationException', 'Cannot create a duplicate endpoint "x"', 400))).toBe(true);
    expect(isAlreadyExists(sdkError('ResourceInUse', 'Training job names must be unique', 400))).toBe(true);
    expect(isAlreadyExists(sdkError('ValidationException', 'bad role', 400))).toBe(false);
  });

  it('recognises not-found answers', () => {
    expect(isNotFound(sdkError('ValidationException', 'Could not find model "m"', 400))).toBe(true);
    expect(isNotFound(sdkError('ValidationException', 'bad', 400))).toBe(false);
  });
});

describe('a failed call inside an activity', () => {
  it('logs one structured line with the operation, the resource and the AWS request id', async () => {
    const lines: Array<{ message: string; meta?: Record<string, unknown> }> = [];
    const record = (message: string, meta?: Record<string, unknown>) => lines.push({ message, ...(meta ? { meta } : {}) });
    const logger = {
      log: (_level: string, message: string, meta?: Record<string, unknown>) => record(message, meta),
      trace: record,
      debug: record,
      info: record,
      warn: record,
      error: record,
    };
    const env = new MockActivityEnvironment({ activityType: 'createTrainingJob' }, { logger });
    const denied = Object.assign(sdkError('AccessDeniedException', 'not authorized', 400), {
      $metadata: { httpStatusCode: 400, requestId: 'c0ffee-1234' },
    });
    const failure = (await env
      .run(() => awsCall({ operation: 'CreateTrainingJob', resource: 'training job llmtwin-train-x' }, () => Promise.reject(denied)))
      .catch((error: unknown) => error)) as ApplicationFailure;
    expect(failure.details).toEqual([expect.objectContaining({ requestId: 'c0ffee-1234' })]);
    const warned = lines.filter((line) => line.message.startsWith('AWS call failed'));
    expect(warned).toHaveLength(1);
    expect(warned[0]?.meta).toMatchObject({
      operation: 'CreateTrainingJob',
      resource: 'training job llmtwin-train-x',
      awsErrorName: 'AccessDeniedException',
      requestId: 'c0ffee-1234',
      retryable: false,
      // Added by the activity logger: which run and step the call was part of.
      activityType: 'createTrainingJob',
    });
    expect(typeof warned[0]?.meta?.workflowId).toBe('string');
  });
});
