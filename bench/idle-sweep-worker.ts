import { writeFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { loadConfig } from '../platform/config';
import { createAwsClients } from '../platform/aws-clients';
import { createLogger } from '../platform/logger';
import { connectWorkerConnection } from '../platform/temporal-worker';
import { Worker } from '@temporalio/worker';
import { durationToMs } from '../common/shared/durations';
import { taskQueuesFor } from '../common/shared/task-queues';
import { activitiesFor } from '../workers/activities';
import { IDLE_TASK_SLOTS, installRuntime } from '../workers/run-workers';

/**
 * The one worker of bench/idle-sweep.ts, in a process of its own so its peak RSS is the worker's alone:
 * the idle role exactly as `npm run worker -- --queues idle` runs it (config from the environment, pre-bundled
 * workflows), plus a CloudWatch middleware that counts GetMetricData calls by the activity that made
 * them. Writes its figures to $BENCH_STATS every second and once more when it stops (SIGTERM).
 */
const statsPath = process.env.BENCH_STATS;
const bundlePath = process.env.BENCH_WORKFLOW_BUNDLE;
if (!statsPath || !bundlePath) throw new Error('run through bench/idle-sweep.ts (BENCH_STATS and BENCH_WORKFLOW_BUNDLE are unset)');

const config = loadConfig();
const aws = createAwsClients(config);
const getMetricDataCalls: Record<string, number> = {};
const sageMakerCalls: Record<string, number> = {};

function activityType(): string {
  try {
    return Context.current().info.activityType;
  } catch {
    return 'outside an activity';
  }
}

aws.cloudwatch.middlewareStack.add(
  (next, context) => (args) => {
    if (context.commandName === 'GetMetricDataCommand') getMetricDataCalls[activityType()] = (getMetricDataCalls[activityType()] ?? 0) + 1;
    return next(args);
  },
  { step: 'initialize', name: 'benchCountGetMetricData' },
);
aws.sagemaker.middlewareStack.add(
  (next) => (args) => {
    sageMakerCalls[activityType()] = (sageMakerCalls[activityType()] ?? 0) + 1;
    return next(args);
  },
  { step: 'initialize', name: 'benchCountSageMaker' },
);

let peakRssBytes = 0;
// The main isolate's heap (activities, gRPC payloads); the rest of RSS is the workflow thread's isolate and native memory.
let peakMainHeapBytes = 0;
let startedAt: number | undefined;
let peakRssAt = 0;
const sample = () => {
  const usage = process.memoryUsage();
  if (usage.rss > peakRssBytes) peakRssAt = Date.now();
  peakRssBytes = Math.max(peakRssBytes, usage.rss);
  peakMainHeapBytes = Math.max(peakMainHeapBytes, usage.heapTotal);
};
const write = () => {
  sample();
  // maxRSS is the kernel's high-water mark (KiB), which also catches peaks between samples.
  const stats = {
    peakRssBytes: Math.max(peakRssBytes, process.resourceUsage().maxRSS * 1024),
    rssBytes: process.memoryUsage.rss(),
    peakMainHeapBytes,
    peakRssAt,
    startedAt,
    getMetricDataCalls,
    sageMakerCalls,
    at: Date.now(),
  };
  writeFileSync(statsPath, JSON.stringify(stats));
};
const sampler = setInterval(sample, 100);
const writer = setInterval(write, 1_000);

/**
 * What buildWorkers + runWorkers do for the idle role, with two differences a benchmark needs: a
 * mark once the worker polls (its RSS floor). The sticky-cache size is config's
 * worker.maxCachedWorkflows (LLMTWIN_MAX_CACHED_WORKFLOWS), as for every worker.
 */
async function run(): Promise<void> {
  installRuntime(config, createLogger('warn', 'bench-idle-worker'));
  const connection = await connectWorkerConnection(config);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: taskQueuesFor(config.temporal.taskQueue).idle,
    activities: activitiesFor('idle', { config, aws }),
    workflowBundle: { codePath: bundlePath! },
    maxConcurrentActivityTaskExecutions: config.worker.controlConcurrency,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    ...IDLE_TASK_SLOTS,
    shutdownGraceTime: durationToMs(config.worker.shutdownGraceTime),
  });
  startedAt = Date.now();
  await worker.run();
  await connection.close();
}

run()
  .then(() => {
    clearInterval(sampler);
    clearInterval(writer);
    write();
    process.exit(0);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
