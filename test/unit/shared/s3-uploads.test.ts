import {
  AbortMultipartUploadCommand,
  GetBucketLifecycleConfigurationCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { abortDeadUploads, ensureAbortIncompleteUploadsRule } from '../../../activities/aws/s3-uploads';

// Incomplete multipart uploads, against S3's scripted answers: a lifecycle rule that aborts them under
// the prefix (others' rules kept), and the dead uploads of a key aborted before it is uploaded again.
const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1' });
beforeEach(() => s3.reset());

const s3Error = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

describe('ensureAbortIncompleteUploadsRule', () => {
  it("adds the rule for the prefix and keeps the bucket's other rules", async () => {
    const theirs = { ID: 'expire-logs', Status: 'Enabled' as const, Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } };
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: [theirs] });
    expect(await ensureAbortIncompleteUploadsRule(client, 'b', 'llmtwin/')).toBe('added');
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]!.args[0].input.LifecycleConfiguration?.Rules).toEqual([
      theirs,
      expect.objectContaining({ Filter: { Prefix: 'llmtwin/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    ]);
  });

  it('adds nothing where an enabled rule already aborts uploads over the prefix; a bucket without rules gets one', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({
      Rules: [{ ID: 'all', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }],
    });
    expect(await ensureAbortIncompleteUploadsRule(client, 'b', 'llmtwin/')).toBe('present');
    expect(s3.commandCalls(PutBucketLifecycleConfigurationCommand)).toHaveLength(0);

    s3.reset();
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3Error('NoSuchLifecycleConfiguration', 404));
    expect(await ensureAbortIncompleteUploadsRule(client, 'b', 'llmtwin/')).toBe('added');
  });

  it('a role that may not touch lifecycle rules is told, not failed', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3Error('AccessDenied', 403));
    expect(await ensureAbortIncompleteUploadsRule(client, 'b', 'llmtwin/')).toBe('not-permitted');
  });
});

describe('abortDeadUploads', () => {
  it('aborts the uploads of the key that went quiet, and leaves a live one and other keys alone', async () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    const minutesAgo = (minutes: number) => new Date(now - minutes * 60_000);
    const key = 'llmtwin/datasets/abc/train.jsonl';
    s3.on(ListMultipartUploadsCommand).resolves({
      Uploads: [
        { Key: key, UploadId: 'dead', Initiated: minutesAgo(30) },
        { Key: key, UploadId: 'live', Initiated: minutesAgo(30) },
        { Key: key, UploadId: 'just-begun', Initiated: minutesAgo(1) },
        { Key: `${key}.bak`, UploadId: 'other-key', Initiated: minutesAgo(60) },
      ],
    });
    s3.on(ListPartsCommand, { UploadId: 'dead' }).resolves({ Parts: [{ PartNumber: 1, LastModified: minutesAgo(20) }] });
    s3.on(ListPartsCommand, { UploadId: 'live' }).resolves({ Parts: [{ PartNumber: 9, LastModified: minutesAgo(0.1) }] });
    s3.on(ListPartsCommand, { UploadId: 'just-begun' }).resolves({ Parts: [] });
    s3.on(AbortMultipartUploadCommand).resolves({});

    expect(await abortDeadUploads(client, 'b', key, 5 * 60_000, now)).toBe(1);
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((call) => call.args[0].input.UploadId)).toEqual(['dead']);
  });
});
