import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../common/shared/search-attributes';
import { TEST_SERVER_BIN } from '../../scripts/dev-stack/stack';
import type { WorkflowRole } from '../../common/shared/task-queues';
import { keepHeartbeating } from '../../workers/heartbeat-interceptor';
import { BUNDLE_ENV_VARS } from '../setup/bundle-workflows';

/**
 * The time-skipping test server from the project venv; never downloaded. Time skipping is global: run
 * serially. Like the dev stack, it knows the project's search attributes (workflows upsert them).
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEST_SERVER_BIN } },
  });
  await registerSearchAttributes(env);
  return env;
}

/**
 * The time-skipping server for a test file (`all`, the default) or fresh for every test (`each`: its
 * clock starts at wall-clock time again). Read `.env` inside tests; the hooks this registers fill it in.
 */
export function useTimeSkippingEnv(scope: 'all' | 'each' = 'all'): { env: TestWorkflowEnvironment } {
  const holder = {} as { env: TestWorkflowEnvironment };
  const [before, after] = scope === 'each' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    holder.env = await createTimeSkippingEnv();
  });
  after(async () => {
    // Once only: a failed set-up must not tear down the previous test's server a second time.
    const env = holder.env;
    delete (holder as Partial<typeof holder>).env;
    await env?.teardown();
  });
  return holder;
}

const { IndexedValueType } = temporal.api.enums.v1;

/** The dev stack registers our search attributes at start; the test server needs them added by hand. */
async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  // All of ours are keywords (search-attributes.ts); a new type would need its entry here.
  const searchAttributes = Object.fromEntries(
    Object.values(SEARCH_ATTRIBUTES).map((key) => [key.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
  );
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
}

/** A unique id per test, so workflow ids and task queues never collide between tests or runs. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A workflow role's bundle, made by the global setup for this run (default: control, every workflow). */
export function workflowBundle(role: WorkflowRole = 'control'): { codePath: string } {
  const codePath = process.env[BUNDLE_ENV_VARS[role]];
  if (!codePath) throw new Error(`${BUNDLE_ENV_VARS[role]} is not set: run through jest's workflow or integration project`);
  return { codePath };
}

/** Both roles' bundles, for buildWorkers. */
export function workflowBundlePaths(): Record<WorkflowRole, string> {
  return { control: workflowBundle('control').codePath, idle: workflowBundle('idle').codePath };
}

/** Creates a worker on the bundled workflows and runs `body` while it polls. */
export async function withWorker<T>(
  options: Pick<WorkerOptions, 'connection' | 'taskQueue' | 'activities' | 'namespace'> & Partial<WorkerOptions>,
  body: () => Promise<T>,
): Promise<T> {
  // As workers/run-workers.ts builds them: every activity kept heartbeating.
  const worker = await Worker.create({ workflowBundle: workflowBundle(), interceptors: { activity: [keepHeartbeating] }, ...options });
  return worker.runUntil(body);
}
