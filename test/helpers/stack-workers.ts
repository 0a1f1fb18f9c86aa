import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type ActivityInterceptorsFactory, type Worker } from '@temporalio/worker';
import type { LlmtwinConfig } from '../../common/config';
import { taskQueuesFor, type TaskQueues, type WorkerRole } from '../../common/shared/task-queues';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../platform/aws-clients';
import { buildWorkers } from '../../workers/run-workers';
import { resetMoto, testAwsClients, testConfig } from './stack';
import { workflowBundlePaths } from './temporal';

/**
 * Workers on the integration test stack, built the way workers/main.ts builds them, polling from
 * before the tests until after them, with a client and moto-backed AWS clients beside them. Fields are
 * filled in by the hooks this registers; read them inside tests.
 */
export interface StackWorkers {
  config: LlmtwinConfig;
  queues: TaskQueues;
  aws: AwsClients;
  client: Client;
}

export interface StackWorkerOptions {
  roles: readonly WorkerRole[];
  /** `each`: a fresh moto account, task queue and workers per test; `all` (default): once for the file. */
  scope?: 'each' | 'all';
  /** The config to run with (default: a fresh testConfig(), with its own task queue). */
  config?: () => LlmtwinConfig;
  /** SDK attempts per call for the workers' clients (default 1: moto answers unsupported calls with 500s). */
  maxAttempts?: number;
  /** Runs before the workers start, e.g. to add an SDK middleware that counts calls. */
  beforeStart?: (aws: AwsClients) => void;
  /** Runs before the workers stop, while the client still works, e.g. to remove a schedule a test made. */
  beforeStop?: (stack: StackWorkers) => Promise<unknown>;
  /** Activity interceptors added after the project's own (a test's faults). */
  activityInterceptors?: readonly ActivityInterceptorsFactory[];
}

export function useStackWorkers(options: StackWorkerOptions): StackWorkers {
  const stack = {} as StackWorkers;
  let workers: Worker[] = [];
  let running: Promise<unknown> = Promise.resolve();
  let workerConnection: NativeConnection | undefined;
  let clientConnection: Connection | undefined;

  const start = async () => {
    await resetMoto();
    stack.config = options.config?.() ?? testConfig();
    stack.queues = taskQueuesFor(stack.config.temporal.taskQueue);
    stack.aws = options.maxAttempts
      ? createAwsClients(stack.config, { maxAttempts: options.maxAttempts }, {})
      : testAwsClients(stack.config);
    options.beforeStart?.(stack.aws);
    workerConnection = await NativeConnection.connect({ address: stack.config.temporal.address });
    clientConnection = await Connection.connect({ address: stack.config.temporal.address });
    stack.client = new Client({ connection: clientConnection, namespace: stack.config.temporal.namespace });
    workers = await buildWorkers({
      config: stack.config,
      roles: options.roles,
      aws: stack.aws,
      connection: workerConnection,
      workflowBundlePaths: workflowBundlePaths(),
      ...(options.activityInterceptors ? { activityInterceptors: options.activityInterceptors } : {}),
    });
    running = Promise.all(workers.map((worker) => worker.run()));
  };
  const stop = async () => {
    try {
      if (stack.client) await options.beforeStop?.(stack);
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      // A worker that failed rejects here; its error is the test's to report, the clean-up goes on.
      await running;
    } finally {
      workers = [];
      running = Promise.resolve();
      if (stack.aws) destroyAwsClients(stack.aws);
      await clientConnection?.close();
      await workerConnection?.close();
      clientConnection = undefined;
      workerConnection = undefined;
      Object.assign(stack, { aws: undefined, client: undefined });
    }
  };

  if (options.scope === 'each') {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterAll(stop);
  }
  return stack;
}
