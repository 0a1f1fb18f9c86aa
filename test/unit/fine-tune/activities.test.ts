import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { testLogger } from '../../helpers/test-logger';
import { mockClient } from 'aws-sdk-client-mock';
import { createFineTuneActivities } from '../../../activities/fine-tune';
import { sageMakerHyperparameters } from '../../../activities/fine-tune/training-request';
import { resolveConfig } from '../../../common/config';
import { FineTuneInputSchema, trainingJobName, type TrainingPlan } from '../../../common/fine-tune/contract';
import metricsContract from '../../../common/fine-tune/metrics.json';
import {
  DATASET_HASH,
  DATASET_URI,
  STEPS,
  ScriptedSageMaker,
  datasetS3,
  manifestFor,
  quotaError,
  samplePlan,
} from '../../helpers/fake-training-jobs';

const config = resolveConfig({
  LLMTWIN_COMPUTE_BACKEND: 'sagemaker',
  LLMTWIN_S3_BUCKET: 'llmtwin-test',
  LLMTWIN_POLL_INITIAL_INTERVAL: '5ms',
  LLMTWIN_POLL_MAX_INTERVAL: '10ms',
});
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:llmtwin/hf-AbCdEf';
const TOKEN = 'hf_thisIsTheSecretToken';

function setup(env: NodeJS.ProcessEnv = {}) {
  const sagemaker = new ScriptedSageMaker();
  const secretsManager = new SecretsManagerClient({ region: 'us-east-1' });
  const secrets = mockClient(secretsManager);
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify({ HF_TOKEN: TOKEN }) });
  const s3 = datasetS3();
  const activities = createFineTuneActivities({ sagemaker: sagemaker.client, s3: s3.client, secretsManager, config, env });
  /** Runs an activity in a mock activity context (it reads Context.current()). */
  const run = <R>(call: () => Promise<R>) =>
    new MockActivityEnvironment(undefined, { logger: testLogger }).run<[], R, () => Promise<R>>(call);
  return { sagemaker, secrets, s3, activities, run };
}

function lastCreate(sagemaker: ScriptedSageMaker): CreateTrainingJobCommandInput {
  const job = [...sagemaker.jobs.values()].at(-1);
  if (!job) throw new Error('no CreateTrainingJob was sent');
  return job.request;
}

describe('createTrainingJob', () => {
  it('sends exactly the CreateTrainingJob SageMaker needs: channels, hyperparameters, spot, checkpoints, metrics, tags, VPC, KMS', async () => {
    const { sagemaker, activities, run } = setup();
    const plan = samplePlan({
      spot: { enabled: true, maxWaitSeconds: 86_400 },
      vpc: { securityGroupIds: ['sg-0123abcd'], subnets: ['subnet-0aa', 'subnet-0bb'] },
      kms: {
        volumeKeyId: 'alias/llmtwin-volume',
        outputKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      tags: { team: 'ml' },
      huggingFaceToken: { secretArn: SECRET_ARN },
    });
    const jobName = trainingJobName(plan, 'ml.g5.2xlarge');
    const started = await run(() => activities.createTrainingJob({ plan, candidate: { jobName, instanceType: 'ml.g5.2xlarge' } }));

    expect(started).toEqual({ jobName, instanceType: 'ml.g5.2xlarge', outcome: 'created', status: 'InProgress' });
    const request = lastCreate(sagemaker);
    expect(request).toEqual({
      TrainingJobName: jobName,
      RoleArn: 'arn:aws:iam::123456789012:role/llmtwin',
      AlgorithmSpecification: {
        TrainingImage:
          '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.8.0-transformers4.56.2-gpu-py312-cu129-ubuntu22.04',
        TrainingInputMode: 'File',
        MetricDefinitions: metricsContract.metricDefinitions,
        EnableSageMakerMetricsTimeSeries: true,
      },
      HyperParameters: {
        base_model_id: '"Qwen/Qwen2.5-1.5B-Instruct"',
        lora_r: '16',
        lora_alpha: '32',
        lora_dropout: '0.05',
        lora_target_modules: '"all-linear"',
        epochs: '3',
        learning_rate: '0.0002',
        per_device_batch_size: '4',
        gradient_accumulation_steps: '4',
        max_seq_length: '2048',
        load_in_4bit: 'true',
        export: '"merged"',
        save_steps: '50',
        seed: '42',
        system_prompt: '""',
        instruction_field: '"instruction"',
        output_field: '"output"',
        input_field: '"input"',
        sagemaker_program: '"train.py"',
        sagemaker_submit_directory: '"s3://b/llmtwin/code/train/abc/sourcedir.tar.gz"',
        sagemaker_region: '"us-east-1"',
        sagemaker_container_log_level: '20',
      },
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: 's3://b/llmtwin/datasets/fff/train.jsonl',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
          ContentType: 'application/jsonl',
          InputMode: 'File',
        },
        {
          ChannelName: 'test',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: 's3://b/llmtwin/datasets/fff/test.jsonl',
              S3DataDistributionType: 'FullyReplicated',
            },
          },
          ContentType: 'application/jsonl',
          InputMode: 'File',
        },
      ],
      OutputDataConfig: {
        S3OutputPath: 's3://b/llmtwin/training/',
        KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 100, VolumeKmsKeyId: 'alias/llmtwin-volume' },
      StoppingCondition: { MaxRuntimeInSeconds: 43_200, MaxWaitTimeInSeconds: 86_400 },
      EnableManagedSpotTraining: true,
      CheckpointConfig: { S3Uri: `s3://b/llmtwin/checkpoints/${jobName}/`, LocalPath: '/opt/ml/checkpoints' },
      VpcConfig: { SecurityGroupIds: ['sg-0123abcd'], Subnets: ['subnet-0aa', 'subnet-0bb'] },
      Environment: { HF_TOKEN: TOKEN },
      Tags: [
        { Key: 'llmtwin:managed', Value: 'true' },
        { Key: 'llmtwin:run-id', Value: 'wf-1' },
        { Key: 'llmtwin:dataset-hash', Value: 'f'.repeat(64) },
        { Key: 'llmtwin:stage', Value: 'train' },
        { Key: 'team', Value: 'ml' },
      ],
    });
  });

  it('on demand: no spot wait, no checkpoint sync, no environment when no token is configured', async () => {
    const { sagemaker, activities, run } = setup();
    const plan = samplePlan();
    await run(() =>
      activities.createTrainingJob({ plan, candidate: { jobName: trainingJobName(plan, 'ml.g5.2xlarge'), instanceType: 'ml.g5.2xlarge' } }),
    );
    const request = lastCreate(sagemaker);
    expect(request.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 43_200 });
    expect(request.EnableManagedSpotTraining).toBe(false);
    expect(request).not.toHaveProperty('CheckpointConfig');
    expect(request).not.toHaveProperty('Environment');
    expect(request).not.toHaveProperty('VpcConfig');
  });

  it('reads the token from the worker environment when asked, and fails without leaking when it is missing', async () => {
    const withEnv = setup({ MY_HF: TOKEN });
    const plan = samplePlan({ huggingFaceToken: { workerEnv: 'MY_HF' } });
    await withEnv.run(() =>
      withEnv.activities.createTrainingJob({
        plan,
        candidate: { jobName: trainingJobName(plan, 'ml.g5.2xlarge'), instanceType: 'ml.g5.2xlarge' },
      }),
    );
    expect(lastCreate(withEnv.sagemaker).Environment).toEqual({ HF_TOKEN: TOKEN });

    const without = setup({});
    const error = await without
      .run(() =>
        without.activities.createTrainingJob({
          plan,
          candidate: { jobName: trainingJobName(plan, 'ml.g5.2xlarge'), instanceType: 'ml.g5.2xlarge' },
        }),
      )
      .catch((e: unknown) => e);
    expectFailure(error, 'ValidationError', /MY_HF is not set in the worker's environment/);
    expect(without.sagemaker.count('CreateTrainingJob')).toBe(0);
  });

  it("adopts a job another run created between this one's describe and create (ResourceInUse)", async () => {
    const { sagemaker, activities, run } = setup();
    const plan = samplePlan();
    const candidate = { jobName: trainingJobName(plan, 'ml.g5.2xlarge'), instanceType: 'ml.g5.2xlarge' };
    await run(() => activities.createTrainingJob({ plan: { ...plan, runId: 'another-run' }, candidate }));
    sagemaker.missNextDescribes = 1; // this attempt describes before the other run's job is visible

    const started = await run(() => activities.createTrainingJob({ plan, candidate }));
    expect(started.outcome).toBe('adopted');
    expect(sagemaker.count('CreateTrainingJob')).toBe(2); // the second answered ResourceInUse
    expect(sagemaker.jobs.size).toBe(1);
  });

  it('a job this run created before its answer was lost is created, not reused, even when it completed meanwhile', async () => {
    const { sagemaker, activities, run } = setup();
    sagemaker.scriptFor = () => [STEPS.completed];
    sagemaker.loseNextCreateResponse = true;
    const plan = samplePlan();
    const candidate = { jobName: trainingJobName(plan, 'ml.g5.2xlarge'), instanceType: 'ml.g5.2xlarge' };
    await expect(run(() => activities.createTrainingJob({ plan, candidate }))).rejects.toThrow(/socket hang up|ECONNRESET/);

    const retried = await run(() => activities.createTrainingJob({ plan, candidate }));
    expect(retried).toMatchObject({ outcome: 'created', status: 'Completed' });
    expect(sagemaker.count('CreateTrainingJob')).toBe(1);
  });

  it('refuses to adopt a job under our name that differs from ours (ResourceConflict)', async () => {
    const { activities, run } = setup();
    const plan = samplePlan();
    const candidate = { jobName: trainingJobName(plan, 'ml.g5.2xlarge'), instanceType: 'ml.g5.2xlarge' };
    await run(() => activities.createTrainingJob({ plan, candidate }));
    const other: TrainingPlan = { ...plan, imageUri: 'someone-else/image:1' };
    const error = await run(() => activities.createTrainingJob({ plan: other, candidate })).catch((e: unknown) => e);
    expectFailure(error, 'ResourceConflict', 'AlgorithmSpecification.TrainingImage');
  });

  it('turns ResourceLimitExceeded into a non-retryable QuotaExceeded (the workflow then tries the next type)', async () => {
    const { sagemaker, activities, run } = setup();
    sagemaker.createErrors.set('ml.g5.2xlarge', quotaError('ml.g5.2xlarge'));
    const plan = samplePlan({ huggingFaceToken: { secretArn: SECRET_ARN } });
    const error = await run(() =>
      activities.createTrainingJob({ plan, candidate: { jobName: trainingJobName(plan, 'ml.g5.2xlarge'), instanceType: 'ml.g5.2xlarge' } }),
    ).catch((e: unknown) => e);
    expectFailure(error, 'QuotaExceeded', /^CreateTrainingJob \(training job .* on ml\.g5\.2xlarge\) failed: ResourceLimitExceeded/);
    // The token was resolved for this call; it must not travel with the failure into history.
    expect(
      JSON.stringify({
        message: (error as Error).message,
        details: (error as ApplicationFailure).details,
        cause: String((error as Error).cause),
      }),
    ).not.toContain(TOKEN);
  });
});

describe('planFineTune', () => {
  it('resolves the manifest, config defaults, image and staged code', async () => {
    const { activities, run, s3 } = setup();
    const plan = await run(() => activities.planFineTune({ settings: parse({ datasetUri: DATASET_URI }), runId: 'wf-7' }));
    expect(plan).toMatchObject({
      datasetHash: DATASET_HASH,
      trainUri: `${DATASET_URI}train.jsonl`,
      testUri: `${DATASET_URI}test.jsonl`,
      trainRecords: 120,
      baseModelId: 'Qwen/Qwen2.5-1.5B-Instruct',
      instanceTypes: ['ml.g5.2xlarge', 'ml.g5.4xlarge', 'ml.g6.2xlarge', 'ml.p3.2xlarge'],
      maxRuntimeSeconds: 12 * 3600,
      spot: { enabled: false, maxWaitSeconds: 24 * 3600 },
      outputUri: 's3://llmtwin-test/llmtwin/training/',
      runId: 'wf-7',
    });
    expect(plan.codeUri).toBe(s3.puts[0]);
    // Staged once: a second plan finds the same content hash and uploads nothing.
    await run(() => activities.planFineTune({ settings: parse({ datasetUri: DATASET_URI }), runId: 'wf-8' }));
    expect(s3.puts).toHaveLength(1);
  });

  it.each([
    [
      { datasetUri: 's3://llmtwin-test/nothing/' },
      'NotFound',
      /GetObject \(dataset manifest s3:\/\/llmtwin-test\/nothing\/manifest\.json \(run prepare-data first/,
    ],
    [
      { datasetUri: DATASET_URI, spot: { enabled: true, maxWait: '1h' } },
      'ValidationError',
      /spot\.maxWait \(3600s\) must be at least maxRuntime \(43200s\)/,
    ],
    [
      { datasetUri: DATASET_URI, image: { transformersVersion: '4.0.0', pytorchVersion: '1.0.0' } },
      'ValidationError',
      /image: no known Hugging Face training image/,
    ],
  ])('%j fails with %s', async (settings, type, message) => {
    const { activities, run } = setup();
    const error = await run(() => activities.planFineTune({ settings: parse(settings), runId: 'wf' })).catch((e: unknown) => e);
    expectFailure(error, type, message);
  });

  it("rejects a manifest that is not prepare-data's, naming the field", async () => {
    const s3 = datasetS3({ [`${DATASET_URI}manifest.json`]: { ...manifestFor(), datasetHash: 'short' } });
    const activities = createFineTuneActivities({
      sagemaker: new ScriptedSageMaker().client,
      s3: s3.client,
      secretsManager: new SecretsManagerClient({}),
      config,
      env: {},
    });
    const error = await new MockActivityEnvironment(undefined, { logger: testLogger })
      .run(() => activities.planFineTune({ settings: parse({ datasetUri: DATASET_URI }), runId: 'wf' }))
      .catch((e: unknown) => e);
    expectFailure(error, 'ValidationError', /invalid dataset manifest s3:\/\/.*manifest\.json: datasetHash: /);
  });
});

describe('the hyperparameter contract with jobs/train', () => {
  it('sends exactly the names the Python entry point accepts', () => {
    const settings = readFileSync(join(__dirname, '..', '..', '..', 'jobs', 'train', 'llmtwin_train', 'settings.py'), 'utf8');
    const dataclass = settings.slice(settings.indexOf('class Hyperparameters:'), settings.indexOf('def target_modules'));
    const pythonNames = [...dataclass.matchAll(/^ {4}([a-z_0-9]+): /gm)].map((match) => match[1] ?? '').sort();
    const sent = Object.keys(sageMakerHyperparameters(samplePlan(), 'us-east-1')).filter((name) => !name.startsWith('sagemaker_'));
    // Every name we send exists there (the job rejects unknown ones); the rest keep their Python defaults.
    expect(sent.filter((name) => !pythonNames.includes(name))).toEqual([]);
    expect(pythonNames.filter((name) => !sent.includes(name)).sort()).toEqual([
      'gradient_checkpointing',
      'logging_steps',
      'max_steps',
      'warmup_ratio',
    ]);
  });
});

function expectFailure(error: unknown, type: string, message: RegExp | string): void {
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure.type).toBe(type);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toMatch(message);
}

/** The workflow validates with FineTuneInputSchema before planning; so do these tests. */
function parse(value: object) {
  return FineTuneInputSchema.parse(value);
}
