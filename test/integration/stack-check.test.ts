import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { taskQueuesFor } from '../../common/shared/task-queues';
import { destroyAwsClients } from '../../platform/aws-clients';
import { buildWorkers } from '../../workers/run-workers';
import { stackCheck } from '../../workflows/stack-check';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';
import { uniqueId, workflowBundlePaths } from '../helpers/temporal';

// No mocks on this path: the real dev server, a real worker built the way workers/main.ts builds it,
// and moto's S3.
describe('stack check on the real dev server and moto', () => {
  beforeEach(resetMoto);

  it('runs a workflow whose activity writes an object to S3', async () => {
    const config = testConfig();
    const aws = testAwsClients(config);
    const workerConnection = await NativeConnection.connect({ address: config.temporal.address });
    const clientConnection = await Connection.connect({ address: config.temporal.address });
    const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
    try {
      const workers = await buildWorkers({ config, roles: ['control'], aws, connection: workerConnection, workflowBundlePaths: workflowBundlePaths() });
      const workflowId = uniqueId('stack-check');
      const result = await workers[0]!.runUntil(
        client.workflow.execute(stackCheck, {
          taskQueue: taskQueuesFor(config.temporal.taskQueue).control,
          workflowId,
          args: [{ message: 'twin says hi' }],
        }),
      );

      expect(result.key).toBe(`llmtwin/stack-check/${workflowId}.json`);
      const object = await aws.s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: result.key }));
      const body = JSON.parse(await object.Body!.transformToString()) as Record<string, string>;
      expect(body).toEqual({ message: 'twin says hi', workflowId, writtenBy: 'llmtwin stack check' });
    } finally {
      destroyAwsClients(aws);
      await clientConnection.close();
      await workerConnection.close();
    }
  });
});
