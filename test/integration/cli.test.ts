import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ensureBucket } from '../../activities/aws/s3';
import { describeEndpointIfExists } from '../../activities/aws/endpoints';
import { idleMonitorWorkflowId } from '../../common/idle/contract';
import { PROJECT_ROOT } from '../../platform/paths';
import { cliEnv, runCli, workflowsOn, type CliRun } from '../helpers/cli';
import { createTestEndpoint } from '../helpers/endpoint-fixtures';
import { useStackWorkers } from '../helpers/stack-workers';

// ./llmtwin as a new user runs it, against the integration stack with real workers: exit codes,
// what goes to stdout and stderr, and that a refused command leaves nothing behind (no workflow on the
// task queue, no object in S3, no monitor).
jest.setTimeout(120_000);

const CORPUS = join(PROJECT_ROOT, 'examples', 'corpus');
const scratch = mkdtempSync(join(tmpdir(), 'llmtwin-cli-'));

const stack = useStackWorkers({ roles: ['control', 'data', 'idle'] });
const cli = (args: string[], extra: Record<string, string> = {}): Promise<CliRun> => runCli(args, cliEnv(stack.config, extra));
const json = (run: CliRun): Record<string, unknown> => JSON.parse(run.stdout) as Record<string, unknown>;
/** Runs the CLI and checks it started no workflow on the control queue (refused input leaves nothing behind). */
async function refused(args: string[]): Promise<CliRun> {
  const before = await workflowsOn(stack.client, stack.queues.control);
  const run = await cli(args);
  expect(await workflowsOn(stack.client, stack.queues.control)).toEqual(before);
  return run;
}

function inputFile(name: string, content: string): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

describe('the llmtwin CLI, start-up and usage', () => {
  it('--version prints the version', async () => {
    const run = await cli(['--version']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('--help lists only the commands that exist, and the exit codes', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    const commands = [...run.stdout.slice(run.stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z-]+)\b/gm)].map((match) => match[1]);
    expect(commands).toEqual([
      'config',
      'stack-check',
      'run',
      'status',
      'watch',
      'cancel',
      'runs',
      'approve',
      'reject',
      'schedule',
      'prepare-data',
      'fine-tune',
      'evaluate',
      'models',
      'deploy',
      'invoke',
      'rollback',
      'jobs',
      'endpoints',
      'iam',
      'codec-server',
      'help',
    ]);
    expect(run.stdout).toMatch(/Exit codes: 0 success, 1 the run failed, 2 usage or validation error, 3 not found, 130 interrupted/);
  });

  it('an unknown command or option is a usage error (2)', async () => {
    const command = await cli(['deplyo']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'deplyo'/);
    const option = await cli(['prepare-data', '--sauce', CORPUS, '--json']);
    expect(option.code).toBe(2);
    expect(json(option)).toEqual({ error: { kind: 'usage', message: "unknown option '--sauce'\n(Did you mean --source?)" } });
  });

  it('config masks every secret', async () => {
    const run = await cli(['config'], {
      LLMTWIN_GENERATOR_API_KEY: 'sk-very-secret',
      TEMPORAL_API_KEY: 'tmprl-secret',
      TEMPORAL_TLS: 'false',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('sk-very-secret');
    expect(run.stdout).not.toContain('tmprl-secret');
    expect(json(run)).toMatchObject({ generator: { apiKey: '<set>' }, temporal: { apiKey: '<set>' } });
  });

  it('config refuses an unknown key in the file (2) and warns about an unknown LLMTWIN_ variable', async () => {
    const file = inputFile('config.json', '{"idle": {"windw": "2h"}}');
    const bad = await cli(['config'], { LLMTWIN_CONFIG: file });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/idle\.windw \(config file\): unknown key; did you mean "window"\?/);
    const warned = await cli(['config'], { LLMTWIN_IDLE_WINDW: '2h' });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(
      /warning: unknown environment variable LLMTWIN_IDLE_WINDW is ignored; did you mean LLMTWIN_IDLE_WINDOW\?/,
    );
  });
});

describe('waiting on a run', () => {
  it('Ctrl-C stops the waiting, not the run: 130, with the run and how to follow it', async () => {
    const child = spawn(join(PROJECT_ROOT, 'llmtwin'), ['stack-check', '--delay', '1h'], { env: cliEnv(stack.config), cwd: PROJECT_ROOT });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    while (!/started (stack-check-\S+)/.test(stderr)) await new Promise((resolve) => setTimeout(resolve, 100));
    const workflowId = /started (stack-check-\S+)/.exec(stderr)![1]!;
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain(`interrupted: stopped waiting; ${workflowId} goes on`);
    const handle = stack.client.workflow.getHandle(workflowId);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.terminate('test done');
  });
});

describe('prepare-data from the CLI', () => {
  it('without --source: 2, and nothing starts', async () => {
    const run = await refused(['prepare-data']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/--source is required/);
  });

  it('a number flag that is no number, or out of range, names the flag', async () => {
    const nan = await refused(['prepare-data', '--source', CORPUS, '--chunk-tokens', 'abc']);
    expect(nan.code).toBe(2);
    expect(nan.stderr).toMatch(/--chunk-tokens: expected a number, got "abc"/);
    const range = await refused(['prepare-data', '--source', CORPUS, '--dedup-threshold', '2', '--json']);
    expect(range.code).toBe(2);
    expect(json(range)).toMatchObject({
      error: { kind: 'usage', issues: ['dedup.threshold (--dedup-threshold): Too big: expected number to be <=1'] },
    });
  });

  it('an --input file with a misspelt key is refused, naming it and the nearest valid key', async () => {
    const file = inputFile(
      'bad-input.json',
      JSON.stringify({ source: { kind: 'local', path: CORPUS }, chunk: { maxToken: 64 }, bogusField: 1 }),
    );
    const run = await refused(['prepare-data', '--input', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/chunk\.maxToken: unknown key; did you mean "maxTokens"\?/);
    expect(run.stderr).toMatch(/bogusField: unknown key/);
  });

  it('an --input file that is missing or is no JSON object', async () => {
    expect((await refused(['prepare-data', '--input', join(scratch, 'nope.json')])).stderr).toMatch(
      /cannot read --input .*nope\.json: ENOENT/,
    );
    const notJson = await refused(['prepare-data', '--input', inputFile('not.json', '{ source: nope')]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/is not valid JSON/);
  });

  it.each([
    [
      'a folder that does not exist',
      () => join(scratch, 'nowhere'),
      /failed in activity planDataset: ValidationError: source\.path .*nowhere does not exist on the data worker/,
    ],
    [
      'an empty folder',
      () => mkdirSync(join(scratch, 'empty'), { recursive: true }) ?? join(scratch, 'empty'),
      /ValidationError: the source .*empty is empty/,
    ],
    [
      'a folder with no usable text',
      () => {
        mkdirSync(join(scratch, 'images'), { recursive: true });
        writeFileSync(join(scratch, 'images', 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        return join(scratch, 'images');
      },
      /ValidationError: the source .*images has no readable files: 1 skipped/,
    ],
  ])('%s: 1, with the cause, the run and its link; nothing in S3', async (_case, source, cause) => {
    const run = await cli(['prepare-data', '--source', source()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(cause);
    expect(run.stderr).toMatch(/^llmtwin: prepare-data-\d{8}-\d{6}-[0-9a-f]{8} failed in activity planDataset/m);
    const listed = await stack.aws.s3
      .send(new ListObjectsV2Command({ Bucket: stack.config.s3.bucket, Prefix: 'llmtwin/datasets/' }))
      .catch(() => ({ Contents: [] }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('with --json a failed run is one JSON error document on stdout', async () => {
    const run = await cli(['prepare-data', '--source', join(scratch, 'nowhere'), '--json']);
    expect(run.code).toBe(1);
    const { error } = json(run) as { error: Record<string, unknown> };
    expect(error).toMatchObject({
      kind: 'run-failed',
      outcome: 'failed',
      type: 'ValidationError',
      activity: 'planDataset',
      retryable: false,
    });
    expect(error.workflowId).toMatch(/^prepare-data-/);
  });

  it('--detach --json prints the started run', async () => {
    const run = await cli(['prepare-data', '--source', CORPUS, '--detach', '--json']);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ status: 'started' });
    expect(json(run).workflowId).toMatch(/^prepare-data-/);
  });
});

describe('run (the pipeline) from the CLI', () => {
  it('the workflow id is an idempotency key: a second start with it follows the same run, never a second', async () => {
    const args = [
      'run',
      '--source',
      join(scratch, 'no-such-folder'),
      '--twin',
      'wren',
      '--workflow-id',
      'pipeline-idempotent',
      '--detach',
      '--json',
    ];
    const first = await cli(args);
    const second = await cli(args);
    // Once it has ended (the folder does not exist), a third start still finds it.
    await stack.client.workflow
      .getHandle('pipeline-idempotent')
      .result()
      .catch(() => undefined);
    const third = await cli(args);

    expect([first.code, second.code, third.code]).toEqual([0, 0, 0]);
    expect(json(first)).toMatchObject({ workflowId: 'pipeline-idempotent', status: 'started' });
    expect(json(second)).toMatchObject({ workflowId: 'pipeline-idempotent', status: 'existing' });
    expect(json(third)).toMatchObject({ workflowId: 'pipeline-idempotent', status: 'existing' });
    expect((await workflowsOn(stack.client, stack.queues.control)).filter((id) => id === 'pipeline-idempotent')).toHaveLength(1);
  });

  it('status, runs, cancel and approve on that ended run; an unknown id is not found', async () => {
    const status = await cli(['status', 'pipeline-idempotent', '--json']);
    expect(status.code).toBe(0);
    expect(json(status)).toMatchObject({
      status: 'FAILED',
      stages: [{ stage: 'prepare-data', status: 'failed' }, { status: 'pending' }, { status: 'pending' }, { status: 'pending' }],
    });
    expect(JSON.parse((await cli(['runs', '--json'])).stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ workflowId: 'pipeline-idempotent', status: 'FAILED' })]),
    );
    const cancel = await cli(['cancel', 'pipeline-idempotent', '--json']);
    expect(json(cancel)).toMatchObject({ status: 'FAILED', cancelled: false });
    const approve = await cli(['approve', 'pipeline-idempotent', '--reason', 'reads like Wren']);
    expect(approve.code).toBe(2);
    expect(approve.stderr).toMatch(/evaluate stage took no decision/);
    expect((await cli(['status', 'pipeline-nobody-started'])).code).toBe(3);
  });

  it('a misspelt key deep in a stage section is refused with its path, and nothing starts', async () => {
    const run = await refused([
      'run',
      '--input',
      inputFile('pipeline.json', '{"source":{"kind":"local","path":"x"},"twin":"wren","prepareData":{"chunk":{"maxToken":1}}}'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/prepareData\.chunk\.maxToken: unknown key; did you mean "maxTokens"\?/);
  });
});

describe('schedule (retraining) from the CLI', () => {
  it('create, describe, trigger (a run starts with the input), refuse a second create, delete', async () => {
    const missing = join(scratch, 'no-writing-here');
    const created = await cli(['schedule', 'create', 'retrain-wren', '--every', '7d', '--source', missing, '--twin', 'wren', '--json']);
    expect(created.code).toBe(0);
    expect(json(created)).toMatchObject({
      scheduleId: 'retrain-wren',
      paused: false,
      overlap: 'SKIP',
      workflowType: 'twinPipeline',
      input: { source: { kind: 'local', path: missing }, twin: 'wren' },
      spec: { intervals: [{ everyMs: 7 * 86_400_000 }] },
    });
    expect((await cli(['schedule', 'create', 'retrain-wren', '--every', '7d', '--source', missing, '--twin', 'wren'])).code).toBe(2);

    expect((await cli(['schedule', 'trigger', 'retrain-wren'])).code).toBe(0);
    let recent: Array<{ workflowId: string }> = [];
    for (let look = 0; look < 50 && recent.length === 0; look += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      recent = json(await cli(['schedule', 'describe', 'retrain-wren', '--json'])).recentRuns as typeof recent;
    }
    expect(recent).toEqual([
      { scheduledAt: expect.any(String) as unknown, workflowId: expect.stringMatching(/^pipeline-retrain-wren-/) as unknown },
    ]);
    const run = await stack.client.workflow.getHandle(recent[0]!.workflowId).describe();
    expect(run.type).toBe('twinPipeline');

    expect((await cli(['schedule', 'delete', 'retrain-wren'])).code).toBe(0);
    expect((await cli(['schedule', 'describe', 'retrain-wren'])).code).toBe(3);
  });

  it('needs exactly one of --every and --cron, and a real duration', async () => {
    expect((await cli(['schedule', 'create', 's', '--source', 'x', '--twin', 'wren'])).stderr).toMatch(/give one of --every <duration>/);
    const bad = await cli(['schedule', 'create', 's', '--every', 'weekly', '--source', 'x', '--twin', 'wren']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--every: "weekly" is not a duration/);
  });
});

describe('fine-tune from the CLI', () => {
  it('an unknown instance type is refused before anything starts, naming the nearest known one', async () => {
    const run = await refused([
      'fine-tune',
      '--dataset',
      `s3://${stack.config.s3.bucket}/llmtwin/datasets/abc/`,
      '--instance-type',
      'ml.p4.24xlarge',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--instance-type: ml\.p4\.24xlarge is not a SageMaker instance type llmtwin knows \(did you mean ml\.p4d\.24xlarge\?\)/,
    );
  });

  it('a misspelt key in --input is refused', async () => {
    const file = inputFile(
      'ft.json',
      JSON.stringify({ datasetUri: `s3://${stack.config.s3.bucket}/x/`, instanceTyp: 'ml.p4d.24xlarge', hyperparameters: { epoch: 30 } }),
    );
    const run = await refused(['fine-tune', '--input', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/instanceTyp: unknown key; did you mean "instanceType"\?/);
    expect(run.stderr).toMatch(/hyperparameters\.epoch: unknown key; did you mean "epochs"\?/);
  });

  it('a dataset prefix with no manifest: 1, naming the missing manifest', async () => {
    await ensureBucket(stack.aws.s3, stack.config.s3.bucket, stack.config.aws.region);
    const run = await cli(['fine-tune', '--dataset', `s3://${stack.config.s3.bucket}/llmtwin/datasets/nothing-here/`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /failed in activity planFineTune: NotFound: GetObject \(dataset manifest s3:\/\/.*\/nothing-here\/manifest\.json/,
    );
  });

  it('cancel: an unknown id is not found (3); an idle monitor is not a fine-tune run (2) and keeps running', async () => {
    const unknown = await cli(['fine-tune', 'cancel', 'fine-tune-nope', '--json']);
    expect(unknown.code).toBe(3);
    expect(json(unknown)).toMatchObject({ error: { kind: 'not-found', workflowId: 'fine-tune-nope' } });

    await createTestEndpoint(stack.aws, 'cli-cancel-ep');
    expect((await cli(['endpoints', 'monitor', 'cli-cancel-ep', '--window', '1h'])).code).toBe(0);
    const wrong = await cli(['fine-tune', 'cancel', idleMonitorWorkflowId('cli-cancel-ep')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /is an idleMonitor run, not a fineTune run; nothing was done to it \(to stop watching the endpoint: llmtwin endpoints stop-monitor cli-cancel-ep\)/,
    );
    expect((await stack.client.workflow.getHandle(idleMonitorWorkflowId('cli-cancel-ep')).describe()).status.name).toBe('RUNNING');
  });
});

describe('endpoints from the CLI', () => {
  it('monitor of an endpoint that does not exist: 3, and no monitor starts', async () => {
    const run = await cli(['endpoints', 'monitor', 'no-such-ep', '--json']);
    expect(run.code).toBe(3);
    expect(json(run)).toEqual({
      error: {
        kind: 'not-found',
        message: 'endpoint no-such-ep does not exist in the local stack (moto); nothing was started',
        endpointName: 'no-such-ep',
      },
    });
    expect(await workflowsOn(stack.client, stack.queues.idle)).not.toContain(idleMonitorWorkflowId('no-such-ep'));
  });

  it('a window shorter than the interval is refused at start and by set-policy', async () => {
    await createTestEndpoint(stack.aws, 'cli-policy-ep');
    const start = await cli(['endpoints', 'monitor', 'cli-policy-ep', '--window', '1m', '--interval', '10m']);
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(/policy\.window \(--window\): window \(1m\) is shorter than checkInterval \(10m\)/);

    const started = await cli(['endpoints', 'monitor', 'cli-policy-ep', '--window', '20m', '--interval', '5m', '--json']);
    expect(started.code).toBe(0);
    expect(json(started)).toMatchObject({
      started: true,
      policy: { checkInterval: '5m', window: '20m' },
      grace: '20m',
      graceFollowsWindow: true,
    });
    const refused = await cli(['endpoints', 'set-policy', 'cli-policy-ep', '--window', '1m']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/window \(1m\) is shorter than checkInterval \(5m\).*nothing was sent/);
    const status = json(await cli(['endpoints', 'status', 'cli-policy-ep', '--json']));
    expect(status).toMatchObject({ monitor: 'running', policy: { window: '20m' }, rejectedPolicy: null });
  });

  it('status counts down to the deadline; keep-alive, pause and resume answer in JSON', async () => {
    await createTestEndpoint(stack.aws, 'cli-signals-ep');
    expect((await cli(['endpoints', 'monitor', 'cli-signals-ep', '--window', '1h'])).code).toBe(0);
    for (const command of ['keep-alive', 'pause', 'resume']) {
      const run = await cli(['endpoints', command, 'cli-signals-ep', '--json']);
      expect(run.code).toBe(0);
      expect(json(run)).toMatchObject({ workflowId: idleMonitorWorkflowId('cli-signals-ep'), sent: true });
    }
    const status = json(await cli(['endpoints', 'status', 'cli-signals-ep', '--json']));
    expect(status).toMatchObject({ monitor: 'running', keepAlives: 1, paused: false });
    expect(status.timeUntilDeletionMs as number).toBeGreaterThan(50 * 60_000);
    expect(status.timeUntilDeletionMs as number).toBeLessThanOrEqual(Date.parse(status.deleteAt as string) - Date.now() + 5_000);
  });

  it('signals to an endpoint without a monitor: 3', async () => {
    const run = await cli(['endpoints', 'keep-alive', 'never-monitored-ep']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/no idle monitor for never-monitored-ep; start one with: llmtwin endpoints monitor never-monitored-ep/);
  });

  it('stop-monitor stops watching, keeps the endpoint, and says what it costs', async () => {
    await createTestEndpoint(stack.aws, 'cli-stop-ep');
    expect((await cli(['endpoints', 'monitor', 'cli-stop-ep', '--window', '1h'])).code).toBe(0);
    const run = await cli(['endpoints', 'stop-monitor', 'cli-stop-ep']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/cli-stop-ep stays up, unwatched, and costs about \$17\.66 a day/);
    expect((await stack.client.workflow.getHandle(idleMonitorWorkflowId('cli-stop-ep')).describe()).status.name).toBe('CANCELLED');
    expect(await describeEndpointIfExists(stack.aws.sagemaker, 'cli-stop-ep')).toBeDefined();
  });

  it('list reports the fleet in JSON, counts a keep-alive, and leaves no workflow run behind', async () => {
    await createTestEndpoint(stack.aws, 'cli-list-ep');
    expect((await cli(['endpoints', 'monitor', 'cli-list-ep', '--window', '1h'])).code).toBe(0);
    expect((await cli(['endpoints', 'keep-alive', 'cli-list-ep'])).code).toBe(0);
    const before = await workflowsOn(stack.client, stack.queues.idle);
    const run = await cli(['endpoints', 'list', '--json']);
    expect(run.code).toBe(0);
    const row = (json(run).rows as Array<Record<string, unknown>>).find((candidate) => candidate.endpointName === 'cli-list-ep');
    expect(row).toMatchObject({ monitor: 'running', idleIsLowerBound: false });
    expect(Date.now() - Date.parse(row?.lastInvocationAt as string)).toBeLessThan(60_000);
    expect(await workflowsOn(stack.client, stack.queues.idle)).toEqual(before);
  });

  it('schedule run twice says unchanged; --delete removes it', async () => {
    const first = json(await cli(['endpoints', 'schedule', '--every', '10m', '--paused', '--json']));
    const again = json(await cli(['endpoints', 'schedule', '--every', '10m', '--paused', '--json']));
    expect([first.outcome, again.outcome]).toEqual(['created', 'unchanged']);
    expect(json(await cli(['endpoints', 'schedule', '--delete', '--json']))).toMatchObject({ outcome: 'deleted' });
  });
});
