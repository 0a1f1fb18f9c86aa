import { mkdirSync, mkdtempSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListEndpointsCommand, ListModelsCommand, ListProcessingJobsCommand, ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { IDLE_MONITOR_WORKFLOW_TYPE, setPolicySignal, statusQuery } from '../../common/idle/contract';
import { PREPARE_DATA_WORKFLOW_TYPE, type Manifest, type PrepareDataResult } from '../../common/prepare-data/contract';
import { parseS3Uri } from '../../common/shared/naming';
import { FINE_TUNE_WORKFLOW_TYPE } from '../../common/fine-tune/contract';
import { PIPELINE_WORKFLOW_TYPE } from '../../common/pipeline/contract';
import { createEndpointWithModel } from '../../scripts/demos/demo-endpoint';
import { STAND_IN_IMAGE } from '../../scripts/demos/idle';
import { cliEnv, runCli, workflowsOn } from '../helpers/cli';
import { scratchJobsDir } from '../helpers/local-jobs';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// Hostile input at every boundary, as a user or a caller would send it: CLI arguments, config, workflow
// inputs (the Temporal UI's way in), signals and corpus files. Each case must be refused (or, for corpus
// files, skipped) with a message naming the field or file and what to do, and create nothing: no S3
// object, no SageMaker resource, no local job, and for a CLI refusal no workflow. Ends with a table.
jest.setTimeout(300_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir });
const stack = useStackWorkers({ roles: ['control', 'data', 'idle'], config: () => config });
const env = () => cliEnv(stack.config, { LLMTWIN_LOCAL_JOBS_DIR: jobsDir });

const table: Array<{ boundary: string; case: string; passed: boolean; leaked: number }> = [];
afterAll(() => {
  const lines = table.map(
    (row) => `${row.boundary.padEnd(10)} ${row.case.padEnd(58)} ${row.passed ? 'passed' : 'FAILED'}  ${String(row.leaked).padStart(6)}`,
  );
  process.stdout.write(
    [
      `\n${'boundary'.padEnd(10)} ${'case'.padEnd(58)} result  leaked`,
      ...lines,
      `${table.length} cases, ${table.filter((row) => row.passed).length} passed, ${table.reduce((sum, row) => sum + Math.max(0, row.leaked), 0)} resources leaked\n`,
    ].join('\n'),
  );
});

/** What exists that a run could have made: S3 objects, SageMaker resources, local jobs. */
async function resources(): Promise<string[]> {
  const { aws } = stack;
  const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: stack.config.s3.bucket })).catch((error: unknown) => {
    if ((error as Error).name === 'NoSuchBucket') return { Contents: [] }; // nothing has made it yet
    throw error;
  });
  const objects = listed.Contents ?? [];
  return [
    ...objects.map((object) => `s3 ${object.Key}`),
    ...((await aws.sagemaker.send(new ListTrainingJobsCommand({}))).TrainingJobSummaries ?? []).map(
      (job) => `training ${job.TrainingJobName}`,
    ),
    ...((await aws.sagemaker.send(new ListProcessingJobsCommand({}))).ProcessingJobSummaries ?? []).map(
      (job) => `processing ${job.ProcessingJobName}`,
    ),
    ...((await aws.sagemaker.send(new ListEndpointsCommand({}))).Endpoints ?? []).map((endpoint) => `endpoint ${endpoint.EndpointName}`),
    ...((await aws.sagemaker.send(new ListModelsCommand({}))).Models ?? []).map((model) => `model ${model.ModelName}`),
    ...readdirSync(jobsDir).map((name) => `local job ${name}`),
  ].sort();
}

/** Every message along an error's cause chain, joined: a workflow failure's reason is in its causes. */
function messages(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) parts.push(current.message);
  return parts.join(' <- ');
}

/** Runs one case: `act` returns what the caller was told; it must match `says`, and nothing new may exist after it. */
async function hostile(boundary: string, name: string, act: () => Promise<string>, says: RegExp): Promise<void> {
  const before = await resources();
  let passed = false;
  let leaked = -1;
  try {
    const told = await act();
    const after = await resources();
    leaked = after.filter((item) => !before.includes(item)).length;
    expect(told).toMatch(says);
    expect(after.filter((item) => !before.includes(item))).toEqual([]);
    passed = true;
  } finally {
    table.push({ boundary, case: name, passed, leaked });
  }
}

/** A CLI refusal: exit 2, the message on stderr, and no workflow started on the queue. */
async function cliRefuses(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const startedBefore = await workflowsOn(stack.client, stack.queues.control);
  const run = await runCli(args, { ...env(), ...extraEnv });
  expect({ code: run.code, stdout: run.stdout, stderr: run.code === 2 ? '' : run.stderr }).toEqual({ code: 2, stdout: '', stderr: '' });
  expect(await workflowsOn(stack.client, stack.queues.control)).toEqual(startedBefore);
  return run.stderr;
}

/** A workflow started with this input (as from the Temporal UI) fails at once; its failure, as text. */
async function workflowRefuses(type: string, input: unknown): Promise<string> {
  const handle = await stack.client.workflow.start(type, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId('hostile'),
    args: [input],
  });
  const error = await handle.result().then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return messages(error);
}

const scratch = () => mkdtempSync(join(realpathSync(tmpdir()), 'llmtwin-hostile-'));
const dataset = () => `s3://${stack.config.s3.bucket}/llmtwin/datasets/${'a'.repeat(64)}/`;

describe('CLI arguments', () => {
  it.each([
    ['--dataset that is no S3 URI', ['fine-tune', '--dataset', 'not-a-uri'], /datasetUri \(--dataset\): must be an S3 URI/],
    [
      'an unknown instance type, with the nearest',
      ['fine-tune', '--dataset', 'DATASET', '--instance-type', 'ml.g5.2xlarg'],
      /--instance-type: ml\.g5\.2xlarg .*did you mean ml\.g5\.2xlarge/,
    ],
    ['negative epochs', ['fine-tune', '--dataset', 'DATASET', '--epochs', '-3'], /hyperparameters\.epochs \(--epochs\): Too small/],
    [
      'a learning rate that is no number',
      ['fine-tune', '--dataset', 'DATASET', '--learning-rate', 'fast'],
      /--learning-rate: expected a number, got "fast"/,
    ],
    [
      'a twin name with illegal characters',
      ['deploy', '--model', 's3://llmtwin-it/m/model.tar.gz', '--twin', 'wren castellanos!'],
      /twin \(--twin\): must be lower-case letters/,
    ],
    [
      'an endpoint name over 63 characters',
      ['deploy', '--model', 's3://llmtwin-it/m/model.tar.gz', '--endpoint', 'e'.repeat(64)],
      /endpointName \(--endpoint\): must be at most 63 characters/,
    ],
    [
      'an invalid cron',
      ['schedule', 'create', 'weekly', '--cron', '61 * * * *', '--source', 'examples/corpus', '--twin', 'wren'],
      /--cron "61 \* \* \* \*": Minute is not in range/,
    ],
    [
      'a negative idle window',
      ['run', '--source', 'examples/corpus', '--twin', 'wren', '--idle-window', '-5m'],
      /deploy\.monitor\.window \(--idle-window\): must be a positive duration/,
    ],
    [
      'a dedup threshold over 1',
      ['prepare-data', '--source', 'examples/corpus', '--dedup-threshold', '1.5'],
      /dedup\.threshold \(--dedup-threshold\)/,
    ],
    ['an unknown command', ['retrain-everything'], /unknown command/],
  ])('%s', async (name, args, says) => {
    await hostile('cli', name, () => cliRefuses(args.map((arg) => (arg === 'DATASET' ? dataset() : arg))), says);
  });

  it('an --input file with an unknown key, named with the nearest valid one', async () => {
    const file = join(scratch(), 'input.json');
    writeFileSync(file, JSON.stringify({ source: { kind: 'local', path: 'examples/corpus' }, chunk: { maxToken: 64 } }));
    await hostile(
      'cli',
      'an --input file with an unknown key',
      () => cliRefuses(['prepare-data', '--input', file]),
      /chunk\.maxToken: unknown key; did you mean "maxTokens"/,
    );
  });

  it('an --input file that is not JSON', async () => {
    const file = join(scratch(), 'input.json');
    writeFileSync(file, '{ source: examples/corpus ');
    await hostile('cli', 'an --input file that is not JSON', () => cliRefuses(['prepare-data', '--input', file]), /input\.json/);
  });
});

describe('config', () => {
  it('a config file with an unknown key', async () => {
    const file = join(scratch(), 'llmtwin.json');
    writeFileSync(file, JSON.stringify({ s3: { bucket: 'llmtwin-it', prefx: 'x/' } }));
    await hostile(
      'config',
      'a config file with an unknown key',
      () => cliRefuses(['config'], { LLMTWIN_CONFIG: file }),
      /s3\.prefx.*unknown key/,
    );
  });

  it.each([
    [
      'an S3 prefix without its trailing slash',
      { LLMTWIN_S3_PREFIX: 'twins' },
      /s3\.prefix \(env LLMTWIN_S3_PREFIX\): must be empty or path segments ending with "\/"/,
    ],
    ['a bucket name S3 refuses', { LLMTWIN_S3_BUCKET: 'My_Bucket' }, /s3\.bucket/],
    ['a region that is no region', { AWS_REGION: 'mars-north-9x' }, /aws\.region/],
    ['a metrics port out of range', { LLMTWIN_METRICS_PORT: '70000' }, /worker\.metricsPort \(env LLMTWIN_METRICS_PORT\): Too big/],
  ])('%s', async (name, variables, says) => {
    await hostile('config', name, () => cliRefuses(['config'], variables), says);
  });
});

describe('workflow inputs (the Temporal UI)', () => {
  it.each([
    [
      'prepareData: a source path that escapes the allowed roots',
      PREPARE_DATA_WORKFLOW_TYPE,
      { source: { kind: 'local', path: '/etc' } },
      /source\.path/,
    ],
    [
      'prepareData: an S3 source outside the bucket',
      PREPARE_DATA_WORKFLOW_TYPE,
      { source: { kind: 's3', uri: 's3://someone-else/writing/' } },
      /source\.uri .* outside the bucket/,
    ],
    [
      'prepareData: an unknown key',
      PREPARE_DATA_WORKFLOW_TYPE,
      { source: { kind: 'local', path: 'examples/corpus' }, bogus: 1 },
      /bogus: unknown key/,
    ],
    [
      'fineTune: a negative learning rate',
      FINE_TUNE_WORKFLOW_TYPE,
      { datasetUri: 'DATASET', hyperparameters: { learningRate: -1 } },
      /hyperparameters\.learningRate/,
    ],
    ['fineTune: an unknown instance type', FINE_TUNE_WORKFLOW_TYPE, { datasetUri: 'DATASET', instanceType: 'ml.z9.huge' }, /instanceType/],
    [
      'twinPipeline: a twin name of 70 characters',
      PIPELINE_WORKFLOW_TYPE,
      { source: { kind: 'local', path: 'examples/corpus' }, twin: 'w'.repeat(70) },
      /twin/,
    ],
    ['idleMonitor: a window that is no duration', IDLE_MONITOR_WORKFLOW_TYPE, { endpointName: 'x', policy: { window: 'soon' } }, /window/],
  ])('%s', async (name, type, input, says) => {
    const given = JSON.parse(JSON.stringify(input).replace('"DATASET"', JSON.stringify(dataset()))) as unknown;
    await hostile('workflow', name, () => workflowRefuses(type, given), says);
  });
});

describe('signals', () => {
  it('setPolicy with an invalid patch is refused, shown in status, and the monitor keeps running on its old policy', async () => {
    const endpointName = uniqueId('hostile-ep');
    await createEndpointWithModel(stack.aws.sagemaker, {
      endpointName,
      modelName: `${endpointName}-model`,
      configName: `${endpointName}-config`,
      image: STAND_IN_IMAGE,
      executionRoleArn: 'arn:aws:iam::123456789012:role/llmtwin-test',
      instanceType: 'ml.g4dn.xlarge',
    });
    const handle: WorkflowHandle = await stack.client.workflow.start(IDLE_MONITOR_WORKFLOW_TYPE, {
      taskQueue: stack.queues.idle,
      workflowId: uniqueId('hostile-monitor'),
      args: [{ endpointName, policy: { window: '1h', grace: '1h', checkInterval: '1h' } }],
    });
    try {
      await hostile(
        'signal',
        'setPolicy with an unknown key and a bad duration',
        async () => {
          await handle.signal(setPolicySignal, { windw: '5m', grace: 'later' } as never);
          for (let tries = 0; tries < 50; tries += 1) {
            const status = await handle.query(statusQuery);
            if (status.rejectedPolicy) {
              expect((await handle.describe()).status.name).toBe('RUNNING');
              return status.rejectedPolicy;
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          return 'never refused';
        },
        /windw.*unknown key|grace/,
      );
    } finally {
      await handle.terminate('test over');
    }
  });
});

describe('corpus files', () => {
  let result: PrepareDataResult;
  let manifest: Manifest;
  const skipped = (file: string) =>
    manifest.skippedFiles.find((item) => item.source.includes(file))?.reason ??
    `not skipped (skipped: ${JSON.stringify([...manifest.skippedFiles, ...manifest.skippedRecords].slice(-3))}, ${JSON.stringify(manifest.counts)})`;

  beforeAll(async () => {
    const root = scratch();
    const corpus = join(root, 'corpus');
    mkdirSync(corpus);
    for (let index = 0; index < 4; index += 1) {
      writeFileSync(
        join(corpus, `post-${index}.md`),
        `# Post ${index}\n\n${['Estimates are promises.', 'Queues hide work.', 'Retries need names.', 'Idle GPUs burn money.'][index]} ${`Word ${index * 7} of a distinct essay, line after line. `.repeat(20)}\n`,
      );
    }
    writeFileSync(join(corpus, 'photo.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    writeFileSync(join(corpus, 'nul.txt'), Buffer.concat([Buffer.from('text then '), Buffer.alloc(64), Buffer.from(' more')]));
    // A Buffer path: a string would be written as UTF-8, which is valid by construction.
    writeFileSync(Buffer.concat([Buffer.from(`${corpus}/not`), Buffer.from([0xff, 0xfe]), Buffer.from('.md')]), 'unreadable name');
    writeFileSync(join(root, 'secret.md'), 'outside the corpus: must not be read');
    symlinkSync(join(root, 'secret.md'), join(corpus, 'escape.md'));
    writeFileSync(join(corpus, 'huge.json'), `[${'"x",'.repeat(9 * 1024 * 1024)}"x"]`);
    writeFileSync(join(corpus, 'archive.zip'), 'PK');
    writeFileSync(join(corpus, '.env'), 'TOKEN=hidden');
    result = await stack.client.workflow.execute<(input: unknown) => Promise<PrepareDataResult>>(PREPARE_DATA_WORKFLOW_TYPE, {
      taskQueue: stack.queues.control,
      workflowId: uniqueId('hostile-corpus'),
      args: [{ source: { kind: 'local', path: corpus } }],
    });
    const { bucket, key } = parseS3Uri(result.manifestUri);
    const body = await (await stack.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
    manifest = JSON.parse(body ?? '{}') as Manifest;
  });

  it.each([
    ['a PNG named .md', 'photo.md', /binary file/],
    ['a text file with NUL bytes', 'nul.txt', /binary file \(contains NUL bytes\)/],
    ['a file name that is not UTF-8', 'not', /not valid UTF-8: rename it/],
    ['a symbolic link out of the corpus', 'escape.md', /symbolic link, not followed/],
    ['a 36 MB JSON file', 'huge.json', /JSON file over 32 MiB: export it as JSONL/],
    ['an unsupported file type', 'archive.zip', /unsupported file type ".zip"/],
    ['a hidden file', '.env', /hidden file, not read/],
  ])('%s is skipped, named with its reason, and the rest is built', async (name, file, says) => {
    // The build's own outputs are expected; what is checked is that this file's content went nowhere.
    await hostile('corpus', name, () => Promise.resolve(skipped(file)), says);
    expect(result.counts.trainRecords).toBeGreaterThan(0);
  });
});
