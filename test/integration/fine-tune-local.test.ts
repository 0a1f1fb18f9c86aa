import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { ActivityFailure, ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { describeLocalJob } from '../../activities/local/local-jobs';
import { isRunning, linuxProcessTable, type ProcessIdentity } from '../../activities/local/process-identity';
import { TOY_BASE_MODEL_ID } from '../../common/fine-tune/contract';
import { ERROR_TYPES } from '../../common/shared/errors';
import { parseS3Uri } from '../../common/shared/naming';
import { scratchJobsDir } from '../helpers/local-jobs';
import { downloadModel, generateFrom, prepareExampleDataset, startFineTune, trainingJobAtStep } from '../helpers/local-training';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';

// Local compute on the real dev server and moto's S3: the fine-tune workflow, unchanged, trains the toy
// base model for real on this machine's CPU through jobs/train, under SageMaker's container contract.
jest.setTimeout(420_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir });
const stack = useStackWorkers({ roles: ['control', 'data'], config: () => config });
let datasetUri: string;

beforeAll(async () => {
  datasetUri = await prepareExampleDataset(stack.client, stack.queues.control);
});

function failureOf(error: unknown): ApplicationFailure {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const activity = (error as WorkflowFailedError).cause;
  expect(activity).toBeInstanceOf(ActivityFailure);
  expect(activity?.cause).toBeInstanceOf(ApplicationFailure);
  return activity?.cause as ApplicationFailure;
}

describe('fine-tune with local compute', () => {
  it('trains the toy on examples/corpus: the held-out loss falls, model.tar.gz in S3 loads and generates, a rerun reuses it', async () => {
    const handle = await startFineTune(stack.client, stack.queues.control, { datasetUri });
    const result = await handle.result();
    expect(result).toMatchObject({
      compute: 'local',
      instanceType: 'local',
      baseModelId: TOY_BASE_MODEL_ID,
      reused: false,
      billableSeconds: null,
    });
    expect(result.baseModelNote).toMatch(/toy/);
    // The twin measurably learned the author: held-out loss below the untrained model's (logged at step 0).
    const untrained = result.firstMetrics?.['eval:loss'] as number;
    const trained = result.finalMetrics['eval:loss'] as number;
    expect(trained).toBeLessThan(untrained * 0.8);
    expect(result.trainingSeconds).toBeGreaterThan(0);
    expect(result.logs).toBe(join(jobsDir, result.jobName, 'log.txt'));

    // Where SageMaker puts them: <output>/<job>/output/model.tar.gz and output.tar.gz.
    expect(result.artifactsUri).toBe(`s3://${config.s3.bucket}/llmtwin/training/${result.jobName}/output/model.tar.gz`);
    const output = parseS3Uri(result.artifactsUri.replace(/model\.tar\.gz$/, 'output.tar.gz'));
    await stack.aws.s3.send(new HeadObjectCommand({ Bucket: output.bucket, Key: output.key }));
    const model = await downloadModel(stack.aws, result.artifactsUri, mkdtempSync(join(tmpdir(), 'llmtwin-model-')));
    expect(readdirSync(model)).toEqual(
      expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'llmtwin-training.json']),
    );
    const generated = await generateFrom(model, 'In your own voice, write an essay titled "Notes on estimating".');
    expect(generated.new_tokens).toBeGreaterThan(0);

    // The container contract the job saw, and the heartbeat counter's last reading.
    const ml = join(jobsDir, result.jobName, 'ml');
    expect(JSON.parse(readFileSync(join(ml, 'input/config/hyperparameters.json'), 'utf8'))).toMatchObject({
      base_model_id: '"llmtwin-toy"',
    });
    expect(readdirSync(join(ml, 'input/data/train'))).toEqual(['train.jsonl']);
    const view = describeLocalJob(jobsDir, result.jobName);
    expect(view?.state.progress?.step).toBe(view?.state.progress?.total);

    const again = await (await startFineTune(stack.client, stack.queues.control, { datasetUri })).result();
    expect(again).toMatchObject({ jobName: result.jobName, reused: true, artifactsUri: result.artifactsUri });
  });

  it('cancel mid-training stops the process within the grace: the job is Stopped and keeps its checkpoint', async () => {
    const handle = await startFineTune(stack.client, stack.queues.control, { datasetUri, hyperparameters: { epochs: 60 } });
    const jobName = await trainingJobAtStep(handle, jobsDir, 3);
    const supervisor = JSON.parse(readFileSync(join(jobsDir, jobName, 'supervisor.json'), 'utf8')) as ProcessIdentity;
    const asked = Date.now();
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

    const view = describeLocalJob(jobsDir, jobName);
    expect(view?.state).toMatchObject({ status: 'Stopped', phase: 'Stopped' });
    const stoppedAt = Date.parse(view?.state.endedAt as string);
    expect(stoppedAt - asked).toBeLessThan(120_000);
    const checkpoints = readdirSync(join(jobsDir, jobName, 'ml', 'checkpoints')).filter((name) => name.startsWith('checkpoint-'));
    expect(checkpoints.length).toBeGreaterThan(0);
    // Its supervisor exits right after recording the end; nothing of the job keeps running.
    for (let waited = 0; isRunning(supervisor, linuxProcessTable) && waited < 5_000; waited += 100) await sleep(100);
    expect(isRunning(supervisor, linuxProcessTable)).toBe(false);
  });

  it('a training script that crashes ends Failed at once, not retried, with the traceback last line in the message', async () => {
    // The dataset has no "prompt" field: jobs/train raises DataError while reading it.
    const handle = await startFineTune(stack.client, stack.queues.control, {
      datasetUri,
      hyperparameters: { datasetFields: { instruction: 'prompt' } },
    });
    const failure = failureOf(await handle.result().catch((e: unknown) => e));
    expect(failure.type).toBe(ERROR_TYPES.jobFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      /failed: AlgorithmError: ExitCode 1: llmtwin_train\.data\.DataError: train\.jsonl:1: field 'prompt' must be a non-empty string/,
    );
    expect(failure.message).toContain(join(jobsDir));
  });
});
