import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, runCli } from '../helpers/cli';
import { resetMoto, testConfig } from '../helpers/stack';
import { makeCertificates, startMtlsProxy, type TestCertificates, type TlsProxy } from '../helpers/tls-proxy';
import { spawnWorker } from '../helpers/worker-process';

// A Temporal front end that authenticates clients by certificate (mTLS): a worker and the CLI that
// present the certificate a private CA signed reach it, through the same four settings the temporal
// CLI reads (TEMPORAL_TLS_CERT, _KEY, _CA, _SERVER_NAME); one without a certificate, or with a
// stranger's, is refused by the server; a certificate file that is not there is a setting to fix (exit 2).
jest.setTimeout(180_000);

const config = testConfig();
let dir: string;
let certificates: TestCertificates;
let proxy: TlsProxy;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmtwin-mtls-'));
  certificates = makeCertificates(dir);
  proxy = await startMtlsProxy(config.temporal.address, certificates);
});
afterAll(async () => {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

const through = (extra: Record<string, string>) =>
  cliEnv(config, { TEMPORAL_ADDRESS: proxy.address, TEMPORAL_TLS_SERVER_NAME: 'localhost', ...extra });
const withCertificate = () =>
  through({ TEMPORAL_TLS_CERT: certificates.clientCert, TEMPORAL_TLS_KEY: certificates.clientKey, TEMPORAL_TLS_CA: certificates.ca });

it('a worker and the CLI with the client certificate run a workflow through the mTLS front end', async () => {
  await resetMoto();
  const worker = spawnWorker(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', 'control'], withCertificate());
  try {
    await worker.started;
    const run = await runCli(['stack-check', '--message', 'over mTLS', '--json'], withCertificate());
    expect(run.stderr).not.toContain('cannot reach Temporal');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { key: string }).key).toMatch(/^llmtwin\/stack-check\//);
    expect(proxy.accepted()).toBeGreaterThanOrEqual(2); // the worker's connection and the CLI's
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
});

it('the server refuses a client without a certificate, or with one another CA signed', async () => {
  const before = proxy.refused();
  const anonymous = await runCli(['stack-check'], through({ TEMPORAL_TLS_CA: certificates.ca }), 60_000);
  expect(anonymous.code).toBe(1);
  expect(anonymous.stderr).toMatch(
    /cannot reach Temporal at 127\.0\.0\.1:\d+: [\s\S]*whether it wants a client certificate \(TEMPORAL_TLS_CERT\)/,
  );
  const stranger = await runCli(
    ['stack-check'],
    through({ TEMPORAL_TLS_CERT: certificates.strangerCert, TEMPORAL_TLS_KEY: certificates.strangerKey, TEMPORAL_TLS_CA: certificates.ca }),
    60_000,
  );
  expect(stranger.code).toBe(1);
  expect(stranger.stderr).toMatch(/that the server takes this client certificate \(TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY\)/);
  expect(proxy.refused()).toBeGreaterThanOrEqual(before + 2);
});

it('a certificate that cannot be read, or a certificate without its key, is a setting to fix: exit 2, naming it', async () => {
  const missing = await runCli(
    ['stack-check'],
    through({ TEMPORAL_TLS_CERT: join(dir, 'nope.pem'), TEMPORAL_TLS_KEY: certificates.clientKey }),
  );
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/temporal\.tlsCert \(TEMPORAL_TLS_CERT\) is .*nope\.pem, which cannot be read \(ENOENT\)/);
  const swapped = await runCli(
    ['stack-check'],
    through({ TEMPORAL_TLS_CERT: certificates.clientKey, TEMPORAL_TLS_KEY: certificates.clientKey }),
  );
  expect(swapped.code).toBe(2);
  expect(swapped.stderr).toMatch(/temporal\.tlsCert \(TEMPORAL_TLS_CERT\) is .*client\.key, which holds no PEM "CERTIFICATE" block/);
  const alone = await runCli(['stack-check'], through({ TEMPORAL_TLS_CERT: certificates.clientCert }));
  expect(alone.code).toBe(2);
  expect(alone.stderr).toMatch(/tlsKey.*mTLS needs both the client certificate and its key/);
});
