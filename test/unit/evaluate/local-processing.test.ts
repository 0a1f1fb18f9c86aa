import type { CreateProcessingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { localProcessingCompute, localProcessingSpec } from '../../../activities/evaluate/local-processing';
import { jobFolder } from '../../../activities/local/job-folder';
import { scratchJobsDir } from '../../helpers/local-jobs';

const options = {
  jobsDir: '/jobs',
  python: '/venv/bin/python',
  cacheDir: '/cache',
  stopGraceSeconds: 120,
  aws: { target: 'local' as const, region: 'us-east-1', maxAttempts: 3 },
  entryPoint: 'evaluate/evaluate.py',
};
const s3Input = (InputName: string, LocalPath: string) => ({
  InputName,
  S3Input: { S3Uri: `s3://b/${InputName}/`, LocalPath, S3DataType: 'S3Prefix' as const, S3InputMode: 'File' as const },
});
const request: CreateProcessingJobCommandInput = {
  ProcessingJobName: 'llmtwin-evaluate-x',
  RoleArn: 'arn:aws:iam::123456789012:role/r',
  AppSpecification: { ImageUri: 'image' },
  ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 } },
  ProcessingInputs: [s3Input('model', '/opt/ml/processing/input/model'), s3Input('code', '/opt/ml/processing/input/code')],
  ProcessingOutputConfig: {
    KmsKeyId: 'alias/k',
    Outputs: [
      { OutputName: 'evaluation', S3Output: { S3Uri: 's3://b/out/', LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob' } },
    ],
  },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  Environment: { JUDGE_API_KEY: 'sk-secret' },
};

describe('processing jobs, locally', () => {
  it('puts each input at its LocalPath inside the job folder, unpacks the code, uploads outputs when the job completes', () => {
    const spec = localProcessingSpec(request, options);
    expect(spec.inputs).toEqual([
      { s3Uri: 's3://b/model/', dir: 'processing/input/model', unpack: false, optional: false },
      { s3Uri: 's3://b/code/', dir: 'processing/input/code', unpack: true, optional: false },
    ]);
    expect(spec.outputs).toEqual([
      { dir: 'processing/output', s3Uri: 's3://b/out/', as: 'files', when: ['Completed'], kmsKeyId: 'alias/k' },
    ]);
    expect(spec.program).toMatchObject({ args: ['evaluate/evaluate.py'], cwd: 'processing/input/code', secretEnv: ['JUDGE_API_KEY'] });
    expect(spec.program.env.LLMTWIN_PROCESSING_DIR).toBe('/jobs/llmtwin-evaluate-x/ml/processing');
    expect(spec.maxRuntimeSeconds).toBe(3600);
    expect(JSON.stringify(spec)).not.toContain('sk-secret');
  });

  it('refuses a LocalPath outside /opt/ml/processing, naming the field', () => {
    const outside = { ...request, ProcessingInputs: [s3Input('model', '/tmp/model')] };
    expect(() => localProcessingSpec(outside, options)).toThrow(
      /ProcessingInputs\.0\.S3Input\.LocalPath \/tmp\/model is not under \/opt\/ml\/processing/,
    );
    const sneaky = { ...request, ProcessingInputs: [s3Input('model', '/opt/ml/processing/../../etc')] };
    expect(() => localProcessingSpec(sneaky, options)).toThrow(/is not under \/opt\/ml\/processing/);
  });

  it('fails the describe for good on a job folder it cannot read, as training jobs do', async () => {
    const jobsDir = scratchJobsDir();
    const folder = jobFolder(jobsDir, 'broken');
    mkdirSync(folder.root);
    writeFileSync(folder.supervisor, '{ not json');
    const error = await localProcessingCompute({ ...options, jobsDir })
      .describe('broken')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ nonRetryable: true, type: 'ValidationError' });
    expect((error as Error).message).toMatch(/^cannot read local job broken in /);
  });
});
