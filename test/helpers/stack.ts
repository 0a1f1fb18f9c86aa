import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolveConfig, type LlmtwinConfig } from '../../common/config';
import type { StackOptions } from '../../scripts/dev-stack/stack';
import { createAwsClients, type AwsClients } from '../../platform/aws-clients';
import { STACK_ENV_VAR } from '../setup/integration-global-setup';
import { uniqueId } from './temporal';
import { PROJECT_ROOT } from '../../platform/paths';

/** The dev stack the integration global setup started for this run. */
export function testStack(): StackOptions {
  const raw = process.env[STACK_ENV_VAR];
  if (!raw) throw new Error(`${STACK_ENV_VAR} is not set: run through jest's integration project`);
  return JSON.parse(raw) as StackOptions;
}

export function motoUrl(): string {
  return `http://127.0.0.1:${testStack().motoPort}`;
}

/** Config pointing at the test stack, with a task queue of its own and any extra env overrides. */
export function testConfig(env: Record<string, string> = {}): LlmtwinConfig {
  const stack = testStack();
  return resolveConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${stack.temporalPort}`,
    AWS_ENDPOINT_URL: motoUrl(),
    LLMTWIN_TASK_QUEUE: uniqueId('it'),
    LLMTWIN_S3_BUCKET: 'llmtwin-it',
    LLMTWIN_METRICS_PORT: '0',
    // The project's examples and the scratch folders tests write corpora to.
    LLMTWIN_SOURCE_ROOTS: `${PROJECT_ROOT},${realpathSync(tmpdir())}`,
    ...env,
  });
}

/** Clients against moto that try once: moto answers unsupported calls with 500s the SDK would retry. */
export function testAwsClients(config: LlmtwinConfig): AwsClients {
  return createAwsClients(config, { maxAttempts: 1 }, {});
}

/** Forgets everything moto holds, so each test (or bench round) starts from an empty account. */
export async function resetMoto(url = motoUrl()): Promise<void> {
  const response = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}
