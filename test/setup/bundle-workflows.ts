import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowRole } from '../../common/shared/task-queues';
import { PROJECT_ROOT } from '../../scripts/dev-stack/stack';
import { WORKFLOWS_BY_ROLE } from '../../workers/run-workers';

export const BUNDLE_ENV_VARS: Record<WorkflowRole, string> = {
  control: 'TEST_LLMTWIN_WORKFLOW_BUNDLE',
  idle: 'TEST_LLMTWIN_IDLE_WORKFLOW_BUNDLE',
};

/**
 * Bundles each workflow role's code once per test run (webpack takes seconds) and tells the test files
 * where the bundles are: the same code the workers of those roles run.
 */
export async function bundleWorkflowsOnce(): Promise<void> {
  for (const role of Object.keys(BUNDLE_ENV_VARS) as WorkflowRole[]) {
    if (process.env[BUNDLE_ENV_VARS[role]]) continue;
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_BY_ROLE[role], logger: quietLogger });
    const dir = join(PROJECT_ROOT, '.tmp');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `workflow-bundle-${role}-${process.pid}.js`);
    writeFileSync(path, code);
    // One bundle per jest run (runs may overlap); gone when the run ends, so .tmp does not fill up.
    process.once('exit', () => rmSync(path, { force: true }));
    process.env[BUNDLE_ENV_VARS[role]] = path;
  }
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (message: string) => console.error(message) };
