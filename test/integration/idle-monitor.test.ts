import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { IDLE_MONITOR_ID_POLICIES, idleMonitorWorkflowId, statusQuery, type IdleSummary } from '../../common/idle/contract';
import { taskQueuesFor } from '../../common/shared/task-queues';
import { destroyAwsClients, type AwsClients } from '../../platform/aws-clients';
import { runIdleMonitorDemo } from '../../scripts/demos/idle';
import { describeIdleSweepSchedule, removeIdleSweepSchedule, upsertIdleSweepSchedule } from '../../scripts/schedules/idle-sweep';
import { buildWorkers } from '../../workers/run-workers';
import { idleMonitor } from '../../workflows/idle/monitor';
import { createTestEndpoint, existingParts, putInvocations } from '../helpers/endpoint-fixtures';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';
import { workflowBundlePaths } from '../helpers/temporal';

const MINUTE = 60_000;
// Seconds-scale policies in real time: each test takes 3-15 s on two shared cores.
jest.setTimeout(60_000);

// The real dev server, a worker built the way workers/main.ts builds it, moto's SageMaker, CloudWatch
// and Application Auto Scaling; seconds-scale policies so every deletion happens in real time.
describe('idle monitor on the real dev server and moto', () => {
  let config: ReturnType<typeof testConfig>;
  let aws: AwsClients;
  let client: Client;
  let clientConnection: Connection;
  let workerConnection: NativeConnection;
  let worker: Worker;
  let queue: string;

  beforeEach(async () => {
    await resetMoto();
    config = testConfig();
    queue = taskQueuesFor(config.temporal.taskQueue).idle;
    aws = testAwsClients(config);
    workerConnection = await NativeConnection.connect({ address: config.temporal.address });
    clientConnection = await Connection.connect({ address: config.temporal.address });
    client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
    [worker] = (await buildWorkers({ config, roles: ['idle'], aws, connection: workerConnection, workflowBundlePaths: workflowBundlePaths() })) as [Worker];
  });
  afterEach(async () => {
    // A test that failed mid-run leaves its worker polling; it must stop before its connection closes.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    while (!['STOPPED', 'FAILED', 'INITIALIZED'].includes(worker.getState())) await new Promise((resolve) => setTimeout(resolve, 50));
    await removeIdleSweepSchedule(client, queue).catch(() => undefined);
    destroyAwsClients(aws);
    await clientConnection.close();
    await workerConnection.close();
  });

  it('reads the Invocations put into CloudWatch and deletes the endpoint a window after the last call', async () => {
    const endpoint = await createTestEndpoint(aws, 'it-idle-ep', { autoscaling: true });
    // CloudWatch knows calls to the minute: a call at :30 of a minute counts as made at the end of it.
    // The window is chosen so that the last call leaves the endpoint about 8 s to live.
    const minuteStart = Math.floor(Date.now() / MINUTE) * MINUTE;
    const lastCallEnd = minuteStart - MINUTE;
    await putInvocations(aws, endpoint, [lastCallEnd - 30_000], 5);
    const windowS = Math.ceil((Date.now() - lastCallEnd) / 1000) + 8;

    const { summary, watching, alive } = await worker.runUntil(async () => {
      const handle = await client.workflow.start(idleMonitor, {
        taskQueue: queue,
        workflowId: idleMonitorWorkflowId(endpoint.endpointName),
        ...IDLE_MONITOR_ID_POLICIES,
        args: [{ endpointName: endpoint.endpointName, policy: { checkInterval: '1s', window: `${windowS}s`, grace: '1s' } }],
      });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const watching = await handle.query(statusQuery);
      const alive = await existingParts(aws, endpoint);
      return { summary: await handle.result(), watching, alive };
    });

    expect(alive.endpoint).toBe(true);
    expect(watching).toMatchObject({ state: 'watching', lastInvocationAt: new Date(lastCallEnd).toISOString(), deleteAt: new Date(lastCallEnd + windowS * 1000).toISOString() });
    expect(summary.outcome).toBe('deleted');
    expect(summary.lastInvocationAt).toBe(new Date(lastCallEnd).toISOString());
    expect(Date.parse(summary.endedAt)).toBeGreaterThanOrEqual(lastCallEnd + windowS * 1000);
    expect(Date.parse(summary.endedAt)).toBeLessThan(lastCallEnd + windowS * 1000 + 3_000);
    expect(summary.teardown?.scalableTargetsDeregistered).toEqual(['endpoint/it-idle-ep/variant/AllTraffic']);
    expect(await existingParts(aws, endpoint)).toEqual({ endpoint: false, config: false, model: false });
  });

  it('the scheduled sweep starts the monitor that deletes an idle managed endpoint; the schedule CLI calls are idempotent', async () => {
    const ours = await createTestEndpoint(aws, 'it-swept-ep');
    const theirs = await createTestEndpoint(aws, 'it-foreign-ep', { managed: false });
    const sweep = { mode: 'ensure' as const, policy: { checkInterval: '1s', window: '3s', grace: '0s' } };

    const { created, again, summary, described } = await worker.runUntil(async () => {
      const created = await upsertIdleSweepSchedule(client, { taskQueue: queue, every: '5s', sweep, triggerImmediately: true });
      const again = await upsertIdleSweepSchedule(client, { taskQueue: queue, every: '1m', sweep });
      const monitor = client.workflow.getHandle<typeof idleMonitor>(idleMonitorWorkflowId(ours.endpointName));
      let summary: IdleSummary | undefined;
      for (let tries = 0; !summary && tries < 100; tries += 1) {
        summary = await monitor.result().catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          return undefined;
        });
      }
      return { created, again, summary, described: await describeIdleSweepSchedule(client, queue) };
    });

    expect(created).toEqual({ scheduleId: `llmtwin-idle-sweep-${queue}`, outcome: 'created' });
    expect(again).toEqual({ scheduleId: `llmtwin-idle-sweep-${queue}`, outcome: 'updated' });
    expect(described?.spec.intervals?.map((interval) => interval.every)).toEqual([MINUTE]);
    expect(described?.info.recentActions.length).toBeGreaterThanOrEqual(1);
    expect(summary?.outcome).toBe('deleted');
    expect((await existingParts(aws, ours)).endpoint).toBe(false);
    expect((await existingParts(aws, theirs)).endpoint).toBe(true);
    expect(await removeIdleSweepSchedule(client, queue)).toEqual({ scheduleId: `llmtwin-idle-sweep-${queue}`, outcome: 'deleted' });
    expect(await removeIdleSweepSchedule(client, queue)).toEqual({ scheduleId: `llmtwin-idle-sweep-${queue}`, outcome: 'absent' });
  });

  it("the demo's function: a demo endpoint deleted within seconds, with the money it saves", async () => {
    const lines: string[] = [];
    const summary = await worker.runUntil(runIdleMonitorDemo({ client, config, sagemaker: aws.sagemaker, taskQueue: queue, endpointName: 'it-demo-ep', log: (line) => lines.push(line) }));

    expect(summary).toMatchObject({ endpointName: 'it-demo-ep', outcome: 'deleted', estimatedSavedPerDayUsd: 17.66 });
    expect(lines.join('\n')).toMatch(/status: watching, deletes in/);
    expect(lines.join('\n')).toMatch(/saves about \$17\.66 a day/);
  });
});
