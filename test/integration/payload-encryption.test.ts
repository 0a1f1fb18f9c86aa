import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { dataConverterFor } from '../../platform/payload-codec';
import { PROJECT_ROOT } from '../../platform/paths';
import { TEMPORAL_BIN } from '../../scripts/dev-stack/stack';
import { cliEnv, runCli } from '../helpers/cli';
import { resetMoto, testConfig } from '../helpers/stack';
import { spawnWorker } from '../helpers/worker-process';

// With temporal.encryption on, the worker and the CLI seal every payload: the server's history holds
// ciphertext only, the CLI still prints the result, and the codec server lets the temporal CLI (and so
// the Web UI, which speaks the same protocol) show the history decoded.
jest.setTimeout(180_000);

const config = testConfig();
const message = `sealed-${randomBytes(6).toString('hex')}`;
const keyEnv = { LLMTWIN_PAYLOAD_KEY_ID: 'it-key-1', LLMTWIN_PAYLOAD_KEY: randomBytes(32).toString('base64') };

/**
 * Every payload in a history as JSON (the history's own encoding: bytes as base64), but for the patch
 * markers the SDK's core writes itself (a patch id, never data) and search attributes (which live in a
 * map, not in payload lists, and which the server must read to index).
 */
function payloadsIn(history: unknown): Array<{ metadata?: Record<string, string>; data?: string }> {
  const found: Array<{ metadata?: Record<string, string>; data?: string }> = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.markerName === 'core_patch') return;
      if (Array.isArray(record.payloads)) found.push(...(record.payloads as typeof found));
      Object.values(record).forEach(visit);
    }
  };
  visit(history);
  return found;
}

/** The messages of an error and of every cause below it. */
function causeMessages(error: unknown): string[] {
  const messages: string[] = [];
  for (let at = error; at instanceof Error; at = at.cause) messages.push(at.message);
  return messages;
}

it('seals every payload of a run in history; the CLI reads the result and the codec server decodes the history', async () => {
  await resetMoto();
  const env = cliEnv(config, keyEnv);
  const worker = spawnWorker(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', 'control'], env);
  const codecServer = spawn(join(PROJECT_ROOT, 'llmtwin'), ['codec-server', '--port', '0', '--json'], { cwd: PROJECT_ROOT, env });
  const connection = await Connection.connect({ address: config.temporal.address });
  const plainClient = new Client({ connection, namespace: config.temporal.namespace });
  try {
    await worker.started;
    const run = await runCli(['stack-check', '--message', message, '--json'], env);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { workflowId: string; key: string };
    expect(result.key).toBe(`llmtwin/stack-check/${result.workflowId}.json`);

    // What the server keeps: the input, the activity's input and result, the workflow's result, all sealed.
    const history = JSON.parse(JSON.stringify(await plainClient.workflow.getHandle(result.workflowId).fetchHistory())) as unknown;
    const payloads = payloadsIn(history);
    expect(payloads.length).toBeGreaterThanOrEqual(4);
    const encodings = payloads.map((payload) => Buffer.from(payload.metadata?.encoding ?? '', 'base64').toString());
    expect(new Set(encodings)).toEqual(new Set(['binary/encrypted']));
    const everything = [
      JSON.stringify(history),
      ...payloads.map((payload) => Buffer.from(payload.data ?? '', 'base64').toString('latin1')),
    ];
    expect(everything.filter((text) => text.includes(message))).toEqual([]);

    // A CLI without the key cannot read it, and says what to set.
    const keyless = await runCli(['stack-check', '--message', 'x'], cliEnv(config, { LLMTWIN_PAYLOAD_KEY_ID: 'it-key-1' }));
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toMatch(/LLMTWIN_PAYLOAD_KEY is not set: put its key .*openssl rand -base64 32/);

    // The temporal CLI, pointed at the codec server, shows the history decoded: the input's message is there.
    const listening = await new Promise<{ url: string }>((resolve, reject) => {
      let out = '';
      codecServer.stdout.on('data', (data: Buffer) => {
        out += data.toString();
        if (out.includes('}')) resolve(JSON.parse(out) as { url: string });
      });
      codecServer.once('exit', (code) => reject(new Error(`codec-server exited with ${code}`)));
    });
    const shown = await promisify(execFile)(TEMPORAL_BIN, [
      ...['workflow', 'show', '--workflow-id', result.workflowId, '--address', config.temporal.address],
      ...['--namespace', config.temporal.namespace, '--codec-endpoint', listening.url, '--output', 'json'],
    ]);
    const decoded = payloadsIn(JSON.parse(shown.stdout));
    expect(decoded).toHaveLength(payloads.length);
    expect(new Set(decoded.map((payload) => Buffer.from(payload.metadata?.encoding ?? '', 'base64').toString()))).toEqual(
      new Set(['json/plain']),
    );
    expect(decoded.map((payload) => Buffer.from(payload.data ?? '', 'base64').toString()).join('\n')).toContain(message);

    // A failure's message names what failed (here a dataset path): history keeps "Encoded failure" and a
    // sealed payload, while a client with the key reads the message, as the CLI shows a failed run's cause.
    const encryption = { keyId: keyEnv.LLMTWIN_PAYLOAD_KEY_ID, keyEnv: 'LLMTWIN_PAYLOAD_KEY', previousKeys: [] };
    const sealing = dataConverterFor({ ...config, temporal: { ...config.temporal, encryption } }, env);
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: sealing });
    const dataset = `s3://${config.s3.bucket}/${config.s3.prefix}datasets/${message}/`;
    const failing = await client.workflow.start('fineTune', {
      args: [{ datasetUri: dataset }],
      taskQueue: config.temporal.taskQueue,
      workflowId: `encrypted-failure-${randomBytes(4).toString('hex')}`,
    });
    const failure = await failing.result().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(causeMessages(failure)).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    const failedRun = await runCli(['fine-tune', '--dataset', dataset], env);
    expect(failedRun.code).not.toBe(0);
    expect(failedRun.stderr).toContain(`${dataset}manifest.json`);
    const failedHistory = JSON.stringify(await plainClient.workflow.getHandle(failing.workflowId).fetchHistory());
    expect(failedHistory).toContain('Encoded failure');
    expect(failedHistory).not.toContain(message);
    expect(failedHistory).not.toContain(Buffer.from(message).toString('base64'));
  } finally {
    codecServer.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    await worker.exited;
    await connection.close();
  }
});
