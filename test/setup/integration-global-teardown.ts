import { rmSync } from 'node:fs';
import { stopStack, type StackOptions } from '../../scripts/dev-stack/stack';
import { STACK_ENV_VAR } from './integration-global-setup';

export default async function integrationGlobalTeardown(): Promise<void> {
  const raw = process.env[STACK_ENV_VAR];
  if (!raw) return;
  const options = JSON.parse(raw) as StackOptions;
  delete process.env[STACK_ENV_VAR];
  await stopStack(options);
  rmSync(options.dataDir, { recursive: true, force: true });
}
