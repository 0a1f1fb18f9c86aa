import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describeAsSageMaker, localTrainingCompute, localTrainingSpec } from '../../../activities/fine-tune/local-training';
import { scratchJobsDir } from '../../helpers/local-jobs';
import { planFineTune } from '../../../activities/fine-tune/plan';
import { buildCreateTrainingJobRequest } from '../../../activities/fine-tune/training-request';
import { jobFolder, type LocalJobState } from '../../../activities/local/job-folder';
import { effectiveComputeBackend, resolveConfig } from '../../../common/config';
import { FineTuneInputSchema, TOY_BASE_MODEL_ID, TOY_HYPERPARAMETERS, type FineTuneInput } from '../../../common/fine-tune/contract';
import { PROJECT_ROOT } from '../../../platform/paths';
import { DATASET_URI, datasetS3, samplePlan } from '../../helpers/fake-training-jobs';

// Local compute's pure parts: which backend, what a plan trains there, and how a CreateTrainingJob
// request becomes SageMaker's container contract in a job folder (and a job's state becomes a Describe).

const local = resolveConfig({ LLMTWIN_S3_BUCKET: 'llmtwin-test' });

function plan(input: FineTuneInput, options: { gpus?: number; backend?: 'local' | 'sagemaker'; config?: typeof local } = {}) {
  const settings = FineTuneInputSchema.parse(input);
  return planFineTune(
    { s3: datasetS3().client, config: options.config ?? local, backend: options.backend ?? 'local', gpuCount: () => options.gpus ?? 0 },
    settings,
    'wf-1',
    input.hyperparameters ?? {},
  );
}

describe('the compute backend', () => {
  it('follows aws.target unless chosen: local on the embedded stack, SageMaker against AWS, either explicitly', () => {
    const role = { LLMTWIN_SAGEMAKER_ROLE_ARN: 'arn:aws:iam::111122223333:role/sm' };
    expect(effectiveComputeBackend(local)).toBe('local');
    expect(effectiveComputeBackend(resolveConfig({ LLMTWIN_AWS_TARGET: 'aws', ...role }))).toBe('sagemaker');
    expect(effectiveComputeBackend(resolveConfig({ LLMTWIN_AWS_TARGET: 'aws', LLMTWIN_COMPUTE_BACKEND: 'local', ...role }))).toBe('local');
    expect(effectiveComputeBackend(resolveConfig({ LLMTWIN_COMPUTE_BACKEND: 'sagemaker' }))).toBe('sagemaker');
    expect(() => resolveConfig({ LLMTWIN_COMPUTE_BACKEND: 'docker' })).toThrow(/compute\.backend \(env LLMTWIN_COMPUTE_BACKEND\)/);
  });
});

describe('planFineTune on local compute', () => {
  it('without a GPU trains the toy with its recipe, on instance type "local", and says it is a toy', async () => {
    const resolved = await plan({ datasetUri: DATASET_URI, instanceType: 'ml.g5.2xlarge' });
    expect(resolved).toMatchObject({
      compute: 'local',
      baseModelId: TOY_BASE_MODEL_ID,
      instanceTypes: ['local'],
      spot: { enabled: false },
    });
    expect(resolved.baseModelNote).toMatch(/^llmtwin-toy is a toy/);
    expect(resolved.hyperparameters).toMatchObject({
      epochs: TOY_HYPERPARAMETERS.epochs,
      learningRate: TOY_HYPERPARAMETERS.learningRate,
      gradientAccumulationSteps: 1,
      lora: { r: 16, targetModules: [...TOY_HYPERPARAMETERS.lora.targetModules] },
    });
  });

  it('keeps every hyperparameter the input gave; only the rest take the toy recipe', async () => {
    const resolved = await plan({ datasetUri: DATASET_URI, hyperparameters: { epochs: 2, lora: { r: 4 } } });
    expect(resolved.hyperparameters).toMatchObject({ epochs: 2, learningRate: 3e-3, lora: { r: 4 } });
    expect(resolved.hyperparameters.lora.targetModules).toContain('lm_head');
  });

  it('with a GPU trains the configured base model with the standard recipe, on "local_gpu"', async () => {
    const resolved = await plan({ datasetUri: DATASET_URI }, { gpus: 1 });
    expect(resolved).toMatchObject({ baseModelId: 'Qwen/Qwen2.5-1.5B-Instruct', instanceTypes: ['local_gpu'] });
    expect(resolved.baseModelNote).toBeUndefined();
    expect(resolved.hyperparameters).toMatchObject({ epochs: 3, learningRate: 2e-4, lora: { targetModules: 'all-linear' } });
  });

  it('takes a model folder on this machine (made absolute) locally, and refuses one on SageMaker', async () => {
    expect((await plan({ datasetUri: DATASET_URI, baseModelId: './examples' })).baseModelId).toBe(join(PROJECT_ROOT, 'examples'));
    const missing = await plan({ datasetUri: DATASET_URI, baseModelId: './models/nope' }).catch((e: unknown) => e);
    expect((missing as ApplicationFailure).message).toMatch(/baseModelId: .*\/models\/nope does not exist on this machine/);
    const error = await plan({ datasetUri: DATASET_URI, baseModelId: '/srv/models/base' }, { backend: 'sagemaker' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).message).toMatch(
      /baseModelId: \/srv\/models\/base is a path on this machine.*compute\.backend local/,
    );
  });
});

describe('the training container contract, locally', () => {
  const options = {
    jobsDir: '/jobs',
    python: '/venv/bin/python',
    cacheDir: '/cache',
    stopGraceSeconds: 120,
    aws: { target: 'local' as const, region: 'us-east-1', maxAttempts: 3 },
    region: 'us-east-1',
  };
  const request = {
    ...buildCreateTrainingJobRequest(samplePlan(), 'local', 'llmtwin-train-x', 'us-east-1'),
    Environment: { HF_TOKEN: 'hf_secret' },
  };

  it('lays out /opt/ml under the job folder with the SM_* variables the training toolkit sets', () => {
    const spec = localTrainingSpec(request, options);
    const ml = '/jobs/llmtwin-train-x/ml';
    expect(spec.program).toMatchObject({ command: '/venv/bin/python', args: ['train.py'], cwd: 'code', secretEnv: ['HF_TOKEN'] });
    expect(spec.program.env).toMatchObject({
      SM_CHANNEL_TRAIN: `${ml}/input/data/train`,
      SM_CHANNEL_TEST: `${ml}/input/data/test`,
      SM_CHANNELS: '["train","test"]',
      SM_MODEL_DIR: `${ml}/model`,
      SM_OUTPUT_DATA_DIR: `${ml}/output/data`,
      SM_CURRENT_HOST: 'algo-1',
      SM_USER_ENTRY_POINT: 'train.py',
      LLMTWIN_CHECKPOINT_DIR: `${ml}/checkpoints`,
      LLMTWIN_CACHE_DIR: '/cache',
    });
    // SM_HPS holds the decoded values, without the toolkit's own sagemaker_* entries.
    const hps = JSON.parse(spec.program.env.SM_HPS as string) as Record<string, unknown>;
    expect(hps).toMatchObject({ base_model_id: 'Qwen/Qwen2.5-1.5B-Instruct', epochs: 3, load_in_4bit: true });
    expect(Object.keys(hps).some((key) => key.startsWith('sagemaker_'))).toBe(false);
    // hyperparameters.json holds them as sent: JSON-encoded strings, as SageMaker writes the file.
    const file = spec.files.find((entry) => entry.path === 'input/config/hyperparameters.json');
    expect(JSON.parse(file?.content as string)).toEqual(request.HyperParameters);
    expect(spec.inputs).toEqual([
      { s3Uri: 's3://b/llmtwin/datasets/fff/train.jsonl', dir: 'input/data/train', unpack: false, optional: false },
      { s3Uri: 's3://b/llmtwin/datasets/fff/test.jsonl', dir: 'input/data/test', unpack: false, optional: false },
      { s3Uri: 's3://b/llmtwin/code/train/abc/sourcedir.tar.gz', dir: 'code', unpack: true, optional: false },
    ]);
    expect(spec.outputs.map((output) => [output.dir, output.s3Uri])).toEqual([
      ['model', 's3://b/llmtwin/training/llmtwin-train-x/output/model.tar.gz'],
      ['output/data', 's3://b/llmtwin/training/llmtwin-train-x/output/output.tar.gz'],
    ]);
    expect(JSON.stringify(spec)).not.toContain('hf_secret');
  });

  it('restores checkpoints from CheckpointConfig before the program starts, and encrypts uploads with the output KMS key', () => {
    const withBoth = {
      ...request,
      CheckpointConfig: { S3Uri: 's3://b/ckpt/llmtwin-train-x/', LocalPath: '/opt/ml/checkpoints' },
      OutputDataConfig: { S3OutputPath: 's3://b/llmtwin/training/', KmsKeyId: 'alias/llmtwin' },
    };
    const spec = localTrainingSpec(withBoth, options);
    expect(spec.inputs).toContainEqual({ s3Uri: 's3://b/ckpt/llmtwin-train-x/', dir: 'checkpoints', unpack: false, optional: true });
    expect(spec.outputs.map((output) => [output.dir, output.kmsKeyId])).toEqual([
      ['model', 'alias/llmtwin'],
      ['output/data', 'alias/llmtwin'],
      ['checkpoints', 'alias/llmtwin'],
    ]);
  });

  it("answers DescribeTrainingJob's shape from the job's state", () => {
    const spec = localTrainingSpec(request, options);
    const state: LocalJobState = {
      status: 'Completed',
      phase: 'Completed',
      transitions: [
        { phase: 'Training', startTime: '2026-12-02T10:00:00.000Z', endTime: '2026-12-02T10:01:00.000Z', message: 'Training in progress' },
      ],
      startedAt: '2026-12-02T09:59:58.000Z',
      programStartedAt: '2026-12-02T10:00:00.000Z',
      programEndedAt: '2026-12-02T10:00:45.000Z',
      metrics: { 'eval:loss': 2.7 },
      firstMetrics: { 'eval:loss': 5.6 },
      progress: { step: 50, total: 50 },
      uploaded: { model: 's3://b/llmtwin/training/llmtwin-train-x/output/model.tar.gz' },
    };
    const described = describeAsSageMaker('llmtwin-train-x', { spec, state, logPath: '/jobs/llmtwin-train-x/log.txt' }, 'us-east-1');
    expect(described).toMatchObject({
      TrainingJobStatus: 'Completed',
      SecondaryStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: 's3://b/llmtwin/training/llmtwin-train-x/output/model.tar.gz' },
      TrainingTimeInSeconds: 45,
      FirstMetrics: { 'eval:loss': 5.6 },
      Progress: { step: 50, total: 50 },
      HyperParameters: request.HyperParameters,
    });
    expect(described.BillableTimeInSeconds).toBeUndefined();
    expect(described.FinalMetricDataList?.map((metric) => [metric.MetricName, metric.Value])).toEqual([['eval:loss', 2.7]]);
    expect(described.SecondaryStatusTransitions?.[0]).toMatchObject({ Status: 'Training', StatusMessage: 'Training in progress' });
  });
});

describe('a local job this worker cannot read', () => {
  it('fails the describe for good (a wait would otherwise poll it for 30 days), naming the job and the field', async () => {
    const jobsDir = scratchJobsDir();
    const folder = jobFolder(jobsDir, 'future');
    mkdirSync(folder.root);
    writeFileSync(folder.supervisor, JSON.stringify({ pid: 1, startTicks: 1, bootId: 'b' }));
    // As a supervisor of a newer version might write it: a field this version does not know.
    writeFileSync(
      folder.state,
      JSON.stringify({
        status: 'InProgress',
        phase: 'Training',
        transitions: [],
        startedAt: 'x',
        metrics: {},
        firstMetrics: {},
        uploaded: {},
        gpuHours: 1,
      }),
    );
    const compute = localTrainingCompute({
      jobsDir,
      python: 'python3',
      cacheDir: '/c',
      stopGraceSeconds: 1,
      aws: { target: 'local', region: 'us-east-1', maxAttempts: 1 },
      region: 'us-east-1',
    });
    const error = await compute.describe('future').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ nonRetryable: true, type: 'ValidationError' });
    expect((error as Error).message).toMatch(/cannot read local job future in .*gpuHours/);
  });
});
