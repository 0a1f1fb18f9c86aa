import {
  Runtime,
  Worker,
  makeTelemetryFilterString,
  type ActivityInterceptorsFactory,
  type NativeConnection,
  type WorkerOptions,
} from '@temporalio/worker';
import { Client } from '@temporalio/client';
import type { Logger as PinoLogger } from 'pino';
import type { LlmtwinConfig } from '../common/config';
import { durationToMs } from '../common/shared/durations';
import { taskQueuesFor, type WorkerRole, type WorkflowRole } from '../common/shared/task-queues';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../platform/aws-clients';
import { instrumentAwsClients } from './aws-metrics';
import { TemporalPinoLogger } from '../platform/logger';
import { connectWorkerConnection } from '../platform/temporal-worker';
import { dataConverterFor } from '../platform/payload-codec';
import { keepHeartbeating } from './heartbeat-interceptor';
import { attemptJournal, reportLostAttempts } from './attempt-journal';
import { projectPath } from '../platform/paths';
import { activitiesFor } from './activities';

let runtimeInstalled = false;

/**
 * Installs the Temporal runtime once per process: structured logs through pino and, when a port is
 * configured, the Prometheus exporter. Must run before any connection or worker exists.
 */
export function installRuntime(config: LlmtwinConfig, logger: PinoLogger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const port = config.worker.metricsPort;
  try {
    Runtime.install({
      logger: new TemporalPinoLogger(logger),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
        ...(port > 0 ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${port}` } } } : {}),
      },
    });
  } catch (error) {
    // The exporter binds its port when the runtime starts: a second worker on one host collides there.
    if (port > 0 && /address already in use|prometheus/i.test((error as Error).message)) {
      throw new Error(
        `the worker's metrics port ${port} is already in use (another worker on this host?): set LLMTWIN_METRICS_PORT to a free port, or to 0 to turn the metrics exporter off`,
        { cause: error },
      );
    }
    throw error;
  }
}

export interface RunWorkersOptions {
  config: LlmtwinConfig;
  roles: readonly WorkerRole[];
  logger: PinoLogger;
  /** Reuse pre-built clients (tests, benchmarks); otherwise built from config. */
  aws?: AwsClients;
  connection?: NativeConnection;
  /** Pre-bundled workflow code per role; a role without one is bundled from WORKFLOWS_BY_ROLE at start. */
  workflowBundlePaths?: Partial<Record<WorkflowRole, string>>;
  /** More activity interceptors (tracing, or a test's faults), after the project's own. */
  activityInterceptors?: readonly ActivityInterceptorsFactory[];
  /** Resolves to stop the workers (besides SIGINT/SIGTERM, which the runtime handles). */
  until?: Promise<unknown>;
}

const HEARTBEAT_SEND_INTERVAL = '2s';

/**
 * How often a running worker looks for the journals of workers on its machine that died (besides once
 * when it starts): a killed worker's attempts are retried this soon even when no new worker replaces it.
 */
const LOST_ATTEMPT_SCAN_INTERVAL_MS = 5_000;

/**
 * How many workflow tasks and local activities the idle worker runs at once. Its tasks are small and
 * its local activities a few AWS calls each, so a dozen at a time keep the cores busy; Temporal's
 * defaults (40 tasks, 100 local activities) only raise the worker's memory when a fleet's deadlines
 * fall together and hundreds of monitors delete at once (bench/idle-sweep.ts).
 */
export const IDLE_TASK_SLOTS = { maxConcurrentWorkflowTaskExecutions: 16, maxConcurrentLocalActivityExecutions: 32 } as const;

/**
 * The workflow code each workflow role runs. Control runs every workflow (idle ones included, for
 * monitors started there before the idle queue existed); idle runs only the idle stage, whose small
 * bundle is what keeps a cached monitor cheap.
 */
export const WORKFLOWS_BY_ROLE: Record<WorkflowRole, string> = {
  control: require.resolve('../workflows'),
  idle: require.resolve('../workflows/idle'),
};

function isWorkflowRole(role: WorkerRole): role is WorkflowRole {
  return role in WORKFLOWS_BY_ROLE;
}

export async function buildWorkers({
  config,
  roles,
  aws,
  connection,
  workflowBundlePaths = {},
  activityInterceptors = [],
}: Omit<RunWorkersOptions, 'logger' | 'until'> & { aws: AwsClients; connection: NativeConnection }): Promise<Worker[]> {
  const queues = taskQueuesFor(config.temporal.taskQueue);
  const shutdownGraceTime = durationToMs(config.worker.shutdownGraceTime);
  const dataConverter = dataConverterFor(config);
  const journal = attemptJournal(projectPath(config.worker.attemptsDir), config.temporal);
  // A queue with nothing registered yet (no workflows, no activities) cannot be polled; skip it.
  const servedRoles = roles.filter((role) => isWorkflowRole(role) || Object.keys(activitiesFor(role, { config, aws })).length > 0);
  return Promise.all(
    servedRoles.map((role) =>
      Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: queues[role],
        activities: activitiesFor(role, { config, aws }),
        shutdownGraceTime,
        ...(dataConverter ? { dataConverter } : {}),
        // Heartbeat details are the progress the CLI and Web UI show; by default the SDK sends them at
        // most every 0.8 x heartbeat timeout (capped at 60 s), which makes a progress bar look frozen.
        maxHeartbeatThrottleInterval: HEARTBEAT_SEND_INTERVAL,
        interceptors: { activity: [journal, keepHeartbeating, ...activityInterceptors] },
        ...(isWorkflowRole(role)
          ? {
              // A pre-built bundle holds the default failure converter; with encryption on, the workflow
              // code is bundled here with the converter that seals failure messages.
              ...workflowCodeFor(role, dataConverter?.failureConverterPath ? undefined : workflowBundlePaths[role]),
              maxConcurrentActivityTaskExecutions: config.worker.controlConcurrency,
              maxCachedWorkflows: config.worker.maxCachedWorkflows,
              ...(role === 'idle' ? IDLE_TASK_SLOTS : {}),
            }
          : { maxConcurrentActivityTaskExecutions: config.worker.dataConcurrency }),
      }),
    ),
  );
}

function workflowCodeFor(role: WorkflowRole, bundlePath: string | undefined): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  return bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_BY_ROLE[role] };
}

/**
 * Runs one worker per requested task queue until SIGINT/SIGTERM (the runtime's default shutdown
 * signals) or `until` resolves. On shutdown, in-flight activities get `shutdownGraceTime` to finish.
 */
export async function runWorkers(options: RunWorkersOptions): Promise<void> {
  const { config, logger } = options;
  installRuntime(config, logger);
  const aws = options.aws ?? createAwsClients(config);
  instrumentAwsClients(aws, Runtime.instance().metricMeter);
  const connection = options.connection ?? (await connectWorkerConnection(config));
  // Before the workers are built (bundling the workflows takes seconds): a dead worker's attempts are
  // retried as soon as possible, by any worker that polls for them.
  const stopScanning = scanForLostAttempts(config, connection, logger);
  try {
    const workers = await buildWorkers({ ...options, aws, connection });
    logger.info(
      { queues: workers.map((worker) => worker.options.taskQueue), metricsPort: config.worker.metricsPort || null },
      'workers started',
    );
    if (options.until) {
      void options.until.then(() => workers.forEach((worker) => worker.getState() === 'RUNNING' && worker.shutdown()));
    }
    await Promise.all(workers.map((worker) => worker.run()));
    logger.info('workers stopped');
  } finally {
    await stopScanning();
    if (!options.connection) await connection.close();
    if (!options.aws) destroyAwsClients(aws);
  }
}

/** Reports the attempts of dead workers on this machine now and every few seconds; returns how to stop (after a scan in flight). */
function scanForLostAttempts(config: LlmtwinConfig, connection: NativeConnection, logger: PinoLogger): () => Promise<void> {
  const root = projectPath(config.worker.attemptsDir);
  const dataConverter = dataConverterFor(config);
  const client = new Client({ connection, namespace: config.temporal.namespace, ...(dataConverter ? { dataConverter } : {}) });
  let scanning: Promise<void> | undefined;
  const scan = () => {
    scanning ??= reportLostAttempts(root, config.temporal, client)
      .then((lost) => {
        for (const attempt of lost)
          logger[attempt.outcome === 'retried' ? 'warn' : 'info'](attempt, "reported a dead worker's activity attempt");
      })
      .catch((error: unknown) => logger.warn({ err: error, attemptsDir: root }, 'cannot report the attempts of dead workers yet'))
      .finally(() => (scanning = undefined));
  };
  scan();
  const timer = setInterval(scan, LOST_ATTEMPT_SCAN_INTERVAL_MS).unref();
  return async () => {
    clearInterval(timer);
    await scanning;
  };
}
