import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { Client, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createIdleActivities, type IdleActivities, type IdleActivityDeps } from '../../activities/idle';
import { createIdleValidationActivities } from '../../activities/idle/validation';
import { IDLE_MONITOR_ID_POLICIES, idleMonitorWorkflowId, type IdleMonitorInput } from '../../common/idle/contract';
import { idleMonitor } from '../../workflows/idle/monitor';
import { startMoto, type MotoProcess } from './moto-process';
import { uniqueId, useTimeSkippingEnv, workflowBundle } from './temporal';

/**
 * Shared set-up of the idle stage's workflow tests: real activities against a moto of the file's
 * own, on a time-skipping server created fresh for every test. Fresh matters: the server's clock
 * starts at wall-clock time, the time moto stamps on endpoints (CreationTime, LastModifiedTime), so
 * the grace period and metric windows mean the same thing on both sides. The activities never read
 * this process's clock: the workflow passes its own `now`, and tests put datapoints at workflow times.
 */
export interface IdleHarness {
  moto: MotoProcess;
  env: TestWorkflowEnvironment;
  /** Counts of activity calls (AWS-facing ones), to tell the monitor's own reads from the sweep's. */
  calls: Record<keyof IdleActivities, number>;
  /** Runs `body` with a worker serving the idle workflows and (counted) real activities. */
  withIdleWorker<T>(body: (taskQueue: string) => Promise<T>, deps?: Partial<IdleActivityDeps>): Promise<T>;
  startMonitor(taskQueue: string, input: IdleMonitorInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof idleMonitor>>;
  /**
   * The result of a workflow that ends on its own (a sweep), waited for with time skipping still
   * locked: `result()` unlocks it, and the server would run other workflows' timers ahead meanwhile.
   * Note: once no timer is left anywhere, an unlocked test server skips years ahead (to its default
   * execution timeout), so a workflow without timers must be a test's last step.
   */
  resultLocked<T>(handle: WorkflowHandle<() => Promise<T>>): Promise<T>;
  inServiceAt(endpointName: string): Promise<number>;
  now(): Promise<number>;
}

// Time-skipped hours still cost real seconds of worker and moto work on two shared cores.
jest.setTimeout(90_000);

export function useIdleHarness(): IdleHarness {
  const harness = { calls: {} } as IdleHarness;
  let running: Worker | undefined;
  beforeAll(async () => {
    harness.moto = await startMoto();
  });
  afterAll(async () => {
    await harness.moto?.stop();
  });
  beforeEach(async () => {
    await harness.moto.reset();
    harness.calls = { observeEndpoint: 0, planEndpointTeardown: 0, teardownEndpoint: 0, sweepFleet: 0 };
  });
  afterEach(async () => {
    // A test that failed mid-body leaves its worker polling; it must stop before the server goes.
    if (running && running.getState() === 'RUNNING') running.shutdown();
    running = undefined;
  });
  // Declared after the worker's clean-up above, so the server goes after the worker has stopped.
  const server = useTimeSkippingEnv('each');
  Object.defineProperty(harness, 'env', { get: () => server.env });

  harness.withIdleWorker = async (body, deps = {}) => {
    const real = createIdleActivities({
      ...harness.moto.aws,
      pricing: harness.moto.config.pricing,
      resourceNamePrefix: harness.moto.config.resourceNamePrefix,
      temporalClient: () => harness.env.client,
      ...deps,
    });
    const counted = Object.fromEntries(
      Object.entries(real).map(([name, activity]) => [
        name,
        (...args: unknown[]) => {
          harness.calls[name as keyof IdleActivities] += 1;
          return (activity as (...a: unknown[]) => Promise<unknown>)(...args);
        },
      ]),
    );
    const taskQueue = uniqueId('idle');
    // The idle role's worker: its own bundle, its AWS activities (counted) and its local-activity checks.
    const activities = { ...counted, ...createIdleValidationActivities() };
    const worker = await Worker.create({
      connection: harness.env.nativeConnection,
      taskQueue,
      activities,
      workflowBundle: workflowBundle('idle'),
    });
    running = worker;
    return worker.runUntil(() => body(taskQueue));
  };
  harness.startMonitor = (taskQueue, input) =>
    harness.env.client.workflow.start(idleMonitor, {
      taskQueue,
      workflowId: idleMonitorWorkflowId(input.endpointName),
      workflowIdConflictPolicy: IDLE_MONITOR_ID_POLICIES.workflowIdConflictPolicy,
      workflowIdReusePolicy: IDLE_MONITOR_ID_POLICIES.workflowIdReusePolicy,
      args: [input],
    });
  harness.resultLocked = async (handle) => {
    while ((await handle.describe()).status.name === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 50));
    // A plain client's result(): the time-skipping client's unlocks skipping around the call, and even
    // that instant lets the server jump to the next timer of some other workflow.
    const plain = new Client({
      connection: harness.env.connection,
      ...(harness.env.namespace ? { namespace: harness.env.namespace } : {}),
    });
    return plain.workflow.getHandle(handle.workflowId).result() as ReturnType<typeof handle.result>;
  };
  harness.inServiceAt = async (endpointName) => {
    const described = await harness.moto.aws.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    return described.LastModifiedTime!.getTime();
  };
  harness.now = () => harness.env.currentTimeMs();
  return harness;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
