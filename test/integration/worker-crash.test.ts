import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { WORKER_LOST_FAILURE_TYPE } from '../../workers/attempt-journal';
import { STACK_CHECK_WORKFLOW_TYPE, type StackCheckWorkflow } from '../../common/stack-check/contract';
import { parseS3Uri } from '../../common/shared/naming';
import { cliEnv } from '../helpers/cli';
import { testAwsClients, testConfig } from '../helpers/stack';
import { uniqueId } from '../helpers/temporal';
import { until } from '../helpers/until';
import { spawnWorker } from '../helpers/worker-process';

// A worker SIGKILLed in the middle of a short AWS call (one that never heartbeats itself). A worker on
// the same machine reads the dead one's attempt journal and fails the attempt through its task token,
// so the call is retried within seconds (workers/attempt-journal.ts). A worker on another machine (here:
// another journal folder) cannot see it: the workers keep every activity heartbeating, so the server
// notices within the 20 s heartbeat timeout, instead of the call's 2-minute start-to-close timeout.
jest.setTimeout(120_000);

const { TimeoutType } = temporal.api.enums.v1;

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

it.each([
  // The journal's scan runs every 5 s; a retry follows one second after the report.
  { where: 'on the same machine', journal: 'shared', within: 15, endedBy: { applicationFailureInfo: { type: WORKER_LOST_FAILURE_TYPE } } },
  // The 20 s heartbeat timeout and the 2 s retry interval, far from 2 minutes.
  {
    where: 'on another machine',
    journal: 'apart',
    within: 45,
    endedBy: { timeoutFailureInfo: { timeoutType: TimeoutType.TIMEOUT_TYPE_HEARTBEAT } },
  },
])(
  'a worker killed in the middle of an AWS call, its replacement $where: retried within $within s',
  async ({ journal, within, endedBy }) => {
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
      second = controlWorker(journal === 'apart' ? { LLMTWIN_WORKER_ATTEMPTS_DIR: mkdtempSync(join(tmpdir(), 'elsewhere-')) } : {});
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
      expect(recoveredInS).toBeLessThan(within);
      const history = await handle.fetchHistory();
      const started = history.events?.find((event) => event.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes;
      expect(started?.attempt).toBe(2);
      // What ended the first attempt: the journal's report, or the server's heartbeat timeout.
      expect(started?.lastFailure).toMatchObject(endedBy);
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGTERM');
      await second?.exited;
      hole.server.close();
      await connection.close();
    }
  },
);
