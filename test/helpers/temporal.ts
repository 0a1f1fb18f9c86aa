import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { TEST_SERVER_BIN } from '../../scripts/dev-stack/stack';
import { BUNDLE_ENV_VAR } from '../setup/bundle-workflows';

/** The time-skipping test server from the project venv; never downloaded. Time skipping is global: run serially. */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER_BIN } } });
}

/** A unique id per test, so workflow ids and task queues never collide between tests or runs. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The workflow bundle the global setup made for this run. */
export function workflowBundle(): { codePath: string } {
  const codePath = process.env[BUNDLE_ENV_VAR];
  if (!codePath) throw new Error(`${BUNDLE_ENV_VAR} is not set: run through jest's workflow or integration project`);
  return { codePath };
}

/** Creates a worker on the bundled workflows and runs `body` while it polls. */
export async function withWorker<T>(
  options: Pick<WorkerOptions, 'connection' | 'taskQueue' | 'activities' | 'namespace'> & Partial<WorkerOptions>,
  body: () => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({ workflowBundle: workflowBundle(), ...options });
  return worker.runUntil(body);
}
