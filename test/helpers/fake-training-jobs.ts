import {
  AddTagsCommand,
  CreateTrainingJobCommand,
  DeleteTagsCommand,
  ListTagsCommand,
  DescribeTrainingJobCommand,
  ResourceInUse,
  ResourceLimitExceeded,
  SageMakerClient,
  SageMakerServiceException,
  StopTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { HyperparametersSchema, type TrainingPlan } from '../../common/fine-tune/contract';
import { trainingImageUri } from '../../common/fine-tune/images';
import { resolveConfig } from '../../common/config';

/**
 * SageMaker's training-job API as it really behaves (statuses, secondary statuses and their messages,
 * error names and messages), scripted per test, behind aws-sdk-client-mock. It covers exactly what moto
 * cannot: jobs that take time, StopTrainingJob, duplicate names refused, throttling, capacity.
 */

/** Config for the real activities over scripted SageMaker: the SageMaker backend, polling in milliseconds (the logic unchanged). */
export const SCRIPTED_AWS_CONFIG = resolveConfig({
  LLMTWIN_COMPUTE_BACKEND: 'sagemaker',
  LLMTWIN_S3_BUCKET: 'llmtwin-test',
  LLMTWIN_POLL_INITIAL_INTERVAL: '5ms',
  LLMTWIN_POLL_MAX_INTERVAL: '20ms',
  LLMTWIN_METRICS_PORT: '0',
});

export type Step = Pick<DescribeTrainingJobCommandOutput, 'TrainingJobStatus' | 'SecondaryStatus' | 'FailureReason'> & { message: string };

export const STEPS = {
  starting: { TrainingJobStatus: 'InProgress', SecondaryStatus: 'Starting', message: 'Launching requested ML instances' },
  downloading: { TrainingJobStatus: 'InProgress', SecondaryStatus: 'Downloading', message: 'Downloading input data' },
  training: {
    TrainingJobStatus: 'InProgress',
    SecondaryStatus: 'Training',
    message: 'Training image download completed. Training in progress.',
  },
  uploading: { TrainingJobStatus: 'InProgress', SecondaryStatus: 'Uploading', message: 'Uploading generated training model' },
  completed: { TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed', message: 'Training job completed' },
  stopping: { TrainingJobStatus: 'Stopping', SecondaryStatus: 'Stopping', message: 'Stopping the training job' },
  stopped: { TrainingJobStatus: 'Stopped', SecondaryStatus: 'Stopped', message: 'Training job stopped' },
  oom: {
    TrainingJobStatus: 'Failed',
    SecondaryStatus: 'Failed',
    message: 'Training job failed',
    FailureReason:
      'AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"\nCommand "/opt/conda/bin/python3.12 train.py", exit code: 1',
  },
  noCapacity: {
    TrainingJobStatus: 'Failed',
    SecondaryStatus: 'Failed',
    message: 'Training job failed',
    FailureReason: 'CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.',
  },
} satisfies Record<string, Step>;

export const HAPPY_PATH: Step[] = [STEPS.starting, STEPS.downloading, STEPS.training, STEPS.training, STEPS.uploading, STEPS.completed];

interface FakeJob {
  request: CreateTrainingJobCommandInput;
  script: Step[];
  index: number;
  creationTime: Date;
  stopRequestedAt?: number;
  tags: Map<string, string>;
  transitions: Array<{ Status: string; StatusMessage: string; StartTime: Date }>;
}

export function sdkError(name: string, message: string, status = 400): Error {
  return new SageMakerServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
}

export class ScriptedSageMaker {
  readonly client = new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  readonly jobs = new Map<string, FakeJob>();
  readonly calls: Array<{ command: string; name: string }> = [];
  /** Status sequence for a new job; each DescribeTrainingJob advances one step and stays on the last. */
  scriptFor: (request: CreateTrainingJobCommandInput) => Step[] = () => HAPPY_PATH;
  /** CreateTrainingJob errors per instance type (quota). */
  readonly createErrors = new Map<string, Error>();
  /** The next CreateTrainingJob creates the job, then its response is lost (connection reset). */
  loseNextCreateResponse = false;
  /** The next N DescribeTrainingJob calls answer "not found" although the job exists (a racing attempt). */
  missNextDescribes = 0;
  /** The next N DescribeTrainingJob calls answer ThrottlingException. */
  throttleNextDescribes = 0;
  /** Called on each DescribeTrainingJob of an existing job, before it advances: tests act at a chosen moment. */
  onDescribe?: (name: string, job: FakeJob) => void;

  constructor() {
    const mock = mockClient(this.client);
    mock.on(CreateTrainingJobCommand).callsFake((input: CreateTrainingJobCommandInput) => this.create(input));
    mock.on(DescribeTrainingJobCommand).callsFake((input: { TrainingJobName: string }) => this.describe(input.TrainingJobName));
    mock.on(StopTrainingJobCommand).callsFake((input: { TrainingJobName: string }) => this.stop(input.TrainingJobName));
    mock.on(AddTagsCommand).callsFake((input: { ResourceArn: string; Tags: Array<{ Key: string; Value: string }> }) => {
      const job = this.byArn(input.ResourceArn, 'AddTags');
      for (const tag of input.Tags) job.tags.set(tag.Key, tag.Value);
      return { Tags: input.Tags };
    });
    mock.on(DeleteTagsCommand).callsFake((input: { ResourceArn: string; TagKeys: string[] }) => {
      const job = this.byArn(input.ResourceArn, 'DeleteTags');
      for (const key of input.TagKeys) job.tags.delete(key);
      return {};
    });
    mock.on(ListTagsCommand).callsFake((input: { ResourceArn: string }) => ({
      Tags: [...this.byArn(input.ResourceArn, 'ListTags').tags].map(([Key, Value]) => ({ Key, Value })),
    }));
  }

  /** The job an ARN names; tag calls are addressed by ARN. */
  private byArn(arn: string, command: string): FakeJob {
    const name = arn.split('/').pop() as string;
    this.calls.push({ command, name });
    const job = this.jobs.get(name);
    if (!job) throw sdkError('ValidationException', `Requested resource not found: ${arn}`);
    return job;
  }

  count(command: string): number {
    return this.calls.filter((call) => call.command === command).length;
  }

  private create(input: CreateTrainingJobCommandInput) {
    const name = input.TrainingJobName as string;
    this.calls.push({ command: 'CreateTrainingJob', name });
    const quota = this.createErrors.get(input.ResourceConfig?.InstanceType as string);
    if (quota) throw quota;
    if (this.jobs.has(name)) {
      throw new ResourceInUse({
        message: `Training job names must be unique within an AWS account and region, and a training job with this name already exists (arn:aws:sagemaker:us-east-1:123456789012:training-job/${name})`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    const tags = new Map((input.Tags ?? []).map((tag) => [tag.Key as string, tag.Value ?? '']));
    this.jobs.set(name, { request: input, script: this.scriptFor(input), index: -1, creationTime: new Date(), transitions: [], tags });
    if (this.loseNextCreateResponse) {
      this.loseNextCreateResponse = false;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    return { TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}` };
  }

  private describe(name: string): DescribeTrainingJobCommandOutput {
    this.calls.push({ command: 'DescribeTrainingJob', name });
    if (this.throttleNextDescribes > 0) {
      this.throttleNextDescribes -= 1;
      throw sdkError('ThrottlingException', 'Rate exceeded');
    }
    const job = this.jobs.get(name);
    if (this.missNextDescribes > 0) {
      this.missNextDescribes -= 1;
      throw sdkError('ValidationException', 'Requested resource not found.');
    }
    if (!job) throw sdkError('ValidationException', 'Requested resource not found.');
    this.onDescribe?.(name, job);
    const step = this.advance(job);
    const { request } = job;
    const done = step.TrainingJobStatus !== 'InProgress' && step.TrainingJobStatus !== 'Stopping';
    return {
      $metadata: {},
      TrainingJobName: name,
      TrainingJobArn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${name}`,
      TrainingJobStatus: step.TrainingJobStatus,
      SecondaryStatus: step.SecondaryStatus,
      ...(step.FailureReason ? { FailureReason: step.FailureReason } : {}),
      SecondaryStatusTransitions: job.transitions.map((t) => ({
        Status: t.Status as never,
        StatusMessage: t.StatusMessage,
        StartTime: t.StartTime,
      })),
      AlgorithmSpecification: request.AlgorithmSpecification,
      HyperParameters: request.HyperParameters,
      InputDataConfig: request.InputDataConfig,
      OutputDataConfig: request.OutputDataConfig,
      ResourceConfig: request.ResourceConfig,
      RoleArn: request.RoleArn,
      StoppingCondition: request.StoppingCondition,
      EnableManagedSpotTraining: request.EnableManagedSpotTraining,
      CreationTime: job.creationTime,
      ...(step.TrainingJobStatus === 'Completed'
        ? {
            ModelArtifacts: { S3ModelArtifacts: `${request.OutputDataConfig?.S3OutputPath}${name}/output/model.tar.gz` },
            FinalMetricDataList: [
              { MetricName: 'train:loss', Value: 1.25, Timestamp: new Date() },
              { MetricName: 'eval:loss', Value: 1.5, Timestamp: new Date() },
            ],
          }
        : {}),
      ...(done || job.index >= 2 ? { BillableTimeInSeconds: 1800, TrainingTimeInSeconds: 1800 } : {}),
    } as DescribeTrainingJobCommandOutput;
  }

  private stop(name: string) {
    this.calls.push({ command: 'StopTrainingJob', name });
    const job = this.jobs.get(name);
    if (!job) throw sdkError('ValidationException', 'Requested resource not found.');
    const status = job.script[Math.max(job.index, 0)]?.TrainingJobStatus;
    if (status !== 'InProgress')
      throw sdkError('ValidationException', `The request was rejected because the training job is in status ${status}.`);
    // SageMaker: Stopping while the container gets SIGTERM (120 s grace), then Stopped.
    job.script = [...job.script.slice(0, job.index + 1), STEPS.stopping, STEPS.stopping, STEPS.stopped];
    job.stopRequestedAt = job.index;
    return {};
  }

  private advance(job: FakeJob): Step {
    job.index = Math.min(job.index + 1, job.script.length - 1);
    const step = job.script[job.index] as Step;
    const last = job.transitions[job.transitions.length - 1];
    if (!last || last.Status !== step.SecondaryStatus)
      job.transitions.push({ Status: step.SecondaryStatus as string, StatusMessage: step.message, StartTime: new Date() });
    return step;
  }
}

export function quotaError(instanceType: string): Error {
  return new ResourceLimitExceeded({
    message: `The account-level service limit '${instanceType} for training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.`,
    $metadata: { httpStatusCode: 400 },
  });
}

export const DATASET_HASH = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8);
export const DATASET_URI = `s3://llmtwin-test/llmtwin/datasets/${DATASET_HASH}/`;

/** prepare-data's manifest.json, as far as fine-tuning reads it (common/prepare-data/contract.ts has the full shape). */
export function manifestFor(hash = DATASET_HASH, trainRecords = 120) {
  const base = `s3://llmtwin-test/llmtwin/datasets/${hash}/`;
  const file = (name: string, records: number) => ({
    key: `llmtwin/datasets/${hash}/${name}`,
    uri: `${base}${name}`,
    sha256: 'c'.repeat(64),
    bytes: 1000,
    records,
  });
  return { schemaVersion: 1, datasetHash: hash, files: { train: file('train.jsonl', trainRecords), test: file('test.jsonl', 12) } };
}

/** S3 holding one dataset manifest; the staged training code is remembered once put. */
export function datasetS3(manifests: Record<string, unknown> = { [`${DATASET_URI}manifest.json`]: manifestFor() }) {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(client);
  const objects = new Map<string, unknown>(Object.entries(manifests));
  const puts: string[] = [];
  mock.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const body = objects.get(`s3://${input.Bucket}/${input.Key}`);
    if (body === undefined)
      throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    return { Body: { transformToString: async () => (typeof body === 'string' ? body : JSON.stringify(body)) } };
  });
  mock.on(HeadObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    if (!objects.has(`s3://${input.Bucket}/${input.Key}`))
      throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    return {};
  });
  mock.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    puts.push(`s3://${input.Bucket}/${input.Key}`);
    objects.set(`s3://${input.Bucket}/${input.Key}`, '<bytes>');
    return {};
  });
  return { client, puts, objects };
}

/** A resolved plan as planFineTune returns it, for tests of what comes after planning. */
export function samplePlan(overrides: Partial<TrainingPlan> = {}): TrainingPlan {
  return {
    datasetHash: 'f'.repeat(64),
    trainUri: 's3://b/llmtwin/datasets/fff/train.jsonl',
    testUri: 's3://b/llmtwin/datasets/fff/test.jsonl',
    trainRecords: 100,
    testRecords: 10,
    baseModelId: 'Qwen/Qwen2.5-1.5B-Instruct',
    compute: 'sagemaker',
    imageUri: trainingImageUri('us-east-1'),
    codeUri: 's3://b/llmtwin/code/train/abc/sourcedir.tar.gz',
    codeSha256: 'abc',
    hyperparameters: HyperparametersSchema.parse({}),
    instanceTypes: ['ml.g5.2xlarge', 'ml.g5.4xlarge'],
    instanceCount: 1,
    volumeSizeGb: 100,
    maxRuntimeSeconds: 43_200,
    spot: { enabled: false, maxWaitSeconds: 86_400 },
    checkpointBaseUri: 's3://b/llmtwin/checkpoints/',
    outputUri: 's3://b/llmtwin/training/',
    roleArn: 'arn:aws:iam::123456789012:role/llmtwin',
    tags: {},
    force: false,
    runId: 'wf-1',
    resourceNamePrefix: 'llmtwin',
    ...overrides,
  };
}
