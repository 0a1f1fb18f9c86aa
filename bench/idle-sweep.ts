import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { listAllEndpoints } from '../activities/aws/endpoints';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Command } from 'commander';
import { mapWithConcurrency } from '../common/shared/concurrency';
import { resolveConfig } from '../common/config';
import { durationToMs } from '../common/shared/durations';
import { idleMonitorWorkflowId, type IdleSummary } from '../common/idle/contract';
import { exclusiveSweepWorkflowId, metricCallsFor, type IdleSweepResult } from '../common/idle/sweep';
import { taskQueuesFor } from '../common/shared/task-queues';
import { createAwsClients, destroyAwsClients } from '../platform/aws-clients';
import { connectClient } from '../platform/temporal-client';
import { freePort } from '../scripts/dev-stack/health';
import { PROJECT_ROOT, startStack, stopStack, type StackOptions } from '../scripts/dev-stack/stack';
import { createDemoEndpoint } from '../scripts/demos/idle';
import { removeIdleSweepSchedule, upsertIdleSweepSchedule } from '../scripts/schedules/idle-sweep';
import { WORKFLOWS_BY_ROLE } from '../workers/run-workers';

/**
 * `node_modules/.bin/tsx bench/idle-sweep.ts [--endpoints 1000] [--interval 60s] [--window 2m] [--traffic-every 10] [--max-cached N] [--worker-node-options F] [--worker-runtime compiled|tsx] [--worker-malloc-arenas 2] [--worker-cpu-prof DIR]`
 *
 * The idle stage at fleet size, in real time on a dev stack of its own (Temporal dev server + moto on
 * free ports): N endpoints made in moto (model, config, endpoint, tagged llmtwin:managed=true), every
 * k-th one with Invocations datapoints covering the whole run, then the sweep's Temporal Schedule
 * (every check interval, first run at once). ONE worker process (bench/idle-sweep-worker.ts, the
 * idle role as `npm run worker -- --queues idle` runs it) serves the sweeps and all N monitors.
 * Idle endpoints get a grace period that ends after every endpoint exists and the first sweep has run,
 * so each has a deadline (its InService time + grace) that the monitors can meet; deletion time is the
 * monitor's end (after the teardown). Prints, against the targets: GetMetricData calls per sweep
 * (ceil(N/500)), time per sweep, the worker's peak RSS (<= 300 MB), and the worst delay from deadline
 * to deletion (<= one check interval).
 */
async function main(): Promise<void> {
  const options = new Command('bench:idle-sweep')
    .option('--endpoints <n>', 'endpoints in moto', (value) => Number(value), 1000)
    .option('--interval <duration>', 'check interval = sweep schedule interval', '60s')
    .option('--window <duration>', 'idle window', '2m')
    .option('--traffic-every <k>', 'every k-th endpoint has traffic all along (never deleted)', (value) => Number(value), 10)
    .option('--max-cached <n>', "the worker's sticky cache (worker.maxCachedWorkflows); default: the config's")
    .option('--worker-node-options <flags>', 'NODE_OPTIONS for the worker process, e.g. "--max-old-space-size=160"')
    .option(
      '--worker-malloc-arenas <n>',
      "MALLOC_ARENA_MAX for the worker, as the Docker image sets it (0: glibc's default, up to 8 arenas per core)",
      '2',
    )
    .option('--worker-cpu-prof <dir>', "write the worker's V8 CPU profiles (one per thread) to this folder (node --cpu-prof)")
    .option(
      '--worker-runtime <runtime>',
      'compiled: the worker as `npm run build` makes it (node on JavaScript); tsx: from TypeScript source',
      'compiled',
    )
    .parse()
    .opts<{
      endpoints: number;
      interval: string;
      window: string;
      trafficEvery: number;
      maxCached?: string;
      workerNodeOptions?: string;
      workerCpuProf?: string;
      workerMallocArenas: string;
      workerRuntime: 'compiled' | 'tsx';
    }>();
  const n = options.endpoints;
  const intervalMs = durationToMs(options.interval);
  console.log(
    `idle-sweep bench: ${n} endpoints, check interval ${options.interval}, window ${options.window}, worker ${options.workerRuntime}, cache ${options.maxCached ?? 'config default'}, MALLOC_ARENA_MAX ${options.workerMallocArenas === '0' ? 'unset' : options.workerMallocArenas}${options.workerNodeOptions ? `, worker NODE_OPTIONS ${options.workerNodeOptions}` : ''}; ` +
      `${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'llmtwin-bench-idle-'));
  const stack: StackOptions = { dataDir, temporalPort: await freePort(), uiPort: null, motoPort: await freePort(), namespace: 'default' };
  await startStack(stack);
  const env = {
    TEMPORAL_ADDRESS: `127.0.0.1:${stack.temporalPort}`,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${stack.motoPort}`,
    LLMTWIN_TASK_QUEUE: 'bench-idle',
    LLMTWIN_METRICS_PORT: '0',
    LLMTWIN_LOG_LEVEL: 'warn',
  };
  const config = resolveConfig(env);
  const aws = createAwsClients(config);
  const client = await connectClient(config);
  const taskQueue = taskQueuesFor(config.temporal.taskQueue).idle;
  const statsPath = join(dataDir, 'worker-stats.json');
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    // Bundled here, so webpack's memory is not the worker's.
    const bundlePath = join(dataDir, 'workflows.js');
    const noop = () => undefined;
    writeFileSync(
      bundlePath,
      (
        await bundleWorkflowCode({
          workflowsPath: WORKFLOWS_BY_ROLE.idle,
          logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
        })
      ).code,
    );
    // --cpu-prof is refused in NODE_OPTIONS: it goes on the command line.
    const profiling = options.workerCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.workerCpuProf}`] : [];
    worker = spawn(process.execPath, [...profiling, ...workerCommand(options.workerRuntime)], {
      env: {
        ...process.env,
        ...env,
        BENCH_STATS: statsPath,
        BENCH_WORKFLOW_BUNDLE: bundlePath,
        ...(options.maxCached ? { LLMTWIN_MAX_CACHED_WORKFLOWS: options.maxCached } : {}),
        ...(options.workerNodeOptions ? { NODE_OPTIONS: options.workerNodeOptions } : {}),
        ...(options.workerMallocArenas === '0' ? {} : { MALLOC_ARENA_MAX: options.workerMallocArenas }),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });

    const baselineRssMb = await workerRssWhenIdle(statsPath);
    const names = Array.from({ length: n }, (_, index) => `bench-ep-${String(index).padStart(5, '0')}`);
    const busy = new Set(names.filter((_, index) => options.trafficEvery > 0 && index % options.trafficEvery === 0));
    const createdFrom = Date.now();
    await mapWithConcurrency(names, 8, (name) => createDemoEndpoint(aws.sagemaker, name));
    const createdIn = Date.now() - createdFrom;
    await putTraffic(aws, [...busy], Date.now());
    const lastModified = await endpointTimes(aws);
    console.log(
      `created ${n} endpoints in ${(createdIn / 1000).toFixed(1)} s (${busy.size} with traffic all along); worker pid ${worker.pid}, RSS at rest ${baselineRssMb.toFixed(0)} MB`,
    );

    // Grace: every deadline falls after all endpoints exist, the first sweep has had time to run, and a
    // second sweep has found the fleet unchanged (the steady sweep this bench measures).
    const graceS = Math.ceil(createdIn / 1000) + 2 * Math.ceil(intervalMs / 1000) + 30;
    const policy = { checkInterval: options.interval, window: options.window, grace: `${graceS}s` };
    const startedAt = Date.now();
    await upsertIdleSweepSchedule(client, {
      taskQueue,
      every: options.interval,
      sweep: { mode: 'ensure', policy },
      triggerImmediately: true,
    });
    console.log(`schedule every ${options.interval}, policy ${JSON.stringify(policy)}; waiting for ${n - busy.size} deletions...`);

    const idle = names.filter((name) => !busy.has(name));
    const lastDeadline = Math.max(...idle.map((name) => (lastModified.get(name) ?? 0) + graceS * 1000));
    const giveUpAt = lastDeadline + 3 * intervalMs + 60_000;
    let remaining = n;
    while (Date.now() < giveUpAt) {
      remaining = (await endpointTimes(aws)).size;
      if (remaining <= busy.size) break;
      console.log(`  t+${((Date.now() - startedAt) / 1000).toFixed(0)} s: ${remaining} endpoints left; load ${loadavg()[0]!.toFixed(2)}`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
    await removeIdleSweepSchedule(client, taskQueue);
    // An endpoint is gone a moment before its monitor ends (the teardown's result still has to reach
    // the workflow): wait for the idle monitors to close, or the slowest deletions would go uncounted.
    await monitorsClosed(client, busy.size, giveUpAt);

    const uncounted: string[] = [];
    const summaries = await mapWithConcurrency(idle, 16, async (name) => {
      const handle = client.workflow.getHandle(idleMonitorWorkflowId(name));
      try {
        const { status } = await handle.describe();
        if (status.name === 'COMPLETED') {
          const summary = (await handle.result()) as IdleSummary;
          if (summary.outcome !== 'deleted') uncounted.push(`${name}: ${summary.outcome}`);
          return summary;
        }
        uncounted.push(`${name}: monitor ${status.name}`);
      } catch (error) {
        uncounted.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      return undefined;
    });
    if (uncounted.length > 0) console.log(`monitors without a deletion to time: ${uncounted.join('; ')}`);
    const delays = idle.flatMap((name, index) => {
      const summary = summaries[index];
      return summary?.outcome === 'deleted' ? [Date.parse(summary.endedAt) - ((lastModified.get(name) ?? 0) + graceS * 1000)] : [];
    });
    const sweeps = await sweepResults(client, taskQueue);
    const survivors = await endpointTimes(aws);

    worker.kill('SIGTERM');
    await new Promise((resolve) => worker!.once('exit', resolve));
    const stats = JSON.parse(readFileSync(statsPath, 'utf8')) as {
      peakRssBytes: number;
      peakMainHeapBytes: number;
      peakRssAt?: number;
      getMetricDataCalls: Record<string, number>;
      sageMakerCalls: Record<string, number>;
    };
    report({
      n,
      busy: busy.size,
      intervalMs,
      sweeps,
      delays,
      survivors,
      busyNames: busy,
      stats,
      savedPerDay: summaries.reduce((total, s) => total + (s?.estimatedSavedPerDayUsd ?? 0), 0),
      rssTargetMb: rssTargetMb(n),
    });
  } finally {
    if (worker && worker.exitCode === null) worker.kill('SIGTERM');
    await removeIdleSweepSchedule(client, taskQueue).catch(() => undefined);
    await client.connection.close();
    destroyAwsClients(aws);
    await stopStack(stack);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * How the worker process starts: compiled (the default, as production runs it: `npm run build`, then
 * node on dist/; tsx's loader and its transpiled sources add about 50 MB) or from source with tsx.
 */
function workerCommand(runtime: 'compiled' | 'tsx'): string[] {
  if (runtime === 'tsx') return ['--import', 'tsx', join(__dirname, 'idle-sweep-worker.ts')];
  // Inside the project, so the compiled files find node_modules; .tmp is ignored by git.
  const outDir = join(PROJECT_ROOT, '.tmp', 'bench-idle-dist');
  execFileSync(
    join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', join(PROJECT_ROOT, 'tsconfig.json'), '--outDir', outDir, '--sourceMap', 'false'],
    { stdio: 'inherit' },
  );
  return [join(outDir, 'bench', 'idle-sweep-worker.js')];
}

/** The idle worker's memory targets: 300 MB at up to 1,000 endpoints, 450 MB at 3,000 (in between, on the line). */
function rssTargetMb(endpoints: number): number {
  if (endpoints <= 1000) return 300;
  return Math.round(300 + ((Math.min(endpoints, 3000) - 1000) * 150) / 2000);
}

/** The worker's RSS once it has started and polls with nothing to do (its floor, before any workflow). */
async function workerRssWhenIdle(statsPath: string): Promise<number> {
  for (let waited = 0; waited < 60_000; waited += 500) {
    try {
      const stats = JSON.parse(readFileSync(statsPath, 'utf8')) as { rssBytes: number; startedAt?: number; at: number };
      if (stats.startedAt && stats.at - stats.startedAt > 3_000) return stats.rssBytes / 1024 / 1024;
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the bench worker did not start within 60 s');
}

/** Until only the monitors of endpoints with traffic (`stillRunning`) run, or `giveUpAt`. */
async function monitorsClosed(client: Awaited<ReturnType<typeof connectClient>>, stillRunning: number, giveUpAt: number): Promise<void> {
  while (Date.now() < giveUpAt) {
    const { count } = await client.workflow.count(`WorkflowType = 'idleMonitor' AND ExecutionStatus = 'Running'`);
    if (count <= stillRunning) return;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** Datapoints every minute from 5 minutes ago to 30 minutes ahead: each becomes visible as time passes. */
async function putTraffic(aws: ReturnType<typeof createAwsClients>, names: string[], now: number): Promise<void> {
  const minute = Math.floor(now / 60_000) * 60_000;
  const data: MetricDatum[] = names.flatMap((name) =>
    Array.from({ length: 36 }, (_, step) => ({
      MetricName: 'Invocations',
      Dimensions: [
        { Name: 'EndpointName', Value: name },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ],
      Timestamp: new Date(minute + (step - 5) * 60_000),
      Value: 12,
    })),
  );
  for (let start = 0; start < data.length; start += 500) {
    await aws.cloudwatch.send(new PutMetricDataCommand({ Namespace: 'AWS/SageMaker', MetricData: data.slice(start, start + 500) }));
  }
}

/** Every endpoint still in moto, with its LastModifiedTime (when it went InService). */
async function endpointTimes(aws: ReturnType<typeof createAwsClients>): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const endpoint of await listAllEndpoints(aws.sagemaker)) times.set(endpoint.EndpointName!, endpoint.LastModifiedTime!.getTime());
  return times;
}

/**
 * Every sweep the schedule started, once: each run's pass is a child under the queue's exclusive id,
 * which returns the same result as its parent (skipped runs have no child).
 */
async function sweepResults(client: Awaited<ReturnType<typeof connectClient>>, taskQueue: string): Promise<IdleSweepResult[]> {
  const results: IdleSweepResult[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'idleSweep' AND ExecutionStatus = 'Completed'` })) {
    if (execution.workflowId === exclusiveSweepWorkflowId(taskQueue)) continue;
    results.push((await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as IdleSweepResult);
  }
  return results.sort((a, b) => a.observedAt.localeCompare(b.observedAt));
}

interface Report {
  n: number;
  busy: number;
  intervalMs: number;
  sweeps: IdleSweepResult[];
  delays: number[];
  survivors: Map<string, number>;
  busyNames: Set<string>;
  stats: {
    peakRssBytes: number;
    peakMainHeapBytes: number;
    peakRssAt?: number;
    getMetricDataCalls: Record<string, number>;
    sageMakerCalls: Record<string, number>;
  };
  savedPerDay: number;
  rssTargetMb: number;
}

function report(r: Report): void {
  const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const sorted = [...r.delays].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN);
  const worst = sorted.at(-1) ?? NaN;
  const ran = r.sweeps.filter((sweep) => !sweep.skipped);
  const skipped = r.sweeps.length - ran.length;
  const fullSweeps = ran.filter((sweep) => sweep.metricQueries >= r.n - 1);
  // A sweep over a fleet that did not change since the previous one: nothing new, changed or gone.
  const steady = ran
    .slice(1)
    .filter((sweep) => sweep.reads && sweep.reads.loaded === 0 && sweep.reads.dropped === 0 && sweep.reads.tagsReread === 0);
  const listPages = Math.ceil(r.n / 100);
  const peakMb = r.stats.peakRssBytes / 1024 / 1024;
  console.log('\nSweeps (one idleSweep run each; the schedule fired them every interval):');
  for (const sweep of r.sweeps) {
    if (sweep.skipped) {
      console.log(`  ${sweep.observedAt}  skipped: ${sweep.skipped.runningSweep} was running`);
      continue;
    }
    const reads = sweep.reads;
    console.log(
      `  ${sweep.observedAt}  endpoints ${sweep.endpoints}  SageMaker calls ${reads?.sageMakerCalls ?? '?'} (read ${reads?.loaded ?? '?'}, unchanged ${reads?.reused ?? '?'}, gone ${reads?.dropped ?? '?'}${sweep.orphans.scanned ? ', orphan scan' : ''})  ` +
        `GetMetricData ${sweep.getMetricDataCalls} (target ${metricCallsFor(sweep.metricQueries)})  ${(sweep.durationMs / 1000).toFixed(1)} s  monitors started ${sweep.monitorsStarted}, already running ${sweep.monitorsAlreadyRunning}, sent a reading ${sweep.monitorsSignalled ?? '?'}`,
    );
  }
  const overlaps = ran.filter((sweep, index) =>
    ran.slice(index + 1).some((later) => Date.parse(later.observedAt) < Date.parse(sweep.observedAt) + sweep.durationMs),
  ).length;
  const allAlive = [...r.busyNames].every((name) => r.survivors.has(name));
  const fullTarget = metricCallsFor(r.n);
  const fullCalls = fullSweeps.map((sweep) => sweep.getMetricDataCalls);
  const steadyCalls = steady.map((sweep) => sweep.reads!.sageMakerCalls);
  const firstCalls = ran[0]?.reads?.sageMakerCalls ?? null;
  const deletions = r.delays.length;
  const perDeletion = (activity: string) => (deletions > 0 ? (r.stats.sageMakerCalls[activity] ?? 0) / deletions : NaN);
  const delayOk = r.delays.length === r.n - r.busy && worst <= r.intervalMs && (sorted[0] ?? -1) >= 0;
  console.log('\nResults');
  console.log(
    `  SageMaker calls per steady sweep (fleet unchanged since the previous sweep): ${steadyCalls.join(', ') || 'none measured'}; target ceil(${r.n}/100) = ${listPages} list pages + 0  ${pass(steadyCalls.length > 0 && steadyCalls.every((calls) => calls <= listPages))}`,
  );
  console.log(`  SageMaker calls of the worker's first sweep (reads every endpoint once, and looks for orphans): ${firstCalls ?? 'n/a'}`);
  console.log(
    `  GetMetricData calls per full sweep (${r.n} endpoints): ${fullCalls.join(', ') || 'none'}; target ceil(${r.n}/500) = ${fullTarget}  ${pass(fullCalls.length > 0 && fullCalls.every((calls) => calls <= fullTarget))}`,
  );
  console.log(
    `  time per sweep: first ${ran[0] ? (ran[0].durationMs / 1000).toFixed(1) : 'n/a'} s, steady ${steady.map((sweep) => `${(sweep.durationMs / 1000).toFixed(1)} s`).join(', ') || 'n/a'}`,
  );
  console.log(`  sweeps overlapping another: ${overlaps}; skipped because one was running: ${skipped}  ${pass(overlaps === 0)}`);
  console.log(
    `  SageMaker calls per deletion: ${perDeletion('planEndpointTeardown').toFixed(1)} to confirm and plan, ${perDeletion('teardownEndpoint').toFixed(1)} to tear down; by activity over the run: ${JSON.stringify(r.stats.sageMakerCalls)}`,
  );
  console.log(
    `  GetMetricData calls by activity over the run: ${JSON.stringify(r.stats.getMetricDataCalls)} (sweepFleet: the batched fleet reads; planEndpointTeardown: one fresh read confirming each deletion; observeEndpoint: a monitor's own read when no fresh sweep reading was at hand)`,
  );
  console.log(
    `  worker peak RSS: ${peakMb.toFixed(0)} MB${r.stats.peakRssAt ? ` at ${new Date(r.stats.peakRssAt).toISOString()}` : ''} (main isolate's heap at most ${(r.stats.peakMainHeapBytes / 1024 / 1024).toFixed(0)} MB of it); target <= ${r.rssTargetMb} MB  ${pass(peakMb <= r.rssTargetMb)}`,
  );
  console.log(
    `  deletions: ${deletions}/${r.n - r.busy} idle endpoints; delay from deadline (InService + grace) to the monitor's end after teardown: ` +
      `p50 ${(pct(0.5) / 1000).toFixed(1)} s, p95 ${(pct(0.95) / 1000).toFixed(1)} s, worst ${(worst / 1000).toFixed(1)} s, earliest ${((sorted[0] ?? NaN) / 1000).toFixed(1)} s; target worst <= one interval (${r.intervalMs / 1000} s)  ${pass(delayOk)}`,
  );
  console.log(
    `  endpoints with traffic still alive: ${[...r.busyNames].filter((name) => r.survivors.has(name)).length}/${r.busy}  ${pass(allAlive)}`,
  );
  console.log(`  estimated saving of the deletions: $${r.savedPerDay.toFixed(2)} a day`);
  console.log(
    `  load average now: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} cores shared with other work)`,
  );
  const seconds = (ms: number) => (Number.isFinite(ms) ? Math.round(ms) / 1000 : null);
  console.log(
    JSON.stringify({
      bench: 'idle-sweep',
      endpoints: r.n,
      withTraffic: r.busy,
      intervalS: r.intervalMs / 1000,
      sweeps: ran.length,
      sweepsSkipped: skipped,
      sweepsOverlapping: overlaps,
      sageMakerCallsFirstSweep: firstCalls,
      sageMakerCallsPerSteadySweep: steadyCalls.length > 0 ? Math.max(...steadyCalls) : null,
      sageMakerCallsSteadyTarget: listPages,
      getMetricDataCallsPerFullSweep: fullCalls.length > 0 ? Math.max(...fullCalls) : null,
      getMetricDataCallsTarget: fullTarget,
      firstSweepS: ran[0] ? ran[0].durationMs / 1000 : null,
      steadySweepS: steady.length > 0 ? Math.max(...steady.map((sweep) => sweep.durationMs)) / 1000 : null,
      sageMakerCallsPerDeletion: deletions > 0 ? perDeletion('planEndpointTeardown') + perDeletion('teardownEndpoint') : null,
      workerPeakRssMb: Math.round(peakMb),
      rssTargetMb: r.rssTargetMb,
      deletions,
      idleEndpoints: r.n - r.busy,
      delayP50S: seconds(pct(0.5)),
      delayP95S: seconds(pct(0.95)),
      worstDelayS: seconds(worst),
      delayTargetS: r.intervalMs / 1000,
      busyAlive: [...r.busyNames].filter((name) => r.survivors.has(name)).length,
      pass: {
        steadyCalls: steadyCalls.length > 0 && steadyCalls.every((calls) => calls <= listPages),
        getMetricData: fullCalls.length > 0 && fullCalls.every((calls) => calls <= fullTarget),
        rss: peakMb <= r.rssTargetMb,
        delay: delayOk,
        noOverlap: overlaps === 0,
        trafficAlive: allAlive,
      },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
