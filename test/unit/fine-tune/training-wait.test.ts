import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { testLogger } from '../../helpers/test-logger';
import { sageMakerTrainingCompute } from '../../../activities/fine-tune/training-compute';
import { stopTrainingJob, waitForTrainingJob } from '../../../activities/fine-tune/training-wait';
import type { TrainingProgress } from '../../../common/fine-tune/contract';
import { buildCreateTrainingJobRequest } from '../../../activities/fine-tune/training-request';
import { HAPPY_PATH, STEPS, ScriptedSageMaker, samplePlan } from '../../helpers/fake-training-jobs';

const polling = { initialMs: 5, maxMs: 20 };
const pricing = { usdPerHour: { 'ml.g5.2xlarge': 2 } };
const input = { jobName: 'llmtwin-train-job', instanceType: 'ml.g5.2xlarge', instanceCount: 1, spot: false };

function withJob(script = HAPPY_PATH): ScriptedSageMaker {
  const sagemaker = new ScriptedSageMaker();
  sagemaker.jobs.set(input.jobName, {
    request: buildCreateTrainingJobRequest(samplePlan(), input.instanceType, input.jobName, 'us-east-1'),
    script,
    index: -1,
    creationTime: new Date(),
    tags: new Map(),
    transitions: [],
  });
  return sagemaker;
}

describe('waitForTrainingJob', () => {
  it('heartbeats status, secondary status, transitions and billable time on every poll', async () => {
    const sagemaker = withJob();
    const env = new MockActivityEnvironment(undefined, { logger: testLogger });
    const beats: TrainingProgress[] = [];
    env.on('heartbeat', (details: TrainingProgress) => beats.push(details));
    const outcome = await env.run(() =>
      waitForTrainingJob(sageMakerTrainingCompute(sagemaker.client, 'us-east-1'), polling, pricing, input),
    );

    expect(beats.map((beat) => beat.secondaryStatus)).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Training',
      'Uploading',
      'Completed',
    ]);
    expect(beats.at(-1)?.transitions.map((t) => t.message)).toEqual([
      'Launching requested ML instances',
      'Downloading input data',
      'Training image download completed. Training in progress.',
      'Uploading generated training model',
      'Training job completed',
    ]);
    expect(beats[2]?.billableSeconds).toBe(1800);
    // Pricing from config: 2 USD/h for half an hour.
    expect(outcome).toMatchObject({ estimatedCostUsd: 1, billableSeconds: 1800, polls: 6, finalMetrics: { 'train:loss': 1.25 } });
  });

  it('resumes from the last heartbeat after a worker restart instead of starting over', async () => {
    const sagemaker = withJob([STEPS.training, STEPS.completed]);
    const resumedFrom: TrainingProgress = {
      jobName: input.jobName,
      status: 'InProgress',
      secondaryStatus: 'Training',
      transitions: [{ status: 'Training', startTime: '2025-01-01T00:00:00.000Z' }],
      polls: 40,
      throttledPolls: 2,
      intervalMs: 20,
    };
    const outcome = await new MockActivityEnvironment({ heartbeatDetails: resumedFrom }, { logger: testLogger }).run(() =>
      waitForTrainingJob(sageMakerTrainingCompute(sagemaker.client, 'us-east-1'), polling, pricing, input),
    );
    expect(outcome).toMatchObject({ polls: 42, throttledPolls: 2 });
  });

  it('honours cancellation: the poll loop stops with CancelledFailure', async () => {
    const sagemaker = withJob([STEPS.training]); // trains forever
    const env = new MockActivityEnvironment(undefined, { logger: testLogger });
    const run = env.run(() => waitForTrainingJob(sageMakerTrainingCompute(sagemaker.client, 'us-east-1'), polling, pricing, input));
    await new Promise((resolve) => setTimeout(resolve, 50));
    env.cancel();
    await expect(run).rejects.toBeInstanceOf(CancelledFailure);
    const polls = sagemaker.count('DescribeTrainingJob');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sagemaker.count('DescribeTrainingJob')).toBe(polls); // nothing keeps polling behind our back
  });
});

describe('stopTrainingJob', () => {
  it('stops a running job and returns only once SageMaker says Stopped', async () => {
    const sagemaker = withJob([STEPS.training]);
    sagemaker.jobs.get(input.jobName)!.index = 0; // SageMaker has it InProgress/Training
    const result = await new MockActivityEnvironment(undefined, { logger: testLogger }).run(() =>
      stopTrainingJob(sageMakerTrainingCompute(sagemaker.client, 'us-east-1'), polling, input.jobName, 'wf-1'),
    );
    expect(result).toEqual({ jobName: input.jobName, status: 'Stopped' });
    expect(sagemaker.count('StopTrainingJob')).toBe(1);
  });

  it('leaves a finished job alone and treats a never-created job as nothing to stop', async () => {
    const sagemaker = withJob([STEPS.completed]);
    expect(
      await new MockActivityEnvironment(undefined, { logger: testLogger }).run(() =>
        stopTrainingJob(sageMakerTrainingCompute(sagemaker.client, 'us-east-1'), polling, input.jobName, 'wf-1'),
      ),
    ).toEqual({ jobName: input.jobName, status: 'Completed' });
    expect(
      await new MockActivityEnvironment(undefined, { logger: testLogger }).run(() =>
        stopTrainingJob(sageMakerTrainingCompute(sagemaker.client, 'us-east-1'), polling, 'never-created', 'wf-1'),
      ),
    ).toEqual({ jobName: 'never-created', status: 'NotFound' });
    expect(sagemaker.count('StopTrainingJob')).toBe(0);
  });
});
