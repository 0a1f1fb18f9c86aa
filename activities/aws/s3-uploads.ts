import {
  AbortMultipartUploadCommand,
  GetBucketLifecycleConfigurationCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutBucketLifecycleConfigurationCommand,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { awsCall, classifyAwsError, isNotFound, toAwsFailure } from './errors';
import type { S3Sender } from './clients';

/**
 * Multipart uploads that nobody will finish (a worker killed mid-upload) are billed storage that no
 * listing shows. Two guards: a lifecycle rule on the bucket that aborts any incomplete upload under
 * llmtwin's prefix a day after it began, and, before each upload, aborting the uploads of the same key
 * that have gone quiet (no part for `idleMs`): a live upload sends a part every few seconds, so one
 * silent for minutes was left by a dead attempt; a concurrent build's live upload is left alone.
 */

export const ABORT_INCOMPLETE_UPLOADS_RULE_ID = 'llmtwin-abort-incomplete-multipart-uploads';
const DAYS_AFTER_INITIATION = 1;

export type LifecycleOutcome = 'present' | 'added' | 'not-permitted';

/** Adds the abort rule for `prefix` unless an enabled rule already aborts incomplete uploads there; keeps every other rule. */
export async function ensureAbortIncompleteUploadsRule(s3: S3Sender, bucket: string, prefix: string): Promise<LifecycleOutcome> {
  let rules: LifecycleRule[];
  try {
    rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })))?.Rules ?? [];
  } catch (error) {
    if (isNotFound(error) || (error as { name?: string }).name === 'NoSuchLifecycleConfiguration') rules = [];
    else if (classifyAwsError(error).type === 'AccessDenied') return 'not-permitted';
    else throw error;
  }
  const covers = (rule: LifecycleRule) => {
    const rulePrefix = rule.Filter?.Prefix ?? rule.Prefix ?? rule.Filter?.And?.Prefix ?? '';
    const unconditional = !rule.Filter?.Tag && !rule.Filter?.And?.Tags?.length && rule.Filter?.ObjectSizeGreaterThan === undefined;
    return (
      rule.Status === 'Enabled' &&
      rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined &&
      unconditional &&
      prefix.startsWith(rulePrefix)
    );
  };
  if (rules.some(covers)) return 'present';
  const ours: LifecycleRule = {
    ID: ABORT_INCOMPLETE_UPLOADS_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: prefix },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: DAYS_AFTER_INITIATION },
  };
  try {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: [...rules.filter((rule) => rule.ID !== ABORT_INCOMPLETE_UPLOADS_RULE_ID), ours] },
      }),
    );
  } catch (error) {
    if (classifyAwsError(error).type === 'AccessDenied') return 'not-permitted';
    throw error;
  }
  return 'added';
}

/** Aborts the incomplete uploads of exactly `key` whose last part (or start) is older than `idleMs`; answers how many. */
export async function abortDeadUploads(s3: S3Sender, bucket: string, key: string, idleMs: number, now = Date.now()): Promise<number> {
  const resource = `s3://${bucket}/${key}`;
  const listed = await awsCall({ operation: 'ListMultipartUploads', resource }, () =>
    s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key })),
  );
  let aborted = 0;
  for (const upload of listed.Uploads ?? []) {
    if (upload.Key !== key || !upload.UploadId) continue;
    const uploadId = upload.UploadId;
    const parts = await awsCall({ operation: 'ListParts', resource }, () =>
      s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    );
    const times = [upload.Initiated, ...(parts.Parts ?? []).map((part) => part.LastModified)].map((date) => date?.getTime() ?? 0);
    if (now - Math.max(...times) < idleMs) continue;
    try {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      aborted += 1;
    } catch (error) {
      // Finished or aborted meanwhile: nothing left to abort.
      if (!isNotFound(error) && (error as { name?: string }).name !== 'NoSuchUpload')
        throw toAwsFailure(error, { operation: 'AbortMultipartUpload', resource });
    }
  }
  return aborted;
}
