import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { InvocationBatcher } from '../../../activities/idle/invocation-batcher';

const at = (hhmmss: string) => Date.parse(`2026-01-01T${hhmmss}Z`);
const target = (endpointName: string, metricName?: string) => ({
  endpointName,
  variantName: 'AllTraffic',
  ...(metricName ? { metricName } : {}),
});

describe('InvocationBatcher: monitor reads that share GetMetricData calls', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  const client = new CloudWatchClient({ region: 'us-east-1' });
  afterEach(() => cloudwatch.reset());
  afterAll(() => cloudwatch.restore());
  const inputs = () => cloudwatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input);

  it('sends reads asked for together as one call over the union of their windows, each counting only its own window', async () => {
    // Each query answers with datapoints across the union; a read alone would only have had its own window's.
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((query) => ({
        Id: query.Id,
        Timestamps: [new Date(at('12:04:00')), new Date(at('12:03:00')), new Date(at('12:01:00'))],
        Values: query.Id === 'q0' ? [0, 7, 5] : [2, 0, 3],
      })),
    }));
    const batcher = new InvocationBatcher(client);
    const [a, b] = await Promise.all([
      // Window 12:00:30 - 12:02:30: periods from 12:00.
      batcher.read([target('ep-a')], { now: at('12:02:30'), windowMs: 120_000 }),
      // Window 12:03:00 - 12:05:00.
      batcher.read([target('ep-b')], { now: at('12:05:00'), windowMs: 120_000 }),
    ]);
    expect(inputs()).toHaveLength(1);
    expect(inputs()[0]).toMatchObject({ StartTime: new Date(at('12:00:00')), EndTime: new Date(at('12:05:00')) });
    expect(inputs()[0]!.MetricDataQueries!.map((query) => query.MetricStat!.Metric!.Dimensions![0]!.Value)).toEqual(['ep-a', 'ep-b']);
    // ep-a: the 12:01 period (5) is its own; 12:03 (7) is after its window. Its last call: that period's end.
    expect(a).toEqual({ invocations: 5, lastInvocationAt: at('12:02:00') });
    // ep-b: 12:04 (2) is its own; 12:01 (3) is before its window. The period's end is capped at its now.
    expect(b).toEqual({ invocations: 2, lastInvocationAt: at('12:05:00') });
  });

  it('fills a call with at most 500 queries: 600 reads at once are 2 calls', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const batcher = new InvocationBatcher(client);
    const readings = await Promise.all(
      Array.from({ length: 600 }, (_, index) => batcher.read([target(`ep-${index}`)], { now: at('12:00:00'), windowMs: 60_000 })),
    );
    expect(inputs().map((input) => input.MetricDataQueries!.length)).toEqual([500, 100]);
    expect(readings.every((reading) => reading.invocations === 0 && reading.lastInvocationAt === null)).toBe(true);
  });

  it('retries a failed merged call read by read, so only the read whose query is refused fails', async () => {
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      if ((input.MetricDataQueries ?? []).some((query) => query.MetricStat!.Metric!.MetricName === 'NoSuchMetric!')) {
        throw Object.assign(new Error('The value NoSuchMetric! for parameter MetricName is invalid.'), {
          name: 'InvalidParameterValueException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return { MetricDataResults: [] };
    });
    const batcher = new InvocationBatcher(client);
    const [good, bad] = await Promise.allSettled([
      batcher.read([target('ep-good')], { now: at('12:00:00'), windowMs: 60_000 }),
      batcher.read([target('ep-bad', 'NoSuchMetric!')], { now: at('12:00:00'), windowMs: 60_000 }),
    ]);
    expect(good).toEqual({ status: 'fulfilled', value: { invocations: 0, lastInvocationAt: null } });
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/GetMetricData.*NoSuchMetric!/s);
    // The merged call, then each read alone.
    expect(inputs().map((input) => input.MetricDataQueries!.length)).toEqual([2, 1, 1]);
  });

  it('fails every read of a merged call that was throttled, without a call per read', async () => {
    cloudwatch
      .on(GetMetricDataCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      );
    const batcher = new InvocationBatcher(new CloudWatchClient({ region: 'us-east-1', maxAttempts: 1 }));
    const reads = await Promise.allSettled(
      Array.from({ length: 3 }, (_, index) => batcher.read([target(`ep-${index}`)], { now: at('12:00:00'), windowMs: 60_000 })),
    );
    expect(reads.map((read) => read.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((reads[0] as PromiseRejectedResult).reason)).toMatch(/GetMetricData.*ThrottlingException/s);
    expect(inputs().map((input) => input.MetricDataQueries!.length)).toEqual([3]);
  });

  it('drops a read cancelled before its call went out', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const batcher = new InvocationBatcher(client);
    const cancel = new AbortController();
    const cancelled = batcher.read([target('ep-cancelled')], { now: at('12:00:00'), windowMs: 60_000 }, cancel.signal);
    const kept = batcher.read([target('ep-kept')], { now: at('12:00:00'), windowMs: 60_000 });
    cancel.abort(new Error('activity cancelled'));
    await expect(cancelled).rejects.toThrow('activity cancelled');
    await expect(kept).resolves.toEqual({ invocations: 0, lastInvocationAt: null });
    expect(inputs().map((input) => input.MetricDataQueries!.map((query) => query.MetricStat!.Metric!.Dimensions![0]!.Value))).toEqual([
      ['ep-kept'],
    ]);
  });
});
