import { createServer, type Server } from 'node:net';
import { freePort } from '../../scripts/dev-stack/health';
import { cliEnv, runCli } from '../helpers/cli';
import { destroyAwsClients } from '../../platform/aws-clients';
import { createDemoEndpoint } from '../../scripts/demos/idle';
import { testAwsClients, testConfig } from '../helpers/stack';
import { spawnWorker } from '../helpers/worker-process';

// The documented worker command, `npm run worker`, as an operator runs it and stops it.
jest.setTimeout(90_000);

const config = testConfig();

/** `npm run worker` with its output collected; resolves once it logs that its workers started. */
function startWorker(extra: Record<string, string> = {}) {
  return spawnWorker('npm', ['run', '--silent', 'worker'], cliEnv(config, { LLMTWIN_LOG_LEVEL: 'info', ...extra }));
}

/**
 * The sum of a Prometheus scrape's series of `name` carrying every label given; one line per series,
 * e.g. llmtwin_aws_calls{operation="PutObject",outcome="ok",service="S3"} 1
 */
function seriesIn(scraped: string) {
  return (name: string, ...labels: string[]) =>
    scraped
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
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

  it("serves the project's own counters on its metrics port beside Temporal's: AWS attempts by outcome, resources created and deleted, what idle monitors saved", async () => {
    const port = await freePort();
    // A bucket of its own, so the first stack check makes it whatever ran before on this moto.
    const bucket = { LLMTWIN_S3_BUCKET: `llmtwin-metrics-${Date.now()}` };
    const worker = startWorker({ LLMTWIN_METRICS_PORT: String(port), ...bucket });
    try {
      await worker.started;
      const check = await runCli(['stack-check', '--json'], cliEnv(config, bucket));
      expect(check.code).toBe(0);
      const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const series = seriesIn(scraped);
      expect(series('llmtwin_aws_calls', 'operation="PutObject"', 'outcome="ok"', 'service="S3"')).toBe(1);
      // A first stack check makes the bucket: HeadBucket said 404 (a client error), CreateBucket made it.
      expect(series('llmtwin_aws_calls', 'operation="HeadBucket"', 'outcome="client_error"')).toBe(1);
      expect(series('llmtwin_resources_created', 'kind="Bucket"', 'service="S3"')).toBe(1);
      expect(scraped).toMatch(/^temporal_/m); // the SDK's own metrics, on the same endpoint

      // An idle endpoint, deleted by its monitor (no grace, a 2 s window): what the monitor counts
      // (deletions, and what they cost a day) and the deletions the AWS layer counts, on the same port.
      const endpointName = `metrics-idle-${Date.now()}`;
      const aws = testAwsClients(config);
      try {
        await createDemoEndpoint(aws.sagemaker, endpointName);
      } finally {
        destroyAwsClients(aws);
      }
      const monitor = await runCli(
        ['endpoints', 'monitor', endpointName, '--interval', '2s', '--window', '2s', '--grace', '0s', '--wait', '--json'],
        cliEnv(config, bucket),
      );
      expect(monitor.code).toBe(0);
      const summary = JSON.parse(monitor.stdout) as { outcome: string; estimatedSavedPerDayUsd: number };
      expect(summary.outcome).toBe('deleted');
      const seriesAfter = seriesIn(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(seriesAfter('llmtwin_idle_endpoints_deleted')).toBe(1);
      expect(summary.estimatedSavedPerDayUsd).toBeGreaterThan(0);
      expect(seriesAfter('llmtwin_idle_saved_usd_cents_per_day')).toBe(Math.round(summary.estimatedSavedPerDayUsd * 100));
      for (const kind of ['Endpoint', 'EndpointConfig', 'Model']) {
        expect([kind, seriesAfter('llmtwin_resources_deleted', `kind="${kind}"`, 'service="SageMaker"')]).toEqual([kind, 1]);
      }
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});
