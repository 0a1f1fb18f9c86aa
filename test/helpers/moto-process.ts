import { spawn, type ChildProcess } from 'node:child_process';
import { resolveConfig, type LlmtwinConfig } from '../../common/config';
import { createAwsClients, type AwsClients } from '../../platform/aws-clients';
import { freePort, waitFor } from '../../scripts/dev-stack/health';
import { MOTO_BIN } from '../../scripts/dev-stack/stack';

/**
 * A moto server of a test file's own (workflow tests run on the time-skipping server, which has no
 * moto beside it): real AWS behaviour for activities without touching the integration stack.
 */
export interface MotoProcess {
  url: string;
  config: LlmtwinConfig;
  /** Clients that try once: moto answers unsupported calls with 500s the SDK would retry. */
  aws: AwsClients;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<MotoProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO_BIN, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await waitFor(
    `moto at ${url}`,
    30_000,
    async () => {
      try {
        return (await fetch(`${url}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) })).ok;
      } catch {
        return false;
      }
    },
    `${MOTO_BIN} did not answer`,
  );
  const config = resolveConfig({ AWS_ENDPOINT_URL: url, LLMTWIN_METRICS_PORT: '0' });
  const aws = createAwsClients(config, { maxAttempts: 1 }, {});
  return {
    url,
    config,
    aws,
    async reset() {
      const response = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      for (const client of Object.values(aws) as Array<{ destroy(): void }>) client.destroy();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
