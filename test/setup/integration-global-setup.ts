import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/dev-stack/health';
import { startStack, type StackOptions } from '../../scripts/dev-stack/stack';
import { bundleWorkflowsOnce } from './bundle-workflows';

export const STACK_ENV_VAR = 'TEST_LLMTWIN_STACK';

/**
 * A real dev stack of its own for the integration tests: the Temporal dev server (headless) and moto on
 * free ports in a throwaway folder, so a developer's running `npm run dev` stack is never touched and
 * two test runs never collide.
 */
export default async function integrationGlobalSetup(): Promise<void> {
  // The integration and fault projects share one stack when they run together.
  if (process.env[STACK_ENV_VAR]) return;
  await bundleWorkflowsOnce();
  const options: StackOptions = {
    dataDir: mkdtempSync(join(tmpdir(), 'llmtwin-it-')),
    temporalPort: await freePort(),
    uiPort: null,
    motoPort: await freePort(),
    namespace: 'default',
  };
  await startStack(options);
  process.env[STACK_ENV_VAR] = JSON.stringify(options);
}
