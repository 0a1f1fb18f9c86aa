import { DescribeScalableTargetsCommand, DescribeScalingPoliciesCommand } from '@aws-sdk/client-application-auto-scaling';
import { statusQuery } from '../../common/idle/contract';
import { roundCents } from '../../common/shared/pricing';
import { createTestEndpoint, existingParts, putInvocations } from '../helpers/endpoint-fixtures';
import { HOUR, MINUTE, useIdleHarness } from '../helpers/idle-harness';
import { recordHistoryIfAsked } from '../helpers/replay';

// Real activities against moto on the time-skipping server: hours of monitoring in seconds.
describe('idleMonitor deletes what nobody calls (time-skipping, moto)', () => {
  const harness = useIdleHarness();

  it('deletes an idle endpoint once the window has passed, with its autoscaling, config and model', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'idle-ep', { autoscaling: true, instanceCount: 2 });
    const inServiceAt = await harness.inServiceAt(endpoint.endpointName);
    const startedReal = Date.now();

    const summary = await harness.withIdleWorker(async (taskQueue) => {
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '5m', window: '1h' },
      });
      const result = await handle.result();
      await recordHistoryIfAsked(handle, 'idleMonitor-local-calls-idle-deleted');
      return result;
    });

    const deletedAt = Date.parse(summary.endedAt);
    expect(summary.outcome).toBe('deleted');
    // Grace defaults to one window; the monitor sleeps to the deadline rather than to the next interval.
    expect(deletedAt - inServiceAt).toBeGreaterThanOrEqual(HOUR);
    expect(deletedAt - inServiceAt).toBeLessThanOrEqual(HOUR + 5 * MINUTE);
    expect(await existingParts(harness.moto.aws, endpoint)).toEqual({ endpoint: false, config: false, model: false });
    const resourceId = `endpoint/${endpoint.endpointName}/variant/AllTraffic`;
    const targets = await harness.moto.aws.autoscaling.send(
      new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: [resourceId] }),
    );
    const policies = await harness.moto.aws.autoscaling.send(
      new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker', ResourceId: resourceId }),
    );
    expect(targets.ScalableTargets).toEqual([]);
    expect(policies.ScalingPolicies).toEqual([]);
    expect(summary.teardown).toEqual({
      endpointDeleted: true,
      scalingPoliciesDeleted: [`${resourceId}:${endpoint.endpointName}-invocations`],
      scalableTargetsDeregistered: [resourceId],
      endpointConfig: { name: endpoint.configName, deleted: true, reason: 'ours (llmtwin:managed=true)' },
      models: [{ name: endpoint.modelName, deleted: true, reason: 'ours (llmtwin:managed=true)' }],
    });
    // 2 x ml.g4dn.xlarge at $0.736/h: about $35.33 a day saved, about an hour of it spent idle.
    expect(summary.estimatedSavedPerDayUsd).toBe(roundCents(0.736 * 2 * 24));
    expect(summary.estimatedIdleCostUsd).toBeCloseTo(roundCents((0.736 * 2 * (deletedAt - inServiceAt)) / HOUR), 2);
    expect(summary.lastInvocationAt).toBeNull();
    expect(summary.instances).toEqual([
      { variantName: 'AllTraffic', instanceType: 'ml.g4dn.xlarge', instanceCount: 2, usdPerInstanceHour: 0.736 },
    ]);
    expect((Date.now() - startedReal) / 1000).toBeLessThan(45);
  });

  it('keeps an endpoint alive while CloudWatch shows traffic, and deletes it a window after the last call', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'busy-ep');
    const t0 = await harness.now();
    const calls = [t0 + 20 * MINUTE, t0 + 80 * MINUTE, t0 + 140 * MINUTE];
    // Datapoints ahead of the clock: each becomes visible to the monitor's window as time passes.
    await putInvocations(harness.moto.aws, endpoint, calls);

    const { summary, midway } = await harness.withIdleWorker(async (taskQueue) => {
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '5m', window: '1h' },
      });
      await harness.env.sleep('2h');
      const status = await handle.query(statusQuery);
      const stillThere = await existingParts(harness.moto.aws, endpoint);
      return { summary: await handle.result(), midway: { status, stillThere } };
    });

    expect(midway.stillThere.endpoint).toBe(true);
    expect(midway.status.state).toBe('watching');
    expect(Date.parse(midway.status.lastInvocationAt!)).toBeGreaterThanOrEqual(calls[1]!);
    const last = calls[2]!;
    expect(summary.outcome).toBe('deleted');
    // CloudWatch resolves calls to the minute: the last call is known to within one period.
    expect(Date.parse(summary.lastInvocationAt!)).toBeGreaterThanOrEqual(last);
    expect(Date.parse(summary.lastInvocationAt!)).toBeLessThanOrEqual(last + MINUTE);
    expect(Date.parse(summary.endedAt)).toBeGreaterThanOrEqual(last + HOUR);
    expect(Date.parse(summary.endedAt)).toBeLessThanOrEqual(last + HOUR + MINUTE + 5 * MINUTE);
    expect(summary.idleMs).toBeGreaterThanOrEqual(HOUR);
  });

  it('protects a new endpoint for the grace period even when its window is idle', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'new-ep');
    const inServiceAt = await harness.inServiceAt(endpoint.endpointName);

    const { summary, early } = await harness.withIdleWorker(async (taskQueue) => {
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '10m', window: '30m', grace: '3h' },
      });
      await harness.env.sleep('1h');
      const early = { status: await handle.query(statusQuery), parts: await existingParts(harness.moto.aws, endpoint) };
      return { summary: await handle.result(), early };
    });

    expect(early.parts.endpoint).toBe(true);
    expect(early.status.lastCheck?.reason).toBe('in the grace period after InService');
    // The deadline is exact; the time left is counted from the workflow's last check (the query's clock).
    expect(Date.parse(early.status.deleteAt!)).toBe(inServiceAt + 3 * HOUR);
    expect(early.status.timeUntilDeletionMs).toBeGreaterThanOrEqual(2 * HOUR - 10 * MINUTE);
    expect(early.status.timeUntilDeletionMs).toBeLessThanOrEqual(2 * HOUR + 10 * MINUTE);
    const deletedAfter = Date.parse(summary.endedAt) - inServiceAt;
    expect(deletedAfter).toBeGreaterThanOrEqual(3 * HOUR);
    expect(deletedAfter).toBeLessThanOrEqual(3 * HOUR + 10 * MINUTE);
  });

  it('never deletes an asynchronous endpoint as idle unless the policy names a metric to judge it by, then uses that metric', async () => {
    const measured = await createTestEndpoint(harness.moto.aws, 'async-measured-ep', { asynchronous: true });
    const unmeasured = await createTestEndpoint(harness.moto.aws, 'async-unmeasured-ep', { asynchronous: true });
    const t0 = await harness.now();
    const calls = [t0 + 20 * MINUTE, t0 + 80 * MINUTE];
    // Asynchronous endpoints count requests in InvocationsProcessed; Invocations stays empty for both.
    await putInvocations(harness.moto.aws, measured, calls, 3, 'InvocationsProcessed');
    await putInvocations(harness.moto.aws, unmeasured, calls, 3, 'InvocationsProcessed');

    const outcome = await harness.withIdleWorker(async (taskQueue) => {
      const judged = await harness.startMonitor(taskQueue, {
        endpointName: measured.endpointName,
        policy: { checkInterval: '5m', window: '1h', asyncMetric: 'InvocationsProcessed' },
      });
      const kept = await harness.startMonitor(taskQueue, {
        endpointName: unmeasured.endpointName,
        policy: { checkInterval: '5m', window: '1h' },
      });
      const summary = await judged.result();
      return { summary, status: await kept.query(statusQuery), unmeasuredParts: await existingParts(harness.moto.aws, unmeasured) };
    });

    // Judged by InvocationsProcessed: alive through the calls, deleted a window after the last one.
    expect(outcome.summary.outcome).toBe('deleted');
    expect(Date.parse(outcome.summary.endedAt)).toBeGreaterThanOrEqual(calls[1]! + HOUR);
    expect(Date.parse(outcome.summary.lastInvocationAt!)).toBeGreaterThanOrEqual(calls[1]!);
    // The other, hours on, untouched and saying why.
    expect(outcome.unmeasuredParts.endpoint).toBe(true);
    expect(outcome.status.lastCheck).toMatchObject({ action: 'keep', reason: expect.stringMatching(/^not measurable: /) as unknown });
    expect(outcome.status.checks).toBeGreaterThan(20);
  });

  it('treats keepAlive as an invocation now', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'kept-alive-ep');
    const inServiceAt = await harness.inServiceAt(endpoint.endpointName);

    const { summary, keepAliveAt } = await harness.withIdleWorker(async (taskQueue) => {
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '5m', window: '1h' },
      });
      await harness.env.sleep('50m');
      await handle.signal('keepAlive');
      const keepAliveAt = await harness.now();
      return { summary: await handle.result(), keepAliveAt };
    });

    expect(summary.keepAlives).toBe(1);
    expect(Math.abs(Date.parse(summary.lastInvocationAt!) - keepAliveAt)).toBeLessThan(MINUTE);
    // Without the keepAlive it would have gone at inServiceAt + 1h.
    expect(Date.parse(summary.endedAt)).toBeGreaterThan(inServiceAt + HOUR + 45 * MINUTE);
    expect(Date.parse(summary.endedAt)).toBeLessThanOrEqual(keepAliveAt + HOUR + 5 * MINUTE);
  });

  it('deletes only what is ours: an untagged config and model stay, and deleteModel=false keeps our model', async () => {
    const foreign = await createTestEndpoint(harness.moto.aws, 'foreign-ep', { managed: false });
    const ours = await createTestEndpoint(harness.moto.aws, 'ours-ep');

    const [foreignSummary, oursSummary] = await harness.withIdleWorker(async (taskQueue) => {
      const policy = { checkInterval: '5m', window: '30m' };
      const first = await harness.startMonitor(taskQueue, { endpointName: foreign.endpointName, policy });
      const second = await harness.startMonitor(taskQueue, { endpointName: ours.endpointName, policy, deleteModel: false });
      // One result() at a time: each unlocks time skipping while it waits, and concurrent unlocks confuse the server.
      const foreignDone = await first.result();
      return [foreignDone, await second.result()] as const;
    });

    expect(await existingParts(harness.moto.aws, foreign)).toEqual({ endpoint: false, config: true, model: true });
    expect(foreignSummary.teardown?.models).toEqual([
      { name: foreign.modelName, deleted: false, reason: 'kept: not tagged llmtwin:managed=true' },
    ]);
    expect(await existingParts(harness.moto.aws, ours)).toEqual({ endpoint: false, config: false, model: true });
    expect(oursSummary.teardown?.models).toEqual([{ name: ours.modelName, deleted: false, reason: 'kept: deleteModel is false' }]);
  });

  /** A client whose first `times` calls of one command fail as AWS fails under a brownout (the call never reaches moto). */
  function browningOut<C extends { send: (command: never) => Promise<unknown> }>(
    client: C,
    command: string,
    times: number,
    error: Error,
  ): C {
    let failures = 0;
    const send = (cmd: { constructor: { name: string } }, ...rest: unknown[]) => {
      if (cmd.constructor.name === command && failures < times) {
        failures += 1;
        return Promise.reject(error);
      }
      return (client.send as (...args: unknown[]) => Promise<unknown>)(cmd, ...rest);
    };
    return { send } as unknown as C;
  }
  const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  const serverError = () =>
    Object.assign(new Error('We encountered an internal error. Please try again.'), {
      name: 'InternalFailure',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });

  it('outlives GetMetricData throttled past its retries: reports degraded, keeps checking, then deletes the endpoint', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'brownout-ep');
    // 20 throttles in a row: more than two checks' worth of the activity's 8 attempts.
    const cloudwatch = browningOut(harness.moto.aws.cloudwatch, 'GetMetricDataCommand', 20, throttled());
    const { summary, degraded } = await harness.withIdleWorker(
      async (taskQueue) => {
        const handle = await harness.startMonitor(taskQueue, {
          endpointName: endpoint.endpointName,
          policy: { checkInterval: '5m', window: '1h' },
        });
        let degraded: unknown = null;
        const watching = (async () => {
          while (!degraded) {
            degraded = (await handle.query(statusQuery).catch(() => null))?.degraded ?? null;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        const result = await handle.result();
        degraded ??= 'never seen';
        await watching;
        return { summary: result, degraded };
      },
      { cloudwatch },
    );
    expect(summary.outcome).toBe('deleted');
    expect(summary.failedAttempts).toBeGreaterThanOrEqual(2);
    expect(degraded).toMatchObject({ during: 'check', lastError: expect.stringContaining('Rate exceeded') as string });
    expect(await existingParts(harness.moto.aws, endpoint)).toEqual({ endpoint: false, config: false, model: false });
  });

  it('a monitor cancelled while it waits leaves its endpoint up and says so in its memo', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'unwatched-ep');
    const { status, memo } = await harness.withIdleWorker(async (taskQueue) => {
      const handle = await harness.startMonitor(taskQueue, {
        endpointName: endpoint.endpointName,
        policy: { checkInterval: '5m', window: '1h' },
      });
      await harness.env.sleep('10m');
      await handle.cancel();
      await handle.result().catch(() => undefined);
      const described = await handle.describe();
      return { status: described.status.name, memo: described.memo };
    });
    expect(status).toBe('CANCELLED');
    expect(memo?.summary).toMatch(/^cancelled: .*unwatched-ep stays up, unwatched/);
    expect((await existingParts(harness.moto.aws, endpoint)).endpoint).toBe(true);
  });

  it('a teardown that has begun runs to the end: DeleteEndpointConfig failing past its retries, and a cancel meanwhile, orphan nothing', async () => {
    const endpoint = await createTestEndpoint(harness.moto.aws, 'orphan-ep');
    const sagemaker = browningOut(harness.moto.aws.sagemaker, 'DeleteEndpointConfigCommand', 12, serverError());
    const outcome = await harness.withIdleWorker(
      async (taskQueue) => {
        const handle = await harness.startMonitor(taskQueue, {
          endpointName: endpoint.endpointName,
          policy: { checkInterval: '5m', window: '1h' },
        });
        // Waiting on the result lets the server skip time; cancel once the endpoint itself is gone and
        // its config and model are still to delete (or at once, if the teardown already finished).
        const result = handle.result().then(
          (summary) => ({ summary, error: undefined as unknown }),
          (error: unknown) => ({ summary: undefined, error }),
        );
        let ended = false;
        void result.then(() => (ended = true));
        while (!ended && (await existingParts(harness.moto.aws, endpoint)).endpoint)
          await new Promise((resolve) => setTimeout(resolve, 10));
        if (!ended) await handle.cancel().catch(() => undefined);
        return result;
      },
      { sagemaker },
    );
    // Whether it ended deleted or cancelled, what it began to delete is gone.
    expect(await existingParts(harness.moto.aws, endpoint)).toEqual({ endpoint: false, config: false, model: false });
    if (outcome.summary) expect(outcome.summary.teardown?.endpointConfig).toMatchObject({ deleted: true });
  });
});
