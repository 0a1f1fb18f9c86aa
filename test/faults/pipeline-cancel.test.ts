import { join } from 'node:path';
import { ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import {
  PIPELINE_WORKFLOW_TYPE,
  progressQuery,
  type PipelineInput,
  type PipelineStage,
  type PipelineWorkflow,
} from '../../common/pipeline/contract';
import { PROJECT_ROOT } from '../../platform/paths';
import { jobProgramStarted, liveJobProcesses, scratchJobsDir } from '../helpers/local-jobs';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';
import { until } from '../helpers/until';

// The pipeline on local compute, cancelled in the middle of each stage that runs something: while the
// toy trains, while the evaluation job runs, while the endpoint is being made. Afterwards no training,
// evaluation or serving process of the run is alive, and no endpoint the run created remains.
jest.setTimeout(600_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir, LLMTWIN_DEPLOY_LOCAL_METRICS_INTERVAL: '2s' });
const stack = useStackWorkers({ roles: ['control', 'data', 'idle'], config: () => config });

// Each case trains with its own epochs: a training job stopped by a cancel is never reused (its inputs
// would fail the next run with "stopped before it completed", as designed).
const input = (twin: string, epochs: number): PipelineInput => ({
  source: { kind: 'local', path: join(PROJECT_ROOT, 'examples/corpus') },
  twin,
  fineTune: { hyperparameters: { epochs } },
  evaluate: { decoding: { maxNewTokens: 64 }, gate: { thresholds: { perplexity: 1_000 } } },
  deploy: { smokeTest: { maxTokens: 8 } },
});

const liveProcesses = () => liveJobProcesses(jobsDir);
const jobRunning = (prefix: string) => jobProgramStarted(jobsDir, prefix);

async function cancelDuring(stage: PipelineStage, ready: () => boolean | Promise<boolean>, epochs: number) {
  const handle: WorkflowHandle<PipelineWorkflow> = await stack.client.workflow.start<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId(`cancel-${stage}`),
    args: [input(uniqueId('wren'), epochs)],
  });
  await until(async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A run that ended before reaching the stage fails here, with its reason, not after the timeout.
    if ((await handle.describe()).status.name !== 'RUNNING') await handle.result();
    return (await handle.query(progressQuery)).current === stage && (await ready());
  }, 300_000);
  await handle.cancel();
  const error = await handle.result().then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  const progress = await handle.query(progressQuery);
  expect(progress.stages.find((entry) => entry.stage === stage)?.status).toBe('cancelled');
  // Stops are asynchronous at the edges (a program gets SIGTERM, then its grace): give them a moment.
  await until(() => liveProcesses().length === 0, 30_000).catch(() => undefined);
  expect(liveProcesses()).toEqual([]);
  expect((await stack.aws.sagemaker.send(new ListEndpointsCommand({}))).Endpoints ?? []).toEqual([]);
}

it('cancelled while the toy trains: the training process stops and nothing is served', async () => {
  await cancelDuring('fine-tune', () => jobRunning('llmtwin-train-'), 0.5);
});

it('cancelled while the evaluation job runs: it stops, and nothing is served', async () => {
  await cancelDuring('evaluate', () => jobRunning('llmtwin-eval-'), 0.6);
});

it('cancelled while the endpoint is being made: the half-made deployment is taken down, its server too', async () => {
  await cancelDuring('deploy', () => true, 0.7);
});
