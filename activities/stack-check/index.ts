import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Key, s3Uri } from '../../common/shared/naming';
import type { StackCheckObject } from '../../common/stack-check/contract';
import { awsCall } from '../aws/errors';
import { ensureBucket } from '../aws/s3';
import type { S3Sender } from '../aws/clients';

export interface StackCheckDeps {
  s3: S3Sender;
  bucket: string;
  prefix: string;
  region: string;
}

/** The stack check's one side effect: an object in S3 whose key is derived from the workflow id. */
export function createStackCheckActivities(deps: StackCheckDeps) {
  return {
    async writeStackCheckObject(input: { message: string; workflowId: string }): Promise<StackCheckObject> {
      await ensureBucket(deps.s3, deps.bucket, deps.region, deps.prefix);
      // Keyed by workflow id: a retried attempt overwrites the same object instead of adding another.
      const key = s3Key(deps.prefix, 'stack-check', `${input.workflowId}.json`);
      const body = JSON.stringify({ message: input.message, workflowId: input.workflowId, writtenBy: 'llmtwin stack check' });
      await awsCall({ operation: 'PutObject', resource: s3Uri(deps.bucket, key) }, () =>
        deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: body, ContentType: 'application/json' })),
      );
      return {
        bucket: deps.bucket,
        key,
        uri: s3Uri(deps.bucket, key),
        sha256: createHash('sha256').update(body).digest('hex'),
        bytes: Buffer.byteLength(body),
      };
    },
  };
}

export type StackCheckActivities = ReturnType<typeof createStackCheckActivities>;
