import {
  IDLE_MONITOR_ID_POLICIES,
  IDLE_MONITOR_WORKFLOW_TYPE,
  idleMonitorWorkflowId,
  statusQuery,
  type IdleMonitorWorkflow,
  type IdleSummary,
} from '../../common/idle/contract';
import { runIdleMonitorDemo } from '../../scripts/demos/idle';
import { describeIdleSweepSchedule, removeIdleSweepSchedule, upsertIdleSweepSchedule } from '../../scripts/schedules/idle-sweep';
import { createTestEndpoint, existingParts, putInvocations } from '../helpers/endpoint-fixtures';
import { useStackWorkers } from '../helpers/stack-workers';

const MINUTE = 60_000;
// Seconds-scale policies in real time: each test takes 3-15 s on two shared cores.
jest.setTimeout(60_000);

// The real dev server, a worker built the way workers/main.ts builds it, moto's SageMaker, CloudWatch
// and Application Auto Scaling; seconds-scale policies so every deletion happens in real time.
describe('idle monitor on the real dev server and moto', () => {
  // A schedule a failed test left behind would go on firing against the shared dev server.
  const stack = useStackWorkers({
    roles: ['idle'],
    scope: 'each',
    beforeStop: (current) => removeIdleSweepSchedule(current.client, current.queues.idle),
  });

  it('reads the Invocations put into CloudWatch and deletes the endpoint a window after the last call', async () => {
    const endpoint = await createTestEndpoint(stack.aws, 'it-idle-ep', { autoscaling: true });
    // CloudWatch knows calls to the minute: a call at :30 of a minute counts as made at the end of it.
    // The window is chosen so that the last call leaves the endpoint about 8 s to live.
    const minuteStart = Math.floor(Date.now() / MINUTE) * MINUTE;
    const lastCallEnd = minuteStart - MINUTE;
    await putInvocations(stack.aws, endpoint, [lastCallEnd - 30_000], 5);
    const windowS = Math.ceil((Date.now() - lastCallEnd) / 1000) + 8;

    const handle = await stack.client.workflow.start<IdleMonitorWorkflow>(IDLE_MONITOR_WORKFLOW_TYPE, {
      taskQueue: stack.queues.idle,
      workflowId: idleMonitorWorkflowId(endpoint.endpointName),
      ...IDLE_MONITOR_ID_POLICIES,
      args: [{ endpointName: endpoint.endpointName, policy: { checkInterval: '1s', window: `${windowS}s`, grace: '1s' } }],
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const watching = await handle.query(statusQuery);
    const alive = await existingParts(stack.aws, endpoint);
    const summary = await handle.result();

    expect(alive.endpoint).toBe(true);
    expect(watching).toMatchObject({
      state: 'watching',
      lastInvocationAt: new Date(lastCallEnd).toISOString(),
      deleteAt: new Date(lastCallEnd + windowS * 1000).toISOString(),
    });
    expect(summary.outcome).toBe('deleted');
    expect(summary.lastInvocationAt).toBe(new Date(lastCallEnd).toISOString());
    expect(Date.parse(summary.endedAt)).toBeGreaterThanOrEqual(lastCallEnd + windowS * 1000);
    expect(Date.parse(summary.endedAt)).toBeLessThan(lastCallEnd + windowS * 1000 + 3_000);
    expect(summary.teardown?.scalableTargetsDeregistered).toEqual(['endpoint/it-idle-ep/variant/AllTraffic']);
    expect(await existingParts(stack.aws, endpoint)).toEqual({ endpoint: false, config: false, model: false });
  });

  it('the scheduled sweep starts the monitor that deletes an idle managed endpoint; the schedule CLI calls are idempotent', async () => {
    const ours = await createTestEndpoint(stack.aws, 'it-swept-ep');
    const theirs = await createTestEndpoint(stack.aws, 'it-foreign-ep', { managed: false });
    const sweep = { mode: 'ensure' as const, policy: { checkInterval: '1s', window: '3s', grace: '0s' } };

    const created = await upsertIdleSweepSchedule(stack.client, {
      taskQueue: stack.queues.idle,
      every: '5s',
      sweep,
      triggerImmediately: true,
    });
    const again = await upsertIdleSweepSchedule(stack.client, { taskQueue: stack.queues.idle, every: '1m', sweep });
    const monitor = stack.client.workflow.getHandle<IdleMonitorWorkflow>(idleMonitorWorkflowId(ours.endpointName));
    let summary: IdleSummary | undefined;
    for (let tries = 0; !summary && tries < 100; tries += 1) {
      summary = await monitor.result().catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return undefined;
      });
    }
    const described = await describeIdleSweepSchedule(stack.client, stack.queues.idle);

    expect(created).toEqual({ scheduleId: `llmtwin-idle-sweep-${stack.queues.idle}`, outcome: 'created' });
    expect(again).toEqual({ scheduleId: `llmtwin-idle-sweep-${stack.queues.idle}`, outcome: 'updated' });
    expect(await upsertIdleSweepSchedule(stack.client, { taskQueue: stack.queues.idle, every: '1m', sweep })).toEqual({
      scheduleId: `llmtwin-idle-sweep-${stack.queues.idle}`,
      outcome: 'unchanged',
    });
    expect(described?.spec.intervals?.map((interval) => interval.every)).toEqual([MINUTE]);
    expect(described?.info.recentActions.length).toBeGreaterThanOrEqual(1);
    expect(summary?.outcome).toBe('deleted');
    expect((await existingParts(stack.aws, ours)).endpoint).toBe(false);
    expect((await existingParts(stack.aws, theirs)).endpoint).toBe(true);
    expect(await removeIdleSweepSchedule(stack.client, stack.queues.idle)).toEqual({
      scheduleId: `llmtwin-idle-sweep-${stack.queues.idle}`,
      outcome: 'deleted',
    });
    expect(await removeIdleSweepSchedule(stack.client, stack.queues.idle)).toEqual({
      scheduleId: `llmtwin-idle-sweep-${stack.queues.idle}`,
      outcome: 'absent',
    });
  });

  it("the demo's function: a demo endpoint deleted within seconds, with the money it saves", async () => {
    const lines: string[] = [];
    const summary = await runIdleMonitorDemo({
      client: stack.client,
      config: stack.config,
      sagemaker: stack.aws.sagemaker,
      taskQueue: stack.queues.idle,
      endpointName: 'it-demo-ep',
      log: (line) => lines.push(line),
    });

    expect(summary).toMatchObject({ endpointName: 'it-demo-ep', outcome: 'deleted', estimatedSavedPerDayUsd: 17.66 });
    expect(lines.join('\n')).toMatch(/status: watching, deletes in/);
    expect(lines.join('\n')).toMatch(/saves about \$17\.66 a day/);
  });
});
