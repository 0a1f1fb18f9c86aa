import { GetMetricDataCommand, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { chunk, MAX_METRIC_QUERIES_PER_CALL } from '../../common/idle/sweep';
import { awsCall } from '../aws/errors';
import type { CloudWatchSender } from '../aws/clients';

/** SageMaker publishes Invocations at 1-minute resolution; a finer period adds nothing. */
export const INVOCATIONS_PERIOD_SECONDS = 60;
const PERIOD_MS = INVOCATIONS_PERIOD_SECONDS * 1000;

export interface InvocationTarget {
  endpointName: string;
  variantName: string;
  /** Default Invocations; an asynchronous endpoint's is the policy's asyncMetric. */
  metricName?: string;
}

/** What to ask CloudWatch for one endpoint: every variant's Invocations, or for an asynchronous one the opted-in metric or nothing. */
export function invocationTargets(
  snapshot: { endpointName: string; asynchronous?: boolean; variants: ReadonlyArray<{ variantName: string }> },
  asyncMetric: string | undefined,
): InvocationTarget[] {
  if (snapshot.asynchronous && !asyncMetric) return [];
  return snapshot.variants.map((variant) => ({
    endpointName: snapshot.endpointName,
    variantName: variant.variantName,
    ...(snapshot.asynchronous ? { metricName: asyncMetric } : {}),
  }));
}

export interface InvocationReading {
  invocations: number;
  /** End of the latest period with invocations (an upper bound of the last call); null when none. */
  lastInvocationAt: number | null;
}

export interface InvocationReadResult {
  byEndpoint: Map<string, InvocationReading>;
  /** GetMetricData calls made (pages included): ceil(targets / 500) unless CloudWatch paginates. */
  calls: number;
}

/**
 * The window ending at `now` (the caller's clock: the workflow's time, never this process's), its start
 * rounded down to a whole period so periods line up with CloudWatch's minutes. Rounding down only
 * widens the window, which errs towards keeping an endpoint.
 */
export function metricWindow(now: number, windowMs: number): { start: Date; end: Date } {
  const start = Math.floor((now - windowMs) / PERIOD_MS) * PERIOD_MS;
  return { start: new Date(start), end: new Date(Math.max(now, start + 1000)) };
}

/** One Sum query per endpoint variant; the id is the target's index (ids must start with a lower-case letter). */
export function invocationQueries(targets: readonly InvocationTarget[], offset = 0): MetricDataQuery[] {
  return targets.map((target, index) => ({
    Id: `q${offset + index}`,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/SageMaker',
        MetricName: target.metricName ?? 'Invocations',
        Dimensions: [
          { Name: 'EndpointName', Value: target.endpointName },
          { Name: 'VariantName', Value: target.variantName },
        ],
      },
      Period: INVOCATIONS_PERIOD_SECONDS,
      Stat: 'Sum',
    },
    ReturnData: true,
  }));
}

/**
 * Reads Invocations for every target over the window in as few calls as GetMetricData allows (500
 * queries a call, following NextToken when CloudWatch splits a large answer). Missing datapoints mean
 * zero invocations. Every endpoint of `targets` is in the result, even with no data at all.
 */
export async function readInvocations(
  cloudwatch: CloudWatchSender,
  targets: readonly InvocationTarget[],
  window: { now: number; windowMs: number },
  abortSignal?: AbortSignal,
): Promise<InvocationReadResult> {
  const { byTarget, calls } = await readInvocationsByTarget(cloudwatch, targets, window, abortSignal);
  const byEndpoint = new Map<string, InvocationReading>();
  targets.forEach((target, index) => {
    byEndpoint.set(target.endpointName, combined(byEndpoint.get(target.endpointName), byTarget[index]!));
  });
  return { byEndpoint, calls };
}

/** Two readings of one endpoint (its variants, or its reads) as one. */
export function combined(a: InvocationReading | undefined, b: InvocationReading): InvocationReading {
  if (!a) return b;
  const lasts = [a.lastInvocationAt, b.lastInvocationAt].filter((last): last is number => last !== null);
  return { invocations: a.invocations + b.invocations, lastInvocationAt: lasts.length > 0 ? Math.max(...lasts) : null };
}

/**
 * Each target's reading, in the order of `targets`. `countsPeriod` (default: all) picks which of a
 * target's datapoints count, by the start of their period: a merged read counts only its own window.
 */
export async function readInvocationsByTarget(
  cloudwatch: CloudWatchSender,
  targets: readonly InvocationTarget[],
  window: { now: number; windowMs: number },
  abortSignal?: AbortSignal,
  countsPeriod: (targetIndex: number, periodStart: number) => boolean = () => true,
): Promise<{ byTarget: InvocationReading[]; calls: number }> {
  const { start, end } = metricWindow(window.now, window.windowMs);
  const byTarget: InvocationReading[] = targets.map(() => ({ invocations: 0, lastInvocationAt: null }));
  let calls = 0;
  const batches = chunk(targets, MAX_METRIC_QUERIES_PER_CALL);
  for (const [batchIndex, batch] of batches.entries()) {
    const offset = batchIndex * MAX_METRIC_QUERIES_PER_CALL;
    const queries = invocationQueries(batch, offset);
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await awsCall({ operation: 'GetMetricData', resource: `Invocations of ${batch.length} endpoint variant(s)` }, () =>
        cloudwatch.send(
          new GetMetricDataCommand({
            StartTime: start,
            EndTime: end,
            MetricDataQueries: queries,
            ScanBy: 'TimestampDescending',
            NextToken: token,
          }),
          { abortSignal },
        ),
      );
      calls += 1;
      for (const result of page.MetricDataResults ?? []) addResult(byTarget, result, window.now, countsPeriod);
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return { byTarget, calls };
}

function addResult(
  byTarget: InvocationReading[],
  result: MetricDataResult,
  now: number,
  countsPeriod: (targetIndex: number, periodStart: number) => boolean,
): void {
  const index = Number((result.Id ?? '').slice(1));
  const reading = byTarget[index];
  if (!reading) return;
  const values = result.Values ?? [];
  const timestamps = result.Timestamps ?? [];
  values.forEach((value, position) => {
    const timestamp = timestamps[position];
    if (value <= 0 || !timestamp || !countsPeriod(index, timestamp.getTime())) return;
    reading.invocations += value;
    const periodEnd = Math.min(now, timestamp.getTime() + PERIOD_MS);
    reading.lastInvocationAt = reading.lastInvocationAt === null ? periodEnd : Math.max(reading.lastInvocationAt, periodEnd);
  });
}
