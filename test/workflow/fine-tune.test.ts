import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { createFineTuneActivities } from '../../activities/fine-tune';
import { costUsd } from '../../common/shared/pricing';
import { fineTuneStatusQuery, type FineTuneInput, type FineTuneResult } from '../../common/fine-tune/contract';
import { fineTune } from '../../workflows/fine-tune';
import {
  DATASET_URI,
  HAPPY_PATH,
  SCRIPTED_AWS_CONFIG,
  STEPS,
  ScriptedSageMaker,
  datasetS3,
  quotaError,
} from '../helpers/fake-training-jobs';
import { workflowFailureOf } from '../helpers/rejection';
import { recordHistoryIfAsked } from '../helpers/replay';
import { uniqueId, useTimeSkippingEnv, withWorker } from '../helpers/temporal';
import { until } from '../helpers/until';

// The REAL activities (describe-before-create, polling, stop) against SageMaker's scripted behaviour;
// only the AWS clients are fakes. Polling is shortened to milliseconds; the logic is unchanged.
const config = SCRIPTED_AWS_CONFIG;
const input: FineTuneInput = { datasetUri: DATASET_URI, hyperparameters: { epochs: 2 } };

describe('fineTune workflow (time-skipping, scripted SageMaker)', () => {
  const server = useTimeSkippingEnv();

  function harness(sagemaker = new ScriptedSageMaker()) {
    const s3 = datasetS3();
    const activities = createFineTuneActivities({
      sagemaker: sagemaker.client,
      s3: s3.client,
      secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
      config,
      env: {},
    });
    const taskQueue = uniqueId('tq');
    const workerOptions = { connection: server.env.nativeConnection, taskQueue, maxHeartbeatThrottleInterval: '50ms' as const };
    return {
      sagemaker,
      s3,
      activities,
      taskQueue,
      /** Runs to the end; `record` names the history saved for the replay test when recording is on. */
      run: (args: FineTuneInput = input, acts: object = activities, record?: string) =>
        withWorker({ ...workerOptions, activities: acts }, async () => {
          const handle = await server.env.client.workflow.start(fineTune, { taskQueue, workflowId: uniqueId('ft'), args: [args] });
          try {
            return await handle.result();
          } finally {
            if (record) await recordHistoryIfAsked(handle, record);
          }
        }),
      start: <T>(body: (handle: WorkflowHandle<typeof fineTune>) => Promise<T>, args: FineTuneInput = input) =>
        withWorker({ ...workerOptions, activities }, async () =>
          body(await server.env.client.workflow.start(fineTune, { taskQueue, workflowId: uniqueId('ft'), args: [args] })),
        ),
    };
  }

  it('creates the job, follows it to Completed and returns artifacts, metrics, billable time and cost', async () => {
    const h = harness();
    const result: FineTuneResult = await h.run();

    expect(h.sagemaker.count('CreateTrainingJob')).toBe(1);
    const [job] = [...h.sagemaker.jobs.values()];
    expect(result).toMatchObject({
      jobName: job!.request.TrainingJobName,
      instanceType: 'ml.g5.2xlarge',
      artifactsUri: `s3://llmtwin-test/llmtwin/training/${job!.request.TrainingJobName}/output/model.tar.gz`,
      finalMetrics: { 'train:loss': 1.25, 'eval:loss': 1.5 },
      billableSeconds: 1800,
      estimatedCostUsd: costUsd('ml.g5.2xlarge', 1800),
      reused: false,
      attempts: [{ instanceType: 'ml.g5.2xlarge', outcome: 'completed' }],
    });
    expect(result.estimatedCostUsd).toBeCloseTo(0.76, 2);
    // Polled until terminal, once per scripted step: no early exit, no extra calls.
    expect(h.sagemaker.count('DescribeTrainingJob')).toBe(
      4 /* find: one per instance type */ + 1 /* create's describe */ + HAPPY_PATH.length,
    );
    expect(result.polls).toBe(HAPPY_PATH.length);
    // The code the job runs was staged once, content-addressed.
    expect(h.s3.puts).toEqual([expect.stringMatching(/^s3:\/\/llmtwin-test\/llmtwin\/code\/train\/[0-9a-f]{64}\/sourcedir\.tar\.gz$/)]);
  });

  it('adopts the job when the create activity dies after SageMaker created it: exactly one job exists', async () => {
    const h = harness();
    h.sagemaker.loseNextCreateResponse = true; // created, then the response is lost (ECONNRESET)
    const result = await h.run();

    expect(h.sagemaker.jobs.size).toBe(1);
    expect(h.sagemaker.count('CreateTrainingJob')).toBe(1); // the retry described, found it, adopted it
    expect(result.jobName).toBe([...h.sagemaker.jobs.keys()][0]);
    expect(result.attempts).toEqual([expect.objectContaining({ outcome: 'completed' })]);
  });

  it("fails with JobFailed carrying SageMaker's FailureReason, without retrying", async () => {
    const sagemaker = new ScriptedSageMaker();
    sagemaker.scriptFor = () => [STEPS.starting, STEPS.training, STEPS.oom];
    const h = harness(sagemaker);
    const failure = await workflowFailureOf(h.run());

    expect(failure.type).toBe('JobFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('torch.OutOfMemoryError: CUDA out of memory');
    expect(sagemaker.count('CreateTrainingJob')).toBe(1);
  });

  it('treats a job stopped outside the workflow as a cancellation, never as success', async () => {
    const sagemaker = new ScriptedSageMaker();
    sagemaker.scriptFor = () => [STEPS.starting, STEPS.training, STEPS.stopping, STEPS.stopped];
    const error = await harness(sagemaker)
      .run()
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );

    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(CancelledFailure);
    expect(cause?.message).toMatch(/was stopped before it completed/);
    // Nothing left to stop: the job is already Stopped.
    expect(sagemaker.count('StopTrainingJob')).toBe(0);
  });

  it('on cancel mid-training sends StopTrainingJob and waits until SageMaker reports Stopped', async () => {
    const sagemaker = new ScriptedSageMaker();
    sagemaker.scriptFor = () => [STEPS.starting, STEPS.downloading, STEPS.training]; // trains until stopped
    const h = harness(sagemaker);
    const outcome = await h.start(async (handle) => {
      await until(() => [...sagemaker.jobs.values()].some((job) => job.script[job.index]?.SecondaryStatus === 'Training'));
      expect(await handle.query(fineTuneStatusQuery)).toMatchObject({ phase: 'training', instanceType: 'ml.g5.2xlarge' });
      await handle.cancel();
      const error = await handle.result().catch((failure: unknown) => failure);
      await recordHistoryIfAsked(handle, 'fineTune-cancelled-mid-training');
      return { error, status: await handle.query(fineTuneStatusQuery) };
    });

    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
    expect((outcome.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(outcome.status.phase).toBe('cancelled');
    expect(sagemaker.count('StopTrainingJob')).toBe(1);
    const [job] = [...sagemaker.jobs.values()];
    // The cleanup polled through Stopping until SageMaker said Stopped.
    expect(job!.script[job!.index]?.TrainingJobStatus).toBe('Stopped');
    expect(job!.index).toBe(job!.script.length - 1);
  });

  it('a cancelled run leaves a job other runs still wait on running for them; the last one to cancel stops it', async () => {
    const sagemaker = new ScriptedSageMaker();
    sagemaker.scriptFor = () => [STEPS.starting, STEPS.downloading, STEPS.training]; // trains until told otherwise
    const h = harness(sagemaker);
    const training = () => [...sagemaker.jobs.values()].some((job) => job.script[job.index]?.SecondaryStatus === 'Training');
    const outcome = await h.start(async (creator) => {
      await until(training);
      // Two more runs of the same input adopt the running job instead of creating their own.
      const adopters = await Promise.all(
        [1, 2].map(() => server.env.client.workflow.start(fineTune, { taskQueue: h.taskQueue, workflowId: uniqueId('ft'), args: [input] })),
      );
      const [job] = [...sagemaker.jobs.values()];
      await until(() => [...job!.tags.keys()].filter((key) => key.startsWith('llmtwin:waiter:')).length === 3);

      await creator.cancel();
      await creator.result().catch(() => undefined);
      const creatorStop = (await creator.query(fineTuneStatusQuery)).stop;
      await adopters[0]!.cancel();
      await adopters[0]!.result().catch(() => undefined);
      const adopterStop = (await adopters[0]!.query(fineTuneStatusQuery)).stop;
      const stopsWhileShared = sagemaker.count('StopTrainingJob');
      // The last waiter's job completes: it gets its model.
      job!.script = [...job!.script.slice(0, job!.index + 1), STEPS.uploading, STEPS.completed];
      return { creatorStop, adopterStop, stopsWhileShared, last: await adopters[1]!.result(), lastId: adopters[1]!.workflowId };
    });

    expect(sagemaker.count('CreateTrainingJob')).toBe(1);
    expect(outcome.stopsWhileShared).toBe(0);
    expect(outcome.creatorStop).toMatchObject({
      status: 'LeftRunning',
      leftRunningFor: expect.arrayContaining([outcome.lastId]) as unknown,
    });
    expect(outcome.creatorStop?.leftRunningFor).toHaveLength(2);
    expect(outcome.adopterStop).toEqual({ jobName: outcome.last.jobName, status: 'LeftRunning', leftRunningFor: [outcome.lastId] });
    expect(outcome.last).toMatchObject({ reused: false, artifactsUri: expect.stringContaining('model.tar.gz') as unknown });
    expect(sagemaker.count('StopTrainingJob')).toBe(0);
  });

  it('backs off and keeps polling while SageMaker throttles DescribeTrainingJob', async () => {
    const sagemaker = new ScriptedSageMaker();
    let waits = 0;
    sagemaker.onDescribe = (_name, job) => {
      if (job.index === 2) sagemaker.throttleNextDescribes = 3; // mid-training: three "Rate exceeded" in a row
    };
    const h = harness(sagemaker);
    const countingActivities = {
      ...h.activities,
      waitForTrainingJob: (...args: Parameters<typeof h.activities.waitForTrainingJob>) => {
        waits += 1;
        return h.activities.waitForTrainingJob(...args);
      },
    };
    const result = await h.run(input, countingActivities, 'fineTune-throttled-polls');

    expect(result.throttledPolls).toBe(3);
    expect(waits).toBe(1); // absorbed inside the attempt: the activity never failed
    expect(result.artifactsUri).toMatch(/model\.tar\.gz$/);
  });

  it('falls back to the next instance type on quota (at create) and capacity (job Failed) errors', async () => {
    const sagemaker = new ScriptedSageMaker();
    sagemaker.createErrors.set('ml.g5.2xlarge', quotaError('ml.g5.2xlarge'));
    sagemaker.scriptFor = (request) =>
      request.ResourceConfig?.InstanceType === 'ml.g5.4xlarge' ? [STEPS.starting, STEPS.noCapacity] : HAPPY_PATH;
    const result = await harness(sagemaker).run(input, undefined, 'fineTune-capacity-fallback');

    expect(result.instanceType).toBe('ml.g6.2xlarge');
    expect(result.attempts.map((attempt) => [attempt.instanceType, attempt.outcome])).toEqual([
      ['ml.g5.2xlarge', 'quota'],
      ['ml.g5.4xlarge', 'capacity'],
      ['ml.g6.2xlarge', 'completed'],
    ]);
    expect(result.attempts[0]?.reason).toMatch(/ResourceLimitExceeded/);
    expect(result.attempts[1]?.reason).toMatch(/Unable to provision requested ML compute capacity/);
    // One name per instance type, so each attempt is describable (and adoptable) on its own.
    expect(new Set(result.attempts.map((attempt) => attempt.jobName)).size).toBe(3);
    expect(sagemaker.jobs.size).toBe(2);
  });

  it('reuses a completed job with the same inputs; force trains again under a new name', async () => {
    const h = harness();
    const first = await h.run();
    const again = await h.run();
    expect(again).toMatchObject({ jobName: first.jobName, reused: true, artifactsUri: first.artifactsUri });
    expect(h.sagemaker.count('CreateTrainingJob')).toBe(1);

    const forced = await h.run({ ...input, force: true });
    expect(forced.jobName).not.toBe(first.jobName);
    expect(forced.reused).toBe(false);
    expect(h.sagemaker.count('CreateTrainingJob')).toBe(2);
  });

  it('rejects bad input at once, naming the fields', async () => {
    const failure = await workflowFailureOf(
      harness().run({ datasetUri: 'datasets/x', hyperparameters: { lora: { r: 0 } }, instanceCount: 2 } as never),
    );
    expect(failure.type).toBe('ValidationError');
    expect(failure.message).toMatch(/datasetUri: must be an S3 URI/);
    expect(failure.message).toMatch(/hyperparameters\.lora\.r/);
    expect(failure.message).toMatch(/instanceCount: only 1 is supported/);
  });
});
