import { GetObjectCommand } from '@aws-sdk/client-s3';
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
  });
});
