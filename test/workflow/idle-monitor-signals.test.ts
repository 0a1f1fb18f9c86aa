import { DeleteEndpointCommand, DeleteTagsCommand, DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { keepAliveSignal, pauseSignal, resumeSignal, setPolicySignal, statusQuery } from '../../common/idle/contract';
import { KEEP_TAG } from '../../common/shared/naming';
import { createTestEndpoint, existingParts } from '../helpers/endpoint-fixtures';
import { HOUR, MINUTE, useIdleHarness } from '../helpers/idle-harness';
import { recordHistoryIfAsked } from '../helpers/replay';

// Signals, continue-as-new and the cases where there is nothing (or nothing allowed) to delete.
describe('idleMonitor signals, continue-as-new, gone and kept endpoints (time-skipping, moto)', () => {
  const harness = useIdleHarness();

  it('pause holds off deletion past the deadline; state survives continue-as-new; resume deletes', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'paused-ep');
    const inServiceAt = await harness.inServiceAt(endpoint.endpointName);

    const { paused, partsWhilePaused, resumedAt, summary, firstRunId, lastRunId } = await harness.withIdleWorker(async (taskQueue) => {
      // Three checks a run: every 15 simulated minutes the monitor continues as new.
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '5m', window: '1h' },
        maxChecksPerRun: 3,
      });
      await harness.env.sleep('10m');
      await handle.signal(keepAliveSignal);
      await handle.signal(pauseSignal);
      await harness.env.sleep('3h');
      const paused = await handle.query(statusQuery);
      const partsWhilePaused = await existingParts(harness.moto.aws, endpoint);
      await handle.signal(resumeSignal);
      const resumedAt = await harness.now();
      const summary = await handle.result();
      const lastRunId = (await handle.describe()).runId;
      await recordHistoryIfAsked(handle, 'idleMonitor-local-calls-paused-continued-as-new');
      return { paused, partsWhilePaused, resumedAt, summary, firstRunId: handle.firstExecutionRunId, lastRunId };
    });

    expect(partsWhilePaused.endpoint).toBe(true);
    expect(paused).toMatchObject({ state: 'paused', paused: true, deleteAt: null, timeUntilDeletionMs: null, keepAlives: 1 });
    expect(paused.lastCheck?.reason).toBe('paused: resume to allow deletion');
    // 3 h of 5-minute checks at 3 a run: many runs, one history chain, state carried through all of them.
    expect(paused.runs).toBeGreaterThanOrEqual(10);
    expect(paused.checks).toBeGreaterThanOrEqual(30);
    expect(lastRunId).not.toBe(firstRunId);
    expect(summary.outcome).toBe('deleted');
    expect(summary.runs).toBeGreaterThan(paused.runs - 1);
    expect(summary.keepAlives).toBe(1);
    expect(Date.parse(summary.lastInvocationAt!)).toBeGreaterThanOrEqual(inServiceAt + 10 * MINUTE);
    expect(Date.parse(summary.lastInvocationAt!)).toBeLessThan(inServiceAt + 11 * MINUTE);
    // Resume wakes the monitor at once; idle time is not reset by the pause.
    expect(Date.parse(summary.endedAt) - resumedAt).toBeLessThan(MINUTE);
    expect(summary.idleMs).toBeGreaterThan(3 * HOUR - 10 * MINUTE);
    expect(await existingParts(harness.moto.aws, endpoint)).toEqual({ endpoint: false, config: false, model: false });
  });

  it('setPolicy changes the deadline at once; an invalid patch is refused and shown in status', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'policy-ep');
    const inServiceAt = await harness.inServiceAt(endpoint.endpointName);

    const { before, refused, summary, changedAt } = await harness.withIdleWorker(async (taskQueue) => {
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '30m', window: '6h' },
      });
      await harness.env.sleep('1h');
      const before = await handle.query(statusQuery);
      await handle.signal(setPolicySignal, { window: 'soon' });
      await harness.env.sleep('1m');
      const refused = await handle.query(statusQuery);
      await handle.signal(setPolicySignal, { window: '30m', grace: '0s', checkInterval: '2m' });
      const changedAt = await harness.now();
      const summary = await handle.result();
      await recordHistoryIfAsked(handle, 'idleMonitor-local-calls-set-policy');
      return { before, refused, summary, changedAt };
    });

    expect(Date.parse(before.deleteAt!)).toBe(inServiceAt + 6 * HOUR);
    expect(refused.rejectedPolicy).toMatch(/window: must be a positive duration/);
    expect(refused.policy).toEqual({ checkInterval: '30m', window: '6h' });
    expect(summary.outcome).toBe('deleted');
    expect(summary.policy).toEqual({ checkInterval: '2m', window: '30m', grace: '0s' });
    expect(Date.parse(summary.endedAt) - changedAt).toBeLessThan(MINUTE);
  });

  it('an endpoint deleted by someone else counts as deleted, and nothing else of it is touched', async () => {
    const doomed = await createTestEndpoint(harness.moto.aws, 'doomed-ep');

    const later = await harness.withIdleWorker(async (taskQueue) => {
      // A deadline far beyond the deletion below, so only someone else can have removed the endpoint.
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: doomed.endpointName,
        policy: { checkInterval: '5m', window: '6h' },
      });
      await harness.env.sleep('20m');
      await harness.moto.aws.sagemaker.send(new DeleteEndpointCommand({ EndpointName: doomed.endpointName }));
      const later = await handle.result();
      await recordHistoryIfAsked(handle, 'idleMonitor-local-calls-deleted-elsewhere');
      return later;
    });

    expect(later).toMatchObject({ outcome: 'already-deleted', teardown: null, estimatedIdleCostUsd: null });
    expect(later.message).toBe('doomed-ep was deleted outside this monitor; nothing left to do');
    expect(later.checks).toBeGreaterThanOrEqual(4);
    // The config and model someone left stay theirs to remove.
    expect(await existingParts(harness.moto.aws, doomed)).toEqual({ endpoint: false, config: true, model: true });
    expect(harness.calls.teardownEndpoint).toBe(0);
  });

  it('an endpoint that never existed ends the monitor at once, saying to check the name', async () => {
    // The test server skips years ahead once no timer is left anywhere: this must be the test's last step.
    const never = await harness.withIdleWorker(async (taskQueue) =>
      (await harness.startMonitor(taskQueue, { endpointName: 'never-existed-ep' })).result(),
    );

    expect(never).toMatchObject({ outcome: 'already-deleted', teardown: null, checks: 0, creationTime: null, uptime: null });
    expect(never.message).toBe('never-existed-ep does not exist (this monitor never saw it): check the name and region');
  });

  it('never deletes an endpoint tagged llmtwin:keep=true; removing the tag brings the normal rules back', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'keep-ep', { keep: true });

    const { kept, parts, summary } = await harness.withIdleWorker(async (taskQueue) => {
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '10m', window: '30m' },
      });
      await harness.env.sleep('2h');
      const kept = await handle.query(statusQuery);
      const parts = await existingParts(harness.moto.aws, endpoint);
      const arn = (await harness.moto.aws.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpoint.endpointName })))
        .EndpointArn!;
      await harness.moto.aws.sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: [KEEP_TAG.key] }));
      const summary = await handle.result();
      await recordHistoryIfAsked(handle, 'idleMonitor-local-calls-keep-tag');
      return { kept, parts, summary };
    });

    expect(parts).toEqual({ endpoint: true, config: true, model: true });
    expect(kept).toMatchObject({ state: 'kept', deleteAt: null, timeUntilDeletionMs: null });
    expect(kept.lastCheck).toMatchObject({ action: 'keep', reason: 'tagged llmtwin:keep=true: never deleted' });
    expect(kept.checks).toBeGreaterThanOrEqual(10);
    expect(harness.calls.teardownEndpoint).toBe(1);
    expect(summary.outcome).toBe('deleted');
  });
});
