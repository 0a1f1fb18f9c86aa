import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { Client, Connection } from '@temporalio/client';
import { describeLocalJob } from '../../activities/local/local-jobs';
import { cliEnv, runCli } from '../helpers/cli';
import { scratchJobsDir } from '../helpers/local-jobs';
import { prepareExampleDataset, startFineTune, trainingJobAtStep } from '../helpers/local-training';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';
import { spawnWorker } from '../helpers/worker-process';

// A Hugging Face token held in Secrets Manager reaches the training job, and nowhere else: not the
// workflow's input, result or history, not the worker's log (at debug level), not the job's folder, not
// what the CLI prints of the job. The input names the secret; the create activity resolves it.
jest.setTimeout(300_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir });
const token = `hf_${randomBytes(16).toString('hex')}`;

/** A recorded history as text, every payload decoded (the JSON holds them base64-encoded, where a token would not show). */
function historyText(history: unknown): string {
  const json = JSON.stringify(history);
  const payloads = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((match) => Buffer.from(match[1] ?? '', 'base64').toString('utf8'));
  expect(payloads.length).toBeGreaterThan(5);
  return [json, ...payloads].join('\n');
}

/** Every file under a folder, as text (binary files too: a token in them would show as its bytes). */
function filesUnder(folder: string): Array<{ path: string; text: string }> {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isFile() ? [{ path, text: readFileSync(path).toString('latin1') }] : [];
  });
}

it('a secret-held Hugging Face token reaches the training process, and no history, log, file or output', async () => {
  await resetMoto();
  const aws = testAwsClients(config);
  const secret = await aws.secretsManager.send(new CreateSecretCommand({ Name: 'llmtwin/hf-token', SecretString: token }));
  const worker = spawnWorker(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', 'control,data'], {
    ...cliEnv(config, { LLMTWIN_LOCAL_JOBS_DIR: jobsDir, LLMTWIN_LOG_LEVEL: 'debug' }),
  });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  try {
    await worker.started;
    const datasetUri = await prepareExampleDataset(client, config.temporal.taskQueue);
    const handle = await startFineTune(client, config.temporal.taskQueue, {
      datasetUri,
      hyperparameters: { epochs: 0.3 },
      huggingFaceToken: { secretArn: secret.ARN as string },
    });
    // It did arrive: the training program's own environment holds it (so the scans below scan something real).
    const jobName = await trainingJobAtStep(handle, jobsDir, 1);
    const program = describeLocalJob(jobsDir, jobName)?.state.program;
    expect(program).toBeDefined();
    const environ = readFileSync(`/proc/${program!.pid}/environ`, 'latin1').split('\0');
    expect(environ).toContain(`HF_TOKEN=${token}`);
    const result = await handle.result();
    expect(result.jobName).toBe(jobName);

    const history = historyText(await handle.fetchHistory());
    expect(history.includes(secret.ARN as string)).toBe(true); // the reference is there, as it should be
    const logs = await runCli(['jobs', 'logs', jobName], cliEnv(config, { LLMTWIN_LOCAL_JOBS_DIR: jobsDir }));
    expect(logs.stdout).toContain('llmtwin-local:');
    const places = [
      { path: 'workflow history', text: history },
      { path: 'worker log (debug)', text: worker.output() },
      { path: 'llmtwin jobs logs', text: logs.stdout + logs.stderr },
      ...filesUnder(jobsDir),
    ];
    expect(places.length).toBeGreaterThan(10);
    expect(worker.output()).toContain('"workers started"');
    expect(places.filter((place) => place.text.includes(token)).map((place) => place.path)).toEqual([]);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
    await connection.close();
    aws.secretsManager.destroy();
  }
});
