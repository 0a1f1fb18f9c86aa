import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { awsCall, isAlreadyExists, isNotFound, readIfExists, toAwsFailure } from './errors';
import { ensureAbortIncompleteUploadsRule } from './s3-uploads';
import type { S3Sender } from './clients';

/** Buckets and prefixes whose abort rule this process has seen to: once per process, not per activity. */
const lifecycleChecked = new Set<string>();

/**
 * Makes sure the bucket exists (HeadBucket, then CreateBucket), and, once per process, that it aborts
 * incomplete multipart uploads under `prefix` (activities/aws/s3-uploads.ts). "Already owned by you" is
 * success, so two activities racing to create it both succeed. A bucket owned by someone else is an
 * access error; a role that may not read or write lifecycle rules only loses the rule, with a warning.
 */
export async function ensureBucket(s3: S3Sender, bucket: string, region: string, prefix?: string): Promise<void> {
  await createBucketIfMissing(s3, bucket, region);
  if (prefix === undefined || lifecycleChecked.has(`${bucket}/${prefix}`)) return;
  const outcome = await ensureAbortIncompleteUploadsRule(s3, bucket, prefix).catch((error: unknown) => {
    throw toAwsFailure(error, { operation: 'PutBucketLifecycleConfiguration', resource: `s3://${bucket}/${prefix}` });
  });
  if (outcome === 'not-permitted')
    warn(
      `no lifecycle rule on s3://${bucket}/${prefix}: the worker may not read or write it (s3:GetLifecycleConfiguration, s3:PutLifecycleConfiguration); incomplete uploads there are not aborted after a day`,
    );
  lifecycleChecked.add(`${bucket}/${prefix}`);
}

function warn(message: string): void {
  try {
    Context.current().log.warn(message);
  } catch {
    // Outside an activity (a script): nobody to tell but the caller's own output.
  }
}

async function createBucketIfMissing(s3: S3Sender, bucket: string, region: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (error) {
    if (!isNotFound(error)) throw toAwsFailure(error, { operation: 'HeadBucket', resource: `s3://${bucket}` });
  }
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region that rejects an explicit location constraint.
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    );
  } catch (error) {
    if (!isAlreadyExists(error)) throw toAwsFailure(error, { operation: 'CreateBucket', resource: `s3://${bucket}` });
  }
}

/** HeadObject that answers undefined for a missing object instead of throwing. */
export function headObjectIfExists(s3: S3Sender, bucket: string, key: string) {
  return readIfExists({ operation: 'HeadObject', resource: `s3://${bucket}/${key}` }, () =>
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
  );
}

export { awsCall };
