import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { awsCall, isAlreadyExists, isNotFound, readIfExists, toAwsFailure } from './errors';
import type { S3Sender } from './clients';

/**
 * Makes sure the bucket exists (HeadBucket, then CreateBucket). "Already owned by you" is success, so
 * two activities racing to create it both succeed. A bucket owned by someone else is an access error.
 */
export async function ensureBucket(s3: S3Sender, bucket: string, region: string): Promise<void> {
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
