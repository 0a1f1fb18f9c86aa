import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  SageMakerClient,
  type DescribeEndpointCommandInput,
  type EndpointSummary,
} from '@aws-sdk/client-sagemaker';
import type { Client } from '@temporalio/client';
import { mockClient } from 'aws-sdk-client-mock';
import { listAllEndpoints } from '../../../activities/aws/endpoints';
import { sweepFleet } from '../../../activities/idle/sweep';
import { SweepReadCache, TAGS_TRUSTED_FOR_MS } from '../../../activities/idle/sweep-cache';
const PRICING = { usdPerHour: {} };

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const ARN = (name: string) => `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${name}`;

/** One endpoint as ListEndpoints shows it, and what Describe/ListTags answer for it. */
interface FakeEndpoint {
  name: string;
  createdAt: number;
  modifiedAt: number;
  status?: string;
  config?: string;
  tags?: Record<string, string>;
}

/**
 * SageMaker scripted from a fleet the test changes between sweeps: every command sent is recorded as
 * [command, its input], so each test states exactly what a refresh sent.
 */
function fakeSageMaker(fleet: Map<string, FakeEndpoint>) {
  const mock = mockClient(SageMakerClient);
  mock.on(ListEndpointsCommand).callsFake((input: { NextToken?: string }) => {
    const all = [...fleet.values()].map((endpoint): EndpointSummary => ({
      EndpointName: endpoint.name,
      EndpointArn: ARN(endpoint.name),
      CreationTime: new Date(endpoint.createdAt),
      LastModifiedTime: new Date(endpoint.modifiedAt),
      EndpointStatus: (endpoint.status ?? 'InService') as EndpointSummary['EndpointStatus'],
    }));
    const start = Number(input.NextToken ?? 0);
    const next = start + 100 < all.length ? String(start + 100) : undefined;
    return { Endpoints: all.slice(start, start + 100), ...(next ? { NextToken: next } : {}) };
  });
  mock.on(DescribeEndpointCommand).callsFake((input: DescribeEndpointCommandInput) => {
    const endpoint = fleet.get(input.EndpointName!);
    if (!endpoint) throw Object.assign(new Error(`Could not find endpoint "${input.EndpointName}".`), { name: 'ValidationException' });
    return {
      EndpointName: endpoint.name,
      EndpointArn: ARN(endpoint.name),
      EndpointConfigName: endpoint.config ?? `${endpoint.name}-config`,
      EndpointStatus: endpoint.status ?? 'InService',
      CreationTime: new Date(endpoint.createdAt),
      LastModifiedTime: new Date(endpoint.modifiedAt),
      ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 1 }],
    };
  });
  mock.on(DescribeEndpointConfigCommand).callsFake((input: { EndpointConfigName: string }) => ({
    EndpointConfigName: input.EndpointConfigName,
    EndpointConfigArn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${input.EndpointConfigName}`,
    ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'm', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
  }));
  mock.on(ListTagsCommand).callsFake((input: { ResourceArn: string }) => {
    const endpoint = [...fleet.values()].find((candidate) => ARN(candidate.name) === input.ResourceArn);
    const tags = endpoint?.tags ?? { 'llmtwin:managed': 'true' };
    return { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
  });
  const sent = () =>
    mock.calls().map((call) => {
      const command = call.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
      const { MaxResults: _page, NextToken: _token, ...input } = command.input;
      return [command.constructor.name.replace(/Command$/, ''), Object.values(input)[0]];
    });
  return { mock, sent, client: new SageMakerClient({ region: 'us-east-1' }) };
}

function fleetOf(...endpoints: FakeEndpoint[]): Map<string, FakeEndpoint> {
  return new Map(endpoints.map((endpoint) => [endpoint.name, endpoint]));
}

/**
 * A sweep's dependencies where every endpoint's monitor already runs (run-1), though the listing of
 * running monitors shows only those this sweep has signalled (as if started by it): `signalled` lists
 * the monitors sent a reading, `described()` counts describes.
 */
function sweepOfRunningMonitors(sagemaker: ReturnType<typeof fakeSageMaker>) {
  const signalled: string[] = [];
  let describes = 0;
  const temporal = {
    workflow: {
      getHandle: () => ({
        describe: async () => {
          describes += 1;
          return { status: { name: 'RUNNING' }, runId: 'run-1' };
        },
      }),
      list: async function* () {
        for (const workflowId of new Set(signalled)) yield { workflowId, runId: 'run-1' };
      },
      signalWithStart: async (_type: string, options: { workflowId: string }) => {
        signalled.push(options.workflowId);
        return { signaledRunId: 'run-1' };
      },
    },
  } as unknown as Client;
  const deps = {
    sagemaker: sagemaker.client,
    cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
    pricing: PRICING,
    resourceNamePrefix: 'llmtwin',
    readCache: new SweepReadCache(),
  };
  const run = { heartbeat: () => undefined, abortSignal: new AbortController().signal, client: temporal };
  return { deps, run, signalled, described: () => describes };
}

async function refresh(cache: SweepReadCache, sagemaker: ReturnType<typeof fakeSageMaker>, now = NOW) {
  sagemaker.mock.resetHistory();
  const summaries = (await sagemaker.client.send(new ListEndpointsCommand({}))).Endpoints ?? [];
  sagemaker.mock.resetHistory();
  return cache.refresh(sagemaker.client, summaries, { pricing: PRICING, now, concurrency: 1 });
}

describe('SweepReadCache: what a sweep reads again', () => {
  const t = (minutes: number) => NOW - 24 * 60 * 60_000 + minutes * 60_000;
  let sagemaker: ReturnType<typeof fakeSageMaker>;
  afterEach(() => sagemaker.mock.restore());

  it('reads a new endpoint in full (describe, its config, its tags), and nothing for one unchanged since', async () => {
    const fleet = fleetOf({ name: 'a', createdAt: t(0), modifiedAt: t(5) }, { name: 'b', createdAt: t(1), modifiedAt: t(6) });
    sagemaker = fakeSageMaker(fleet);
    const cache = new SweepReadCache();

    const first = await refresh(cache, sagemaker);
    expect(sagemaker.sent()).toEqual([
      ['DescribeEndpoint', 'a'],
      ['DescribeEndpointConfig', 'a-config'],
      ['ListTags', ARN('a')],
      ['DescribeEndpoint', 'b'],
      ['DescribeEndpointConfig', 'b-config'],
      ['ListTags', ARN('b')],
    ]);
    expect(first.reads).toEqual({ listed: 2, reused: 0, loaded: 2, tagsReread: 0, dropped: 0 });
    expect(first.loaded.map((endpoint) => endpoint.snapshot.variants[0]?.instanceType)).toEqual(['ml.g5.xlarge', 'ml.g5.xlarge']);

    const second = await refresh(cache, sagemaker);
    expect(sagemaker.sent()).toEqual([]);
    expect(second.reads).toEqual({ listed: 2, reused: 2, loaded: 0, tagsReread: 0, dropped: 0 });
    expect(second.loaded.map((endpoint) => endpoint.snapshot.endpointName)).toEqual(['a', 'b']);
  });

  it('re-describes an endpoint whose last-modified time or status moved, taking its unchanged config from memory', async () => {
    const fleet = fleetOf({ name: 'a', createdAt: t(0), modifiedAt: t(5) }, { name: 'b', createdAt: t(1), modifiedAt: t(6) });
    sagemaker = fakeSageMaker(fleet);
    const cache = new SweepReadCache();
    await refresh(cache, sagemaker);

    fleet.set('a', { ...fleet.get('a')!, modifiedAt: t(30) });
    fleet.set('b', { ...fleet.get('b')!, status: 'Updating' });
    const changed = await refresh(cache, sagemaker);
    expect(sagemaker.sent()).toEqual([
      ['DescribeEndpoint', 'a'],
      ['ListTags', ARN('a')],
      ['DescribeEndpoint', 'b'],
      ['ListTags', ARN('b')],
    ]);
    expect(changed.reads).toMatchObject({ loaded: 2, reused: 0 });
    expect(changed.loaded[1]?.snapshot.status).toBe('Updating');

    // A redeployment onto a new config reads that config once.
    fleet.set('a', { ...fleet.get('a')!, modifiedAt: t(40), config: 'a-config-v2' });
    await refresh(cache, sagemaker);
    expect(sagemaker.sent()).toEqual([
      ['DescribeEndpoint', 'a'],
      ['DescribeEndpointConfig', 'a-config-v2'],
      ['ListTags', ARN('a')],
    ]);
  });

  it('forgets an endpoint that vanished, and reads one recreated under the same name in full', async () => {
    const fleet = fleetOf({ name: 'a', createdAt: t(0), modifiedAt: t(5) }, { name: 'b', createdAt: t(1), modifiedAt: t(6) });
    sagemaker = fakeSageMaker(fleet);
    const cache = new SweepReadCache();
    await refresh(cache, sagemaker);

    fleet.delete('b');
    const vanished = await refresh(cache, sagemaker);
    expect(sagemaker.sent()).toEqual([]);
    expect(vanished.reads).toEqual({ listed: 1, reused: 1, loaded: 0, tagsReread: 0, dropped: 1 });
    expect(cache.size).toBe(1);

    // Same name, same last-modified minute even, but a new creation time: another endpoint.
    fleet.set('a', { name: 'a', createdAt: t(60), modifiedAt: t(5), tags: { 'llmtwin:managed': 'true', 'llmtwin:keep': 'true' } });
    const recreated = await refresh(cache, sagemaker);
    expect(sagemaker.sent()).toEqual([
      ['DescribeEndpoint', 'a'],
      ['ListTags', ARN('a')],
    ]);
    expect(recreated.reads).toMatchObject({ loaded: 1, dropped: 0 });
    expect(recreated.loaded[0]?.snapshot).toMatchObject({ keep: true, creationTime: t(60) });
  });

  it('re-reads only the tags of an endpoint tagged keep (every sweep) or whose tags are an hour old', async () => {
    const fleet = fleetOf(
      { name: 'kept', createdAt: t(0), modifiedAt: t(5), tags: { 'llmtwin:managed': 'true', 'llmtwin:keep': 'true' } },
      { name: 'plain', createdAt: t(1), modifiedAt: t(6) },
    );
    sagemaker = fakeSageMaker(fleet);
    const cache = new SweepReadCache();
    await refresh(cache, sagemaker);

    fleet.set('kept', { ...fleet.get('kept')!, tags: { 'llmtwin:managed': 'true' } });
    const keepRemoved = await refresh(cache, sagemaker, NOW + 60_000);
    expect(sagemaker.sent()).toEqual([['ListTags', ARN('kept')]]);
    expect(keepRemoved.loaded[0]?.snapshot.keep).toBe(false);
    expect(keepRemoved.reads).toMatchObject({ tagsReread: 1, reused: 1 });

    // Tagging does not move LastModifiedTime: an hour after its tags were read, an endpoint's are read
    // once more (kept's were read a minute later than plain's, and it is no longer tagged keep).
    fleet.set('plain', { ...fleet.get('plain')!, tags: {} });
    const hourLater = await refresh(cache, sagemaker, NOW + TAGS_TRUSTED_FOR_MS);
    expect(sagemaker.sent()).toEqual([['ListTags', ARN('plain')]]);
    expect(hourLater.loaded.map((endpoint) => endpoint.snapshot.managed)).toEqual([true, false]);
  });
});

describe('sweepFleet on an unchanged fleet', () => {
  it('sends ceil(N/100) ListEndpoints pages and nothing else to SageMaker, and ceil(N/500) GetMetricData calls', async () => {
    const fleet = fleetOf(
      ...Array.from({ length: 250 }, (_, index) => ({ name: `ep-${index}`, createdAt: NOW - 86_400_000, modifiedAt: NOW - 86_000_000 })),
    );
    const sagemaker = fakeSageMaker(fleet);
    const cloudwatch = mockClient(CloudWatchClient);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    // Monitors already run for every endpoint: the sweep only signals them.
    const { deps, run, signalled, described } = sweepOfRunningMonitors(sagemaker);
    const input = { mode: 'ensure' as const, policy: { checkInterval: '1m', window: '1h' }, deleteModel: true, taskQueue: 'q' };

    // First sweep of a new worker: reads everything once (and looks for orphans, with nothing to find).
    sagemaker.mock.on(ListEndpointConfigsCommand).resolves({ EndpointConfigs: [] });
    sagemaker.mock.on(ListModelsCommand).resolves({ Models: [] });
    const first = await sweepFleet(deps, { ...input, now: NOW }, run);
    expect(first.reads).toMatchObject({ listed: 250, loaded: 250 });
    expect(first.orphans.scanned).toBe(true);

    sagemaker.mock.resetHistory();
    cloudwatch.resetHistory();
    const describedBefore = described();
    const steady = await sweepFleet(deps, { ...input, now: NOW + 60_000 }, run);
    // Nor anything to Temporal but the one listing of running monitors: no describe, no signal.
    expect(described() - describedBefore).toBe(0);
    expect(sagemaker.sent()).toEqual([
      ['ListEndpoints', undefined],
      ['ListEndpoints', undefined],
      ['ListEndpoints', undefined],
    ]);
    expect(steady.reads).toEqual({ listed: 250, reused: 250, loaded: 0, tagsReread: 0, dropped: 0, sageMakerCalls: 3 });
    expect(steady.orphans).toMatchObject({ scanned: false });
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(1);
    expect(steady).toMatchObject({ managed: 250, monitorsAlreadyRunning: 250, getMetricDataCalls: 1 });
    // Every monitor got the first reading; the steady sweep had nothing new for any of them.
    expect(first.monitorsSignalled).toBe(250);
    expect(steady.monitorsSignalled).toBe(0);
    expect(signalled).toHaveLength(250);

    // News for one monitor (a call in CloudWatch) is sent to that one; an unchanged reading goes again
    // every third sweep, to a third of the monitors at a time.
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'q7', Timestamps: [new Date(NOW)], Values: [4] }] });
    const news = await sweepFleet(deps, { ...input, now: NOW + 2 * 60_000 }, run);
    expect(news.monitorsSignalled).toBeGreaterThanOrEqual(1);
    expect(signalled).toContain('idle-monitor-ep-7');
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const resent: number[] = [];
    for (let sweep = 3; sweep <= 6; sweep += 1) {
      resent.push((await sweepFleet(deps, { ...input, now: NOW + sweep * 60_000 }, run)).monitorsSignalled ?? -1);
    }
    // ep-7's reading changed back (its call left the window) the next sweep; over sweeps 2-6 every monitor got one re-send.
    expect(resent.reduce((total, count) => total + count, news.monitorsSignalled ?? 0)).toBeGreaterThanOrEqual(250);
    expect(Math.max(...resent)).toBeLessThan(200);
    sagemaker.mock.restore();
    cloudwatch.restore();
  });
});

describe('sweepFleet re-sends to monitors', () => {
  it('sends no unchanged reading to a monitor whose deadline comes while its reading is trusted, and resumes once that deadline is 2 intervals past', async () => {
    // In service since NOW with a 3-minute grace: each monitor deletes at NOW + 3 min on the reading it got at NOW.
    const fleet = fleetOf(
      ...Array.from({ length: 30 }, (_, index) => ({ name: `ep-${index}`, createdAt: NOW - 600_000, modifiedAt: NOW })),
    );
    const sagemaker = fakeSageMaker(fleet);
    sagemaker.mock.on(ListEndpointConfigsCommand).resolves({ EndpointConfigs: [] });
    sagemaker.mock.on(ListModelsCommand).resolves({ Models: [] });
    const cloudwatch = mockClient(CloudWatchClient);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const { deps, run } = sweepOfRunningMonitors(sagemaker);
    const input = {
      mode: 'ensure' as const,
      policy: { checkInterval: '1m', window: '1h', grace: '3m' },
      deleteModel: true,
      taskQueue: 'q',
    };

    const signalled: number[] = [];
    for (let sweep = 0; sweep <= 6; sweep += 1) {
      signalled.push((await sweepFleet(deps, { ...input, now: NOW + sweep * 60_000 }, run)).monitorsSignalled ?? -1);
    }
    // Sweep 0 hands every new monitor its reading. Sweeps 1-5 send nothing: the deadline (minute 3) is
    // before the reading's trust runs out, and a deadline at most 2 intervals old may still be under way.
    // At sweep 6 the endpoints are still there 3 intervals after their deadline: the monitors evidently
    // know more than the sweep (a keepAlive, a pause), so re-sends resume, every reading being 6 sweeps old.
    expect(signalled).toEqual([30, 0, 0, 0, 0, 0, 30]);
    sagemaker.mock.restore();
    cloudwatch.restore();
  });
});

describe('listAllEndpoints', () => {
  it('starts the listing over when a page token no longer holds (an endpoint deleted between pages), twice at most', async () => {
    const mock = mockClient(SageMakerClient);
    const stale = Object.assign(new Error('Invalid Token: Resource not found!'), {
      name: 'InvalidToken',
      $metadata: { httpStatusCode: 400 },
    });
    mock
      .on(ListEndpointsCommand)
      .resolvesOnce({ Endpoints: [{ EndpointName: 'a' } as EndpointSummary], NextToken: 'b' })
      .rejectsOnce(stale)
      .resolvesOnce({ Endpoints: [{ EndpointName: 'a' } as EndpointSummary], NextToken: 'c' })
      .resolvesOnce({ Endpoints: [{ EndpointName: 'c' } as EndpointSummary] });
    const sagemaker = new SageMakerClient({ region: 'us-east-1' });

    const names = (await listAllEndpoints(sagemaker)).map((endpoint) => endpoint.EndpointName);
    expect(names).toEqual(['a', 'c']);
    expect(mock.commandCalls(ListEndpointsCommand).map((call) => call.args[0].input.NextToken)).toEqual([undefined, 'b', undefined, 'c']);

    mock.reset();
    mock.on(ListEndpointsCommand).resolves({ Endpoints: [], NextToken: 'x' });
    mock.on(ListEndpointsCommand, { NextToken: 'x' }).rejects(stale);
    await expect(listAllEndpoints(sagemaker)).rejects.toThrow(/Invalid Token/);
    expect(mock.commandCalls(ListEndpointsCommand)).toHaveLength(6);
    mock.restore();
  });
});
