import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { mockClient } from 'aws-sdk-client-mock';
import { createStackCheckActivities } from '../../../activities/stack-check';

// The stack check's one side effect, against a scripted S3: the exact object it writes, and what it does
// when the bucket is missing or the credentials may not write.
describe('writeStackCheckObject', () => {
  const s3 = mockClient(S3Client);
  const activities = createStackCheckActivities({
    s3: new S3Client({ region: 'eu-west-1' }),
    bucket: 'twin-bucket',
    prefix: 'llmtwin/',
    region: 'eu-west-1',
  });
  beforeEach(() => s3.reset());

  it('writes one object keyed by the workflow id, so a retried attempt overwrites it instead of adding another', async () => {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const written = await activities.writeStackCheckObject({ message: 'hi', workflowId: 'stack-check-1' });

    const body = JSON.stringify({ message: 'hi', workflowId: 'stack-check-1', writtenBy: 'llmtwin stack check' });
    expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'twin-bucket', Key: 'llmtwin/stack-check/stack-check-1.json', Body: body, ContentType: 'application/json' },
    ]);
    expect(written).toEqual({
      bucket: 'twin-bucket',
      key: 'llmtwin/stack-check/stack-check-1.json',
      uri: 's3://twin-bucket/llmtwin/stack-check/stack-check-1.json',
      sha256: createHash('sha256').update(body).digest('hex'),
      bytes: Buffer.byteLength(body),
    });
    expect(s3.commandCalls(CreateBucketCommand)).toHaveLength(0);
    // The bucket aborts incomplete uploads under the prefix after a day (once per process).
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand).map((call) => call.args[0].input.LifecycleConfiguration?.Rules)).toEqual(
      [
        [
          {
            ID: 'llmtwin-abort-incomplete-multipart-uploads',
            Status: 'Enabled',
            Filter: { Prefix: 'llmtwin/' },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      ],
    );
  });

  it('creates a missing bucket in the configured region first', async () => {
    s3.on(HeadBucketCommand).rejects(
      new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' }),
    );
    s3.on(CreateBucketCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    await activities.writeStackCheckObject({ message: 'hi', workflowId: 'stack-check-2' });
    expect(s3.commandCalls(CreateBucketCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'twin-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } },
    ]);
  });

  it('fails at once, non-retryable, when the credentials may not write', async () => {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }),
    );
    const failure = await activities.writeStackCheckObject({ message: 'hi', workflowId: 'stack-check-3' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'AccessDenied', nonRetryable: true });
    expect((failure as ApplicationFailure).message).toMatch(
      /^PutObject \(s3:\/\/twin-bucket\/llmtwin\/stack-check\/stack-check-3\.json\) failed: AccessDenied/,
    );
  });
});
