import { createServer, type Server, type Socket } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { STACK_CHECK_WORKFLOW_TYPE, type StackCheckWorkflow } from '../../common/stack-check/contract';
import { parseS3Uri } from '../../common/shared/naming';
import { cliEnv } from '../helpers/cli';
import { testAwsClients, testConfig } from '../helpers/stack';
import { uniqueId } from '../helpers/temporal';
import { until } from '../helpers/until';
import { spawnWorker } from '../helpers/worker-process';

// A worker SIGKILLed in the middle of a short AWS call (one that never heartbeats itself): the workers
// keep every activity heartbeating, so the server notices within the 20 s heartbeat timeout and a
// restarted worker finishes the run, instead of waiting out the call's 2-minute start-to-close timeout.
jest.setTimeout(120_000);

const config = testConfig();

function controlWorker(extra: Record<string, string> = {}) {
  const env = cliEnv(config, { LLMTWIN_LOG_LEVEL: 'info', ...extra });
  return spawnWorker(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', 'control'], env);
}

/** An "AWS" that accepts connections and never answers: the first worker's call hangs there. */
async function blackHole(): Promise<{ server: Server; url: string; connections: () => number }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, connections: () => sockets.length };
}

it('a worker killed in the middle of an AWS call: the call is retried on a new worker within seconds', async () => {
  const hole = await blackHole();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const first = controlWorker({ AWS_ENDPOINT_URL: hole.url });
  let second: ReturnType<typeof controlWorker> | undefined;
  try {
    await first.started;
    const handle = await client.workflow.start<StackCheckWorkflow>(STACK_CHECK_WORKFLOW_TYPE, {
      taskQueue: config.temporal.taskQueue,
      workflowId: uniqueId('crash'),
      args: [{ message: 'survives a SIGKILL' }],
    });
    await until(() => hole.connections() > 0, 30_000); // the activity's first call is in flight, and hangs
    // The replacement is up before the kill, so what is measured is the server noticing, not a worker's
    // start (bundling the workflows took 20-40 s on a loaded CI machine).
    second = controlWorker();
    await second.started;
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();

    const result = await handle.result();
    const recoveredInS = (Date.now() - killedAt) / 1000;

    const { bucket, key } = parseS3Uri(result.uri);
    const aws = testAwsClients(config);
    await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    aws.s3.destroy();
    // The 20 s heartbeat timeout, the 2 s retry interval and a worker's start, far from 2 minutes.
    expect(recoveredInS).toBeLessThan(45);
    const history = await handle.fetchHistory();
    const started = history.events?.find((event) => event.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes;
    expect(started?.attempt).toBe(2);
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGTERM');
    await second?.exited;
    hole.server.close();
    await connection.close();
  }
});
