import {
  AddTagsCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
} from '@aws-sdk/client-sagemaker';
import { WorkflowNotFoundError } from '@temporalio/client';
import { idleMonitorWorkflowId, statusQuery, type IdleMonitorStatus } from '../../common/idle/contract';
import { exclusiveSweepWorkflowId, type IdleSweepInput, type IdleSweepResult } from '../../common/idle/sweep';
import { KEEP_TAG, MANAGED_TAG } from '../../common/shared/naming';
import { roundCents } from '../../common/shared/pricing';
import { STAND_IN_IMAGE } from '../../scripts/demos/idle';
import type { idleMonitor } from '../../workflows/idle/monitor';
import { idleSweep } from '../../workflows/idle/sweep';
import { createTestEndpoint, putInvocations } from '../helpers/endpoint-fixtures';
import { MINUTE, useIdleHarness, type IdleHarness } from '../helpers/idle-harness';
import { recordHistoryIfAsked } from '../helpers/replay';
import { uniqueId } from '../helpers/temporal';

const POLICY = { checkInterval: '5m', window: '1h' };

/**
 * Runs one sweep with time skipping locked: the monitors it starts have timers, and skipping to them
 * while the sweep activity runs would time it out.
 */
async function sweep(harness: IdleHarness, taskQueue: string, input: IdleSweepInput, record?: string): Promise<IdleSweepResult> {
  const handle = await harness.env.client.workflow.start(idleSweep, { taskQueue, workflowId: uniqueId('sweep'), args: [input] });
  const result = await harness.resultLocked(handle);
  if (record) await recordHistoryIfAsked(handle, record);
  return result;
}

/** Waits (real time, skipping locked) until every monitor has made its first check. */
async function firstChecks(harness: IdleHarness, names: string[]): Promise<Record<string, IdleMonitorStatus>> {
  const statuses: Record<string, IdleMonitorStatus> = {};
  for (const name of names) {
    const handle = harness.env.client.workflow.getHandle<typeof idleMonitor>(idleMonitorWorkflowId(name));
    for (let tries = 0; ; tries += 1) {
      // A monitor the sweep has just started may not have run its first task yet: until then the
      // server answers that no `status` handler is registered, which is "not checked yet", not a failure.
      const status = await handle.query(statusQuery).catch((error: unknown) => {
        if (tries < 100 && /did not register a handler/.test(String(error))) return undefined;
        throw error;
      });
      if (status && (status.checks >= 1 || tries > 100)) {
        statuses[name] = status;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return statuses;
}

describe('idleSweep keeps one monitor per managed endpoint and reports the fleet (time-skipping, moto)', () => {
  const harness = useIdleHarness();

  it('starts missing monitors, never a second one, feeds them its reading, and restarts after a deletion', async () => {
    const t0 = await harness.now();
    const busy = await createTestEndpoint(harness.moto.aws, 'busy-ep');
    await createTestEndpoint(harness.moto.aws, 'quiet-ep', { instanceType: 'ml.m5.large' });
    await createTestEndpoint(harness.moto.aws, 'kept-ep', { keep: true });
    await createTestEndpoint(harness.moto.aws, 'theirs-ep', { managed: false });
    await putInvocations(harness.moto.aws, busy, [t0 - 10 * MINUTE]);

    const outcome = await harness.withIdleWorker(async (taskQueue) => {
      const first = await sweep(harness, taskQueue, { mode: 'ensure', policy: POLICY }, 'idleSweep-exclusive-ensure');
      const statuses = await firstChecks(harness, ['busy-ep', 'quiet-ep', 'kept-ep']);
      const ownReads = harness.calls.observeEndpoint;
      const runIds = await Promise.all(
        ['busy-ep', 'quiet-ep', 'kept-ep'].map(
          async (name) => (await harness.env.client.workflow.getHandle(idleMonitorWorkflowId(name)).describe()).runId,
        ),
      );
      const second = await sweep(harness, taskQueue, { mode: 'ensure', policy: POLICY });
      // A CLI-style start while the sweep's monitor runs attaches to it (USE_EXISTING).
      const started = await harness.startMonitor(taskQueue, { endpointName: 'quiet-ep', policy: POLICY });
      const runIdsAfter = await Promise.all(
        ['busy-ep', 'quiet-ep', 'kept-ep'].map(
          async (name) => (await harness.env.client.workflow.getHandle(idleMonitorWorkflowId(name)).describe()).runId,
        ),
      );
      const theirs = await harness.env.client.workflow
        .getHandle(idleMonitorWorkflowId('theirs-ep'))
        .describe()
        .catch((error: unknown) => error);

      const quietSummary = await harness.env.client.workflow.getHandle<typeof idleMonitor>(idleMonitorWorkflowId('quiet-ep')).result();
      await createTestEndpoint(harness.moto.aws, 'quiet-ep', { instanceType: 'ml.m5.large' });
      const third = await sweep(harness, taskQueue, { mode: 'ensure', policy: POLICY });
      const reborn = await harness.env.client.workflow.getHandle(idleMonitorWorkflowId('quiet-ep')).describe();
      return { first, second, third, statuses, ownReads, runIds, runIdsAfter, started, theirs, quietSummary, reborn };
    });

    const { first, second, third } = outcome;
    expect(first).toMatchObject({
      mode: 'ensure',
      endpoints: 4,
      managed: 3,
      monitorsStarted: 3,
      monitorsAlreadyRunning: 0,
      metricQueries: 3,
      getMetricDataCalls: 1,
    });
    expect(first.rows.map((row) => [row.endpointName, row.monitor]).sort()).toEqual([
      ['busy-ep', 'started'],
      ['kept-ep', 'started'],
      ['quiet-ep', 'started'],
    ]);
    const busyRow = first.rows.find((row) => row.endpointName === 'busy-ep')!;
    // CloudWatch knows calls to the minute: the last one is reported as the end of its period.
    expect(Date.parse(busyRow.lastInvocationAt!)).toBeGreaterThan(t0 - 10 * MINUTE);
    expect(Date.parse(busyRow.lastInvocationAt!)).toBeLessThanOrEqual(t0 - 8 * MINUTE);
    expect(outcome.theirs).toBeInstanceOf(WorkflowNotFoundError);
    // The monitors decided from the sweep's reading: not one CloudWatch read of their own.
    expect(outcome.ownReads).toBe(0);
    expect(Object.values(outcome.statuses).map((status) => status.lastCheck?.source)).toEqual(['sweep', 'sweep', 'sweep']);
    expect(outcome.statuses['kept-ep']!.state).toBe('kept');

    expect(second).toMatchObject({ monitorsStarted: 0, monitorsAlreadyRunning: 3, getMetricDataCalls: 1 });
    // The worker remembered the first sweep's reads: nothing changed, so nothing was described again
    // (kept-ep's tags are read at every sweep, so removing llmtwin:keep counts at once).
    expect(first.reads).toMatchObject({ listed: 4, loaded: 4, reused: 0, dropped: 0 });
    expect(second.reads).toMatchObject({ listed: 4, loaded: 0, reused: 3, tagsReread: 1, dropped: 0 });
    // quiet-ep was deleted and made again under the same name (a new creation time): read in full. (The
    // hour skipped while it idled also expired the others' tags, and busy-ep idled out meanwhile.)
    expect(third.reads?.loaded).toBe(1);
    expect(outcome.runIdsAfter).toEqual(outcome.runIds);
    expect(outcome.started.firstExecutionRunId).toBe(outcome.runIds[1]);

    expect(outcome.quietSummary.outcome).toBe('deleted');
    expect(outcome.quietSummary.estimatedSavedPerDayUsd).toBe(roundCents(0.115 * 24));
    expect(third.rows.find((row) => row.endpointName === 'quiet-ep')?.monitor).toBe('started');
    expect(outcome.reborn.status.name).toBe('RUNNING');
    expect(outcome.reborn.runId).not.toBe(outcome.runIds[1]);
  });

  it('runs one sweep at a time per queue: a sweep that finds another running is skipped and reads nothing', async () => {
    await createTestEndpoint(harness.moto.aws, 'solo-ep');
    const outcome = await harness.withIdleWorker(async (taskQueue) => {
      // Anything running under the exclusive id holds it: here a run nobody will ever pick up.
      const blocker = await harness.env.client.workflow.start(idleSweep, {
        taskQueue: `${taskQueue}-unpolled`,
        workflowId: exclusiveSweepWorkflowId(taskQueue),
        args: [{ mode: 'ensure', policy: POLICY }],
      });
      const skipped = await sweep(harness, taskQueue, { mode: 'ensure', policy: POLICY });
      const sweepsWhileHeld = harness.calls.sweepFleet;
      await blocker.terminate('test: release the exclusive id');
      const ran = await sweep(harness, taskQueue, { mode: 'ensure', policy: POLICY });
      return { skipped, sweepsWhileHeld, ran, sweepsAfter: harness.calls.sweepFleet };
    });

    expect(outcome.skipped).toMatchObject({
      endpoints: 0,
      monitorsStarted: 0,
      rows: [],
      skipped: { runningSweep: expect.stringMatching(/-exclusive$/) as unknown },
    });
    expect(outcome.sweepsWhileHeld).toBe(0);
    expect(outcome.ran).toMatchObject({ endpoints: 1, monitorsStarted: 1 });
    expect(outcome.ran.skipped).toBeUndefined();
    expect(outcome.sweepsAfter).toBe(1);
  });

  it('report mode covers every endpoint in the account, reads monitor states and starts nothing', async () => {
    await createTestEndpoint(harness.moto.aws, 'watched-ep', { instanceCount: 2 });
    await createTestEndpoint(harness.moto.aws, 'unwatched-ep', { managed: false });
    await createTestEndpoint(harness.moto.aws, 'unpriced-ep', { instanceType: 'ml.c4.large' });

    const { report, unwatched } = await harness.withIdleWorker(async (taskQueue) => {
      await harness.startMonitor(taskQueue, { endpointName: 'watched-ep', policy: POLICY });
      await firstChecks(harness, ['watched-ep']);
      const report = await sweep(harness, taskQueue, { mode: 'report', policy: POLICY }, 'idleSweep-exclusive-report');
      const unwatched = await harness.env.client.workflow
        .getHandle(idleMonitorWorkflowId('unwatched-ep'))
        .describe()
        .catch((error: unknown) => error);
      return { report, unwatched };
    });

    expect(report).toMatchObject({ mode: 'report', endpoints: 3, managed: 2, monitorsStarted: 0, metricQueries: 3, getMetricDataCalls: 1 });
    const rows = Object.fromEntries(report.rows.map((row) => [row.endpointName, row]));
    expect(rows['watched-ep']).toMatchObject({
      monitor: 'running',
      monitorState: 'watching',
      managed: true,
      instances: '2 x ml.g4dn.xlarge',
      costPerDayUsd: roundCents(0.736 * 2 * 24),
    });
    expect(Date.parse(rows['watched-ep']!.deleteAt!)).toBeGreaterThan(Date.parse(report.observedAt));
    expect(rows['unwatched-ep']).toMatchObject({
      monitor: 'none',
      monitorState: null,
      managed: false,
      lastInvocationAt: null,
      idleIsLowerBound: true,
    });
    // An instance type without a price is unknown, never free.
    expect(rows['unpriced-ep']).toMatchObject({ monitor: 'none', costPerDayUsd: null });
    expect(report.fleetCostPerDayUsd).toBe(roundCents(roundCents(0.736 * 2 * 24) + roundCents(0.736 * 24)));
    expect(unwatched).toBeInstanceOf(WorkflowNotFoundError);
  });

  it('deletes the managed configs and models nothing uses, keeping what serves, what a rollback needs, the kept and the unmanaged', async () => {
    const { sagemaker } = harness.moto.aws;
    const serving = await createTestEndpoint(harness.moto.aws, 'llmtwin-endpoint-wren');
    const managed: Array<{ Key: string; Value: string }> = [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }];
    const model = (ModelName: string, Tags = managed) =>
      sagemaker.send(
        new CreateModelCommand({
          ModelName,
          PrimaryContainer: { Image: STAND_IN_IMAGE },
          ExecutionRoleArn: 'arn:aws:iam::123456789012:role/llmtwin-test',
          Tags,
        }),
      );
    const config = (EndpointConfigName: string, ModelName: string, Tags = managed) =>
      sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName,
          ProductionVariants: [{ VariantName: 'AllTraffic', ModelName, InstanceType: 'ml.g4dn.xlarge', InitialInstanceCount: 1 }],
          Tags,
        }),
      );
    await model('llmtwin-model-old');
    await config('llmtwin-config-old', 'llmtwin-model-old'); // what a rollback serves again
    const endpointArn = (await sagemaker.send(new DescribeEndpointCommand({ EndpointName: serving.endpointName }))).EndpointArn!;
    await sagemaker.send(
      new AddTagsCommand({ ResourceArn: endpointArn, Tags: [{ Key: 'llmtwin:previous-config', Value: 'llmtwin-config-old' }] }),
    );
    await model('llmtwin-model-orphan');
    await config('llmtwin-config-orphan', 'llmtwin-model-orphan'); // a teardown that stopped half-way
    await model('llmtwin-model-theirs', []);
    await config('llmtwin-config-theirs', 'llmtwin-model-theirs', []); // not ours
    await model('llmtwin-model-kept', [...managed, { Key: KEEP_TAG.key, Value: KEEP_TAG.value }]);

    const result = await harness.withIdleWorker((taskQueue) => sweep(harness, taskQueue, { mode: 'ensure', policy: POLICY }), {
      orphanGraceMs: 0,
    });

    expect(result.orphans).toEqual({
      endpointConfigs: ['llmtwin-config-orphan'],
      models: ['llmtwin-model-orphan'],
      deleted: true,
      scanned: true,
    });
    const configs = (await sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs?.map((c) => c.EndpointConfigName).sort();
    const models = (await sagemaker.send(new ListModelsCommand({}))).Models?.map((m) => m.ModelName).sort();
    expect(configs).toEqual(['llmtwin-config-old', 'llmtwin-config-theirs', serving.configName].sort());
    expect(models).toEqual(['llmtwin-model-kept', 'llmtwin-model-old', 'llmtwin-model-theirs', serving.modelName].sort());
  });
});
