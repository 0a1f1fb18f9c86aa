import { createServer, type Server } from 'node:net';
import { freePort } from '../../scripts/dev-stack/health';
import { cliEnv, runCli } from '../helpers/cli';
import { testConfig } from '../helpers/stack';
import { spawnWorker } from '../helpers/worker-process';

// The documented worker command, `npm run worker`, as an operator runs it and stops it.
jest.setTimeout(90_000);

const config = testConfig();

/** `npm run worker` with its output collected; resolves once it logs that its workers started. */
function startWorker(extra: Record<string, string> = {}) {
  return spawnWorker('npm', ['run', '--silent', 'worker'], cliEnv(config, { LLMTWIN_LOG_LEVEL: 'info', ...extra }));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run worker', () => {
  it('stops on SIGTERM sent to npm (the worker itself, not only npm, goes away)', async () => {
    const worker = startWorker();
    await worker.started;
    const pid = Number(/"pid":(\d+)/.exec(worker.output())?.[1]);
    expect(isRunning(pid)).toBe(true);
    worker.child.kill('SIGTERM');
    await worker.exited;
    for (let waited = 0; isRunning(pid) && waited < 20_000; waited += 200) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isRunning(pid)).toBe(false);
    expect(worker.output()).toContain('"workers stopped"');
  });

  it('a metrics port that is taken names LLMTWIN_METRICS_PORT and exits 1', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const worker = startWorker({ LLMTWIN_METRICS_PORT: String(port) });
      expect(await worker.exited).toBe(1);
      expect(worker.output()).toMatch(
        new RegExp(`metrics port ${port} is already in use .*set LLMTWIN_METRICS_PORT to a free port, or to 0`),
      );
    } finally {
      taken.close();
    }
  });

  it("serves the project's own counters on its metrics port beside Temporal's: AWS attempts by outcome, resources created", async () => {
    const port = await freePort();
    // A bucket of its own, so the first stack check makes it whatever ran before on this moto.
    const bucket = { LLMTWIN_S3_BUCKET: `llmtwin-metrics-${Date.now()}` };
    const worker = startWorker({ LLMTWIN_METRICS_PORT: String(port), ...bucket });
    try {
      await worker.started;
      const check = await runCli(['stack-check', '--json'], cliEnv(config, bucket));
      expect(check.code).toBe(0);
      const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // One line per series, e.g. llmtwin_aws_calls{operation="PutObject",outcome="ok",service="S3"} 1
      const series = (name: string, ...labels: string[]) =>
        scraped
          .split('\n')
          .filter((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)))
          .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
      expect(series('llmtwin_aws_calls', 'operation="PutObject"', 'outcome="ok"', 'service="S3"')).toBe(1);
      // A first stack check makes the bucket: HeadBucket said 404 (a client error), CreateBucket made it.
      expect(series('llmtwin_aws_calls', 'operation="HeadBucket"', 'outcome="client_error"')).toBe(1);
      expect(series('llmtwin_resources_created', 'kind="Bucket"', 'service="S3"')).toBe(1);
      expect(scraped).toMatch(/^temporal_/m); // the SDK's own metrics, on the same endpoint
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});
