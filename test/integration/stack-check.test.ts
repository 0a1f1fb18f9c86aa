import {
  CreateMultipartUploadCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ensureBucket } from '../../activities/aws/s3';
import { abortDeadUploads } from '../../activities/aws/s3-uploads';
import { STACK_CHECK_WORKFLOW_TYPE, type StackCheckWorkflow } from '../../common/stack-check/contract';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// No mocks on this path: the real dev server, a real worker built the way workers/main.ts builds it,
// and moto's S3.
describe('stack check on the real dev server and moto', () => {
  const stack = useStackWorkers({ roles: ['control'] });

  it('runs a workflow whose activity writes an object to S3', async () => {
    const workflowId = uniqueId('stack-check');
    const result = await stack.client.workflow.execute<StackCheckWorkflow>(STACK_CHECK_WORKFLOW_TYPE, {
      taskQueue: stack.queues.control,
      workflowId,
      args: [{ message: 'twin says hi' }],
    });

    expect(result.key).toBe(`llmtwin/stack-check/${workflowId}.json`);
    const object = await stack.aws.s3.send(new GetObjectCommand({ Bucket: stack.config.s3.bucket, Key: result.key }));
    const body = JSON.parse(await object.Body!.transformToString()) as Record<string, string>;
    expect(body).toEqual({ message: 'twin says hi', workflowId, writtenBy: 'llmtwin stack check' });

    // The bucket now aborts incomplete multipart uploads under the prefix a day after they began.
    const lifecycle = await stack.aws.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: stack.config.s3.bucket }));
    expect(lifecycle.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        Filter: { Prefix: 'llmtwin/' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    ]);
  });

  it('aborts the multipart upload a killed attempt left, in S3 as moto keeps it', async () => {
    const { s3 } = stack.aws;
    const Bucket = stack.config.s3.bucket;
    const Key = 'llmtwin/datasets/0000/train.jsonl';
    await ensureBucket(s3, Bucket, stack.config.aws.region);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'x'.repeat(1024) }));
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads).toHaveLength(1);
    // Quiet for longer than a millisecond counts as dead here: the real threshold is minutes.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await abortDeadUploads(s3, Bucket, Key, 1)).toBe(1);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).toEqual([]);
  });
});
