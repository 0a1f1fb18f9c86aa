import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../../scripts/dev-stack/stack';

export const BUNDLE_ENV_VAR = 'LLMTWIN_TEST_WORKFLOW_BUNDLE';

/** Bundles workflows/ once per test run (webpack takes seconds) and tells the test files where it is. */
export async function bundleWorkflowsOnce(): Promise<void> {
  if (process.env[BUNDLE_ENV_VAR]) return;
  const { code } = await bundleWorkflowCode({ workflowsPath: join(PROJECT_ROOT, 'workflows'), logger: quietLogger });
  const dir = join(PROJECT_ROOT, '.tmp');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `workflow-bundle-${process.pid}.js`);
  writeFileSync(path, code);
  // One bundle per jest run (runs may overlap); gone when the run ends, so .tmp does not fill up.
  process.once('exit', () => rmSync(path, { force: true }));
  process.env[BUNDLE_ENV_VAR] = path;
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (message: string) => console.error(message) };
