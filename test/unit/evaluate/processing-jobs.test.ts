import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  SageMakerClient,
  StopProcessingJobCommand,
  type DescribeProcessingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { sageMakerProcessingCompute } from '../../../activities/evaluate/processing-compute';
import {
  startProcessingJob,
  stopProcessingJob,
  waitForProcessingJob,
  type ProcessingProgress,
} from '../../../activities/evaluate/processing-jobs';
import { buildCreateProcessingJobRequest } from '../../../activities/evaluate/processing-request';
import { sampleEvaluationPlan } from '../../helpers/evaluation-plan';
import { rejectionOf } from '../../helpers/rejection';
import { testLogger } from '../../helpers/test-logger';

// The evaluation job's lifecycle against SageMaker's real answers, including what moto lacks or
// shortcuts: a job that takes several polls, throttling, a lost create answer, StopProcessingJob.
const sagemaker = mockClient(SageMakerClient);
beforeEach(() => sagemaker.reset());
const compute = sageMakerProcessingCompute(sagemaker, 'us-east-1');
const polling = { initialMs: 1, maxMs: 4 };

const plan = sampleEvaluationPlan();
const request = buildCreateProcessingJobRequest(plan, 'llmtwin-eval-x');
const notFound = Object.assign(new Error('Could not find requested job with name llmtwin-eval-x'), { name: 'ValidationException' });
const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
const described = (status: string, extra: Partial<DescribeProcessingJobCommandOutput> = {}) =>
  ({
    ProcessingJobName: 'llmtwin-eval-x',
    ProcessingJobStatus: status,
    AppSpecification: request.AppSpecification,
    ProcessingInputs: request.ProcessingInputs,
    ...extra,
  }) as DescribeProcessingJobCommandOutput;

describe('the evaluation job on SageMaker', () => {
  it('creates once with the secret only in the sent request; a job already there is adopted or reused, never created again', async () => {
    sagemaker.on(DescribeProcessingJobCommand).rejects(notFound);
    sagemaker.on(CreateProcessingJobCommand).resolves({ ProcessingJobArn: 'arn:p' });
    await expect(startProcessingJob(compute, request, () => ({ LLMTWIN_JUDGE_API_KEY: 'sk-1' }))).resolves.toMatchObject({
      outcome: 'created',
    });
    expect(sagemaker.commandCalls(CreateProcessingJobCommand)[0]!.args[0].input.Environment).toMatchObject({
      LLMTWIN_JUDGE_API_KEY: 'sk-1',
    });
    expect(request.Environment).not.toHaveProperty('LLMTWIN_JUDGE_API_KEY');

    for (const [status, outcome] of [
      ['InProgress', 'adopted'],
      ['Completed', 'reused'],
    ] as const) {
      sagemaker.reset();
      sagemaker.on(DescribeProcessingJobCommand).resolves(described(status));
      await expect(startProcessingJob(compute, request, () => ({}))).resolves.toMatchObject({ outcome });
      expect(sagemaker.commandCalls(CreateProcessingJobCommand)).toHaveLength(0);
    }
  });

  it('a lost create answer: the retry\'s "already exists" is judged by describing the job, which is adopted', async () => {
    sagemaker.on(DescribeProcessingJobCommand).rejectsOnce(notFound).resolves(described('InProgress'));
    sagemaker.on(CreateProcessingJobCommand).rejects(
      Object.assign(new Error('Job name must be unique within an AWS account and region, and a job with this name already exists'), {
        name: 'ResourceInUse',
      }),
    );
    await expect(startProcessingJob(compute, request, () => ({}))).resolves.toMatchObject({ outcome: 'adopted' });
  });

  it('refuses a job under our name that is not ours, and one that failed, with what to do', async () => {
    sagemaker.on(DescribeProcessingJobCommand).resolves(described('InProgress', { AppSpecification: { ImageUri: 'someone/else:1' } }));
    const conflict = await rejectionOf(startProcessingJob(compute, request, () => ({})));
    expect(conflict).toMatchObject({ type: 'ResourceConflict', nonRetryable: true });
    sagemaker.reset();
    sagemaker.on(DescribeProcessingJobCommand).resolves(described('Failed', { FailureReason: 'AlgorithmError: CUDA out of memory' }));
    const failed = await rejectionOf(startProcessingJob(compute, request, () => ({})));
    expect(failed).toMatchObject({ type: 'JobFailed', nonRetryable: true });
    expect(failed.message).toContain('CUDA out of memory');
    expect(failed.message).toContain('force: true');
  });

  it('the wait polls through throttling, heartbeating progress, and fails with the FailureReason and where the log is', async () => {
    sagemaker
      .on(DescribeProcessingJobCommand)
      .resolvesOnce(described('InProgress'))
      .rejectsOnce(throttled)
      .resolvesOnce(described('InProgress'))
      .resolves(described('Failed', { FailureReason: 'ClientError: no model.tar.gz' }));
    const env = new MockActivityEnvironment(undefined, { logger: testLogger });
    const beats: ProcessingProgress[] = [];
    env.on('heartbeat', (details: ProcessingProgress) => beats.push(details));
    const failure = await rejectionOf(env.run(() => waitForProcessingJob(compute, polling, 'llmtwin-eval-x')));
    expect(failure).toMatchObject({ type: 'JobFailed', nonRetryable: true });
    expect(failure.message).toContain('ClientError: no model.tar.gz');
    expect(failure.message).toContain('/aws/sagemaker/ProcessingJobs');
    expect(beats.at(-1)).toMatchObject({ polls: 3, throttledPolls: 1, status: 'Failed' });
  });

  it('stopping sends StopProcessingJob while it runs and waits for Stopped; a job never created is fine', async () => {
    sagemaker
      .on(DescribeProcessingJobCommand)
      .resolvesOnce(described('InProgress'))
      .resolvesOnce(described('Stopping'))
      .resolves(described('Stopped'));
    sagemaker.on(StopProcessingJobCommand).resolves({});
    const env = new MockActivityEnvironment(undefined, { logger: testLogger });
    await expect(env.run(() => stopProcessingJob(compute, polling, 'llmtwin-eval-x'))).resolves.toEqual({
      jobName: 'llmtwin-eval-x',
      status: 'Stopped',
    });
    expect(sagemaker.commandCalls(StopProcessingJobCommand)).toHaveLength(1);
    sagemaker.reset();
    sagemaker.on(DescribeProcessingJobCommand).rejects(notFound);
    await expect(env.run(() => stopProcessingJob(compute, polling, 'llmtwin-eval-x'))).resolves.toEqual({
      jobName: 'llmtwin-eval-x',
      status: 'NotFound',
    });
  });
});
