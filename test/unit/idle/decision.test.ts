import { idleMonitorWorkflowId, policyMs, type FoundObservation } from '../../../common/idle/contract';
import { IdleMonitorInputSchema, IdlePolicyPatchSchema } from '../../../common/idle/schemas';
import {
  costPerDayUsd,
  decideIdle,
  formatDuration,
  hourlyCost,
  idleCostFigures,
  isNotMeasurable,
  isUsableObservation,
  laterOf,
  nextCheckDelayMs,
  nextInServiceAt,
  type IdleDecisionInput,
} from '../../../common/idle/decision';
import { chunk, formatIdle, metricCallsFor } from '../../../common/idle/sweep';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = Date.UTC(2026, 0, 1, 12);
const POLICY = policyMs({ checkInterval: '5m', window: '1h' });

function decide(overrides: Partial<IdleDecisionInput>) {
  return decideIdle({
    policy: POLICY,
    now: T,
    paused: false,
    status: 'InService',
    keep: false,
    inServiceAt: T - 3 * HOUR,
    lastInvocationAt: undefined,
    ...overrides,
  });
}

function observation(overrides: Partial<FoundObservation> = {}): FoundObservation {
  return {
    found: true,
    endpointName: 'ep',
    observedAt: T,
    windowMs: HOUR,
    status: 'InService',
    creationTime: T - 4 * HOUR,
    lastModifiedTime: T - 3 * HOUR,
    variants: [{ variantName: 'AllTraffic', instanceType: 'ml.g5.xlarge', instanceCount: 2, usdPerInstanceHour: 1.408 }],
    managed: true,
    keep: false,
    lastInvocationAt: null,
    invocationsInWindow: 0,
    ...overrides,
  };
}

describe('decideIdle', () => {
  it('deletes once both the grace period and a whole window without invocations are over', () => {
    expect(decide({})).toEqual({
      action: 'delete',
      reason: 'no invocations in the window and the grace period ended 2h 00m ago',
      deleteAt: T - 2 * HOUR,
    });
    expect(decide({ lastInvocationAt: T - HOUR })).toEqual({ action: 'delete', reason: 'idle for 1h 00m (window 1h 00m)', deleteAt: T });
  });

  it('waits while the window still holds an invocation, and says when it will delete', () => {
    expect(decide({ lastInvocationAt: T - 10 * MINUTE })).toEqual({
      action: 'wait',
      reason: 'invoked within the window',
      deleteAt: T + 50 * MINUTE,
    });
  });

  it('protects a new endpoint for the grace period (one window unless set), even with no invocations at all', () => {
    expect(decide({ inServiceAt: T - 20 * MINUTE })).toEqual({
      action: 'wait',
      reason: 'in the grace period after InService',
      deleteAt: T + 40 * MINUTE,
    });
    const longGrace = policyMs({ checkInterval: '5m', window: '1h', grace: '4h' });
    expect(decide({ policy: longGrace }).deleteAt).toBe(T + HOUR);
    expect(decide({ policy: policyMs({ checkInterval: '5m', window: '1h', grace: '0s' }), inServiceAt: T - 1 }).action).toBe('delete');
  });

  it('never deletes a kept, paused or not-InService endpoint', () => {
    expect(decide({ keep: true })).toEqual({ action: 'keep', reason: 'tagged llmtwin:keep=true: never deleted' });
    expect(decide({ paused: true })).toEqual({ action: 'wait', reason: 'paused: resume to allow deletion' });
    for (const status of ['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'OutOfService', 'Failed', 'Deleting']) {
      expect(decide({ status })).toEqual({ action: 'wait', reason: `endpoint is ${status}; only an InService endpoint is deleted` });
    }
    expect(decide({ inServiceAt: undefined }).action).toBe('wait');
    // Idle for days by its (missing) metrics, yet an asynchronous endpoint is never judged by them.
    expect(decide({ asynchronous: true, lastInvocationAt: undefined })).toMatchObject({
      action: 'keep',
      reason: expect.stringMatching(/^not measurable: an asynchronous inference endpoint publishes no Invocations metric/) as unknown,
    });
  });
});

describe('nextCheckDelayMs', () => {
  it('sleeps one interval, or only until the deadline when it comes first (never less than a second)', () => {
    expect(nextCheckDelayMs({ action: 'wait', reason: '', deleteAt: T + HOUR }, POLICY, T)).toBe(5 * MINUTE);
    expect(nextCheckDelayMs({ action: 'wait', reason: '', deleteAt: T + 90_000 }, POLICY, T)).toBe(90_000);
    expect(nextCheckDelayMs({ action: 'wait', reason: '', deleteAt: T + 10 }, POLICY, T)).toBe(1_000);
    expect(nextCheckDelayMs({ action: 'keep', reason: '' }, POLICY, T)).toBe(5 * MINUTE);
    // Fed by the sweep: no look of its own before the deadline or the reading going stale, whichever comes first.
    expect(nextCheckDelayMs({ action: 'wait', reason: '', deleteAt: T + HOUR }, POLICY, T, T + 25 * MINUTE)).toBe(25 * MINUTE);
    expect(nextCheckDelayMs({ action: 'wait', reason: '', deleteAt: T + 7 * MINUTE }, POLICY, T, T + 25 * MINUTE)).toBe(7 * MINUTE);
    expect(nextCheckDelayMs({ action: 'keep', reason: '' }, POLICY, T, T + 25 * MINUTE)).toBe(25 * MINUTE);
  });
});

describe('monitor state helpers', () => {
  it('fixes the grace period at the first InService seen, and never moves it', () => {
    expect(nextInServiceAt(undefined, observation())).toBe(T - 3 * HOUR);
    expect(nextInServiceAt(undefined, observation({ status: 'Creating' }))).toBeUndefined();
    expect(nextInServiceAt(T - 10 * HOUR, observation())).toBe(T - 10 * HOUR);
    expect(nextInServiceAt(undefined, { found: false, endpointName: 'ep', observedAt: T })).toBeUndefined();
  });

  it('moves the last invocation only forward (a keepAlive may be newer than the metrics)', () => {
    expect(laterOf(undefined, null)).toBeUndefined();
    expect(laterOf(undefined, T)).toBe(T);
    expect(laterOf(T, T - 1)).toBe(T);
  });

  it("uses the sweep's observation only while it is recent and covers the monitor's window", () => {
    expect(isUsableObservation(observation(), POLICY, T + 10 * MINUTE)).toBe(true);
    expect(isUsableObservation(observation(), POLICY, T + 10 * MINUTE + 1)).toBe(false);
    expect(isUsableObservation(observation({ windowMs: 30 * MINUTE }), POLICY, T)).toBe(false);
    expect(isUsableObservation(undefined, POLICY, T)).toBe(false);
    // Runs since the patch trust a sweep's reading for five intervals: the sweep re-sends unchanged ones every third sweep.
    expect(isUsableObservation(observation(), POLICY, T + 25 * MINUTE, { trustedIntervals: 5 })).toBe(true);
    expect(isUsableObservation(observation(), POLICY, T + 25 * MINUTE + 1, { trustedIntervals: 5 })).toBe(false);
  });

  it("an asynchronous endpoint is measurable only by a reading of the policy's asyncMetric", () => {
    const unread = observation({ asynchronous: true });
    const read = observation({ asynchronous: true, measuredBy: 'InvocationsProcessed' });
    expect(isNotMeasurable(unread, undefined)).toBe(true);
    expect(isNotMeasurable(unread, 'InvocationsProcessed')).toBe(true);
    expect(isNotMeasurable(read, 'InvocationsProcessed')).toBe(false);
    expect(isNotMeasurable(read, 'ApproximateBacklogSize')).toBe(true);
    expect(isNotMeasurable(read, undefined)).toBe(true);
    expect(isNotMeasurable(observation(), undefined)).toBe(false);
    // A sweep that did not read the monitor's metric cannot stand in for the monitor's own read.
    expect(isUsableObservation(unread, POLICY, T, { asyncMetric: 'InvocationsProcessed' })).toBe(false);
    expect(isUsableObservation(read, POLICY, T, { asyncMetric: 'InvocationsProcessed' })).toBe(true);
    expect(isUsableObservation(unread, POLICY, T)).toBe(true);
  });

  it('the policy takes asyncMetric as a CloudWatch metric name, from the start input and from setPolicy', () => {
    const input = { endpointName: 'ep', policy: { asyncMetric: 'InvocationsProcessed' } };
    expect(IdleMonitorInputSchema.parse(input).policy.asyncMetric).toBe('InvocationsProcessed');
    expect(IdlePolicyPatchSchema.safeParse({ asyncMetric: 'InvocationsProcessed' }).success).toBe(true);
    const bad = IdlePolicyPatchSchema.safeParse({ asyncMetric: 'not a metric!' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(/CloudWatch metric name of AWS\/SageMaker/);
  });
});

describe('cost', () => {
  it('prices instances per hour and per day; an unpriced type makes the total unknown, never zero', () => {
    expect(hourlyCost(observation().variants)).toEqual({ usdPerHour: 2.816, unpricedTypes: [] });
    expect(costPerDayUsd(observation().variants)).toBe(67.58);
    const mixed = [...observation().variants, { variantName: 'b', instanceType: 'ml.x9.huge', instanceCount: 1 }];
    expect(hourlyCost(mixed)).toEqual({ usdPerHour: null, unpricedTypes: ['ml.x9.huge'] });
    expect(costPerDayUsd(mixed)).toBeNull();
    expect(costPerDayUsd([{ variantName: 'scaled-to-zero', instanceType: 'ml.x9.huge', instanceCount: 0 }])).toBe(0);
  });

  it('turns uptime and idle time into money spent idle and money saved per day', () => {
    expect(idleCostFigures(observation(), T - 3 * HOUR, T - 2 * HOUR, T)).toEqual({
      uptimeMs: 4 * HOUR,
      idleMs: 2 * HOUR,
      estimatedIdleCostUsd: 5.63,
      estimatedSavedPerDayUsd: 67.58,
    });
    expect(idleCostFigures(undefined, undefined, undefined, T)).toEqual({
      uptimeMs: null,
      idleMs: null,
      estimatedIdleCostUsd: null,
      estimatedSavedPerDayUsd: null,
    });
  });
});

describe('contract', () => {
  it('derives one workflow id per endpoint and validates the input', () => {
    expect(idleMonitorWorkflowId('my-twin-ep')).toBe('idle-monitor-my-twin-ep');
    expect(IdleMonitorInputSchema.parse({ endpointName: 'my-twin-ep' })).toEqual({
      endpointName: 'my-twin-ep',
      policy: { checkInterval: '5m', window: '60m' },
      deleteModel: true,
      maxChecksPerRun: 200,
    });
    expect(IdleMonitorInputSchema.safeParse({ endpointName: 'bad_name' }).success).toBe(false);
    expect(IdleMonitorInputSchema.safeParse({ endpointName: 'ep', policy: { window: '0s' } }).success).toBe(false);
  });

  it('accepts a partial setPolicy patch, refuses an empty or unknown one', () => {
    expect(IdlePolicyPatchSchema.safeParse({ grace: '0s' }).success).toBe(true);
    expect(IdlePolicyPatchSchema.safeParse({}).success).toBe(false);
    expect(IdlePolicyPatchSchema.safeParse({ windw: '1h' }).success).toBe(false);
    expect(IdlePolicyPatchSchema.safeParse({ checkInterval: 'often' }).success).toBe(false);
  });

  it('batches metric queries at 500 a call', () => {
    expect([1, 500, 501, 1000, 1001].map(metricCallsFor)).toEqual([1, 1, 2, 2, 3]);
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('formats durations for people', () => {
    expect([45_000, 12 * MINUTE + 30_000, HOUR + 5 * MINUTE, 26 * HOUR].map(formatDuration)).toEqual([
      '45s',
      '12m 30s',
      '1h 05m',
      '1d 02h',
    ]);
    expect(formatIdle({ idleMs: HOUR, idleIsLowerBound: true })).toBe('>= 1h 00m');
  });
});
