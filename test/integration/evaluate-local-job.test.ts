import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CreateProcessingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { create as createTar } from 'tar';
import { ensureBucket } from '../../activities/aws/s3';
import { EVALUATION_ENTRY_POINT, packEvaluationCode } from '../../activities/evaluate/evaluation-code';
import { localProcessingCompute } from '../../activities/evaluate/local-processing';
import { sageMakerProcessingCompute } from '../../activities/evaluate/processing-compute';
import { buildCreateProcessingJobRequest } from '../../activities/evaluate/processing-request';
import { effectiveExecutionRoleArn } from '../../common/config';
import { evaluationJobName } from '../../common/evaluate/plan';
import { sampleEvaluationPlan } from '../helpers/evaluation-plan';
import { trainingImageUri } from '../../common/fine-tune/images';
import { awsConnectionOf, destroyAwsClients, type AwsClients } from '../../platform/aws-clients';
import { PROJECT_ROOT } from '../../platform/paths';
import { scratchJobsDir, waitForEnd } from '../helpers/local-jobs';
import { JOBS_PYTHON } from '../helpers/local-training';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';

// The evaluation job (jobs/evaluate, packed with the training package it shares) run as a processing job
// by the local runner against moto's S3: inputs at their LocalPaths, outputs uploaded where the request
// says. The twin is the toy itself here; the test is of the contract, not of the scores.
jest.setTimeout(300_000);

const config = testConfig();
const bucket = config.s3.bucket;
let aws: AwsClients;

beforeAll(async () => {
  await resetMoto();
  aws = testAwsClients(config);
  await ensureBucket(aws.s3, bucket, config.aws.region);
});
afterAll(() => destroyAwsClients(aws));

async function put(key: string, body: Buffer | string): Promise<string> {
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return `s3://${bucket}/${key}`;
}

async function tarGz(cwd: string, files: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createTar({ gzip: true, cwd, portable: true }, files) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

it('runs jobs/evaluate under the processing contract and uploads evaluation.json and the reports', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'llmtwin-cache-'));
  // The toy, built by the job code itself, stands in for a trained twin (packed as SageMaker packs /opt/ml/model).
  const { stdout } = await promisify(execFile)(
    JOBS_PYTHON,
    ['-c', 'import sys; sys.path.insert(0, "jobs/train"); from llmtwin_train.toy_model import ensure_toy_model; print(ensure_toy_model())'],
    { cwd: PROJECT_ROOT, env: { ...process.env, LLMTWIN_CACHE_DIR: cacheDir } },
  );
  const toy = stdout.trim();
  const model = await put(
    't/model/model.tar.gz',
    await tarGz(toy, [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'special_tokens_map.json',
      'chat_template.jinja',
    ]),
  );
  const data = await put(
    't/data/test.jsonl',
    '{"instruction": "Write about the sea.", "output": "the sea is grey and I love it."}\n{"instruction": "Write about rain.", "output": "the rain is soft and I love it."}\n',
  );
  const settings = await put(
    't/config/evaluation.json',
    JSON.stringify({ base_model_id: 'llmtwin-toy', decoding: { max_new_tokens: 16 } }),
  );
  const code = await put('t/code/sourcedir.tar.gz', (await packEvaluationCode()).tarGz);

  const jobsDir = scratchJobsDir();
  const compute = localProcessingCompute({
    jobsDir,
    python: JOBS_PYTHON,
    cacheDir,
    stopGraceSeconds: 10,
    aws: awsConnectionOf(config),
    entryPoint: EVALUATION_ENTRY_POINT,
  });
  const input = (InputName: string, S3Uri: string, LocalPath: string) => ({
    InputName,
    S3Input: { S3Uri, LocalPath, S3DataType: 'S3Prefix' as const, S3InputMode: 'File' as const },
  });
  const request: CreateProcessingJobCommandInput = {
    ProcessingJobName: 'llmtwin-evaluate-test',
    RoleArn: 'arn:aws:iam::123456789012:role/llmtwin',
    AppSpecification: { ImageUri: 'local' },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 } },
    ProcessingInputs: [
      input('model', model, '/opt/ml/processing/input/model'),
      input('data', data, '/opt/ml/processing/input/data'),
      input('config', settings, '/opt/ml/processing/input/config'),
      input('code', code, '/opt/ml/processing/input/code'),
    ],
    ProcessingOutputConfig: {
      Outputs: [
        {
          OutputName: 'evaluation',
          S3Output: { S3Uri: `s3://${bucket}/t/evaluation/`, LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob' },
        },
      ],
    },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  };
  await expect(compute.create(request)).resolves.toBe('created');
  await expect(compute.create(request)).resolves.toBe('exists');
  const view = await waitForEnd(jobsDir, 'llmtwin-evaluate-test', 240_000);
  expect(view.state.failureReason).toBeUndefined();
  expect((await compute.describe('llmtwin-evaluate-test'))?.ProcessingJobStatus).toBe('Completed');

  const read = async (key: string) => (await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
  const evaluation = JSON.parse(await read('t/evaluation/evaluation.json')) as {
    samples_scored: number;
    metrics: Record<string, { perplexity: number }>;
  };
  expect(evaluation.samples_scored).toBe(2);
  expect(Number.isFinite(evaluation.metrics.twin?.perplexity)).toBe(true);
  expect(Number.isFinite(evaluation.metrics.base?.perplexity)).toBe(true);
  expect(await read('t/evaluation/report.html')).toContain('<svg');
  expect(await read('t/evaluation/report.md')).toContain('| perplexity |');
});

it('creates and describes the same request on the SageMaker backend (moto): one job under the deterministic name', async () => {
  const plan = sampleEvaluationPlan({
    modelUri: `s3://${bucket}/t/model/model.tar.gz`,
    testUri: `s3://${bucket}/t/data/test.jsonl`,
    configUri: `s3://${bucket}/t/config/evaluation.json`,
    codeUri: `s3://${bucket}/t/code/sourcedir.tar.gz`,
    outputUri: `s3://${bucket}/t/evaluation-sm/`,
    imageUri: trainingImageUri(config.aws.region),
    // moto's list of instance types predates g5.
    instanceType: 'ml.m5.large',
    roleArn: effectiveExecutionRoleArn(config),
  });
  const compute = sageMakerProcessingCompute(aws.sagemaker, config.aws.region);
  const name = evaluationJobName(plan);
  await expect(compute.describe(name)).resolves.toBeUndefined();
  await expect(compute.create(buildCreateProcessingJobRequest(plan, name))).resolves.toBe('created');
  const described = await compute.describe(name);
  expect(described).toMatchObject({ ProcessingJobName: name, ProcessingJobStatus: 'Completed', RoleArn: plan.roleArn });
  expect(described?.ProcessingInputs?.map((input) => input.InputName)).toEqual(['model', 'data', 'config', 'code']);
});
