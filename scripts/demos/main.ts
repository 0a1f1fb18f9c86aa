import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { effectiveComputeBackend, type LlmtwinConfig } from '../../common/config';
import {
  PREPARE_DATA_WORKFLOW_TYPE,
  type PrepareDataInput,
  type PrepareDataResult,
  type PrepareDataWorkflow,
} from '../../common/prepare-data/contract';
import { taskQueuesFor } from '../../common/shared/task-queues';
import { EVALUATE_WORKFLOW_TYPE, type EvaluateInput, type EvaluateWorkflow } from '../../common/evaluate/contract';
import { FINE_TUNE_WORKFLOW_TYPE, type FineTuneInput, type FineTuneResult, type FineTuneWorkflow } from '../../common/fine-tune/contract';
import { STACK_CHECK_WORKFLOW_TYPE, type StackCheckWorkflow } from '../../common/stack-check/contract';
import { createAwsClients, destroyAwsClients } from '../../platform/aws-clients';
import { loadConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { connectClient } from '../../platform/temporal-client';
import { runWorkers } from '../../workers/run-workers';
import { verdictLines } from '../commands/evaluate';
import { modelSummary } from '../commands/fine-tune';
import { datasetSummary } from '../commands/prepare-data';
import { DEFAULT_STACK, stackInfo } from '../dev-stack/stack';
import { watchMonitor } from './idle';
import { invokeTwin, openTwin } from '../../client/invoke';
import { DEPLOY_WORKFLOW_TYPE, type DeployInput, type DeployWorkflow } from '../../common/deploy/contract';
import type { IdleMonitorWorkflow, IdlePolicyInput } from '../../common/idle/contract';
import { projectPath } from '../../platform/paths';
import { deployedLines } from '../commands/deploy';

/** Seconds, not the default hour, so the demo shows the endpoint deleted once nobody calls it. */
const DEMO_MONITOR: IdlePolicyInput & { checkInterval: string; window: string } = { checkInterval: '3s', window: '20s', grace: '0s' };
const DEMO_PROMPT = 'What do you write about?';

/** The sample corpus: the writing of Wren Castellanos, a fictional engineer and blogger. */
const SAMPLE_CORPUS: PrepareDataInput = {
  source: { kind: 'local', path: 'examples/corpus' },
  author: { name: 'Wren Castellanos', handle: 'saltandsolder' },
};

/**
 * The README's main command, after setup and `dev start`: runs the workers in this process and drives
 * the most complete path that exists through them, printing where everything landed. Each stage that
 * lands extends this path: stack check -> prepare data -> fine-tune -> evaluate -> deploy -> invoke -> idle monitor.
 */
async function main(): Promise<void> {
  // Local endpoints publish their Invocations every few seconds here (a minute by default), so the
  // seconds-scale idle monitor below sees the demo's own call before it deletes the endpoint.
  const loaded = loadConfig();
  const config: LlmtwinConfig = { ...loaded, deploy: { ...loaded.deploy, localMetricsInterval: '3s' } };
  const logger = createLogger(process.env.LLMTWIN_LOG_LEVEL ?? 'error', 'llmtwin-demo');
  let stopWorkers!: () => void;
  const workersDone = runWorkers({
    config,
    roles: ['control', 'data', 'idle'],
    logger,
    until: new Promise<void>((done) => (stopWorkers = done)),
  });
  const client = await connectClient(config);
  const run = new DemoRun(client, config);
  try {
    const check = await run.stage('stack check', 'stack-check', (workflowId) =>
      client.workflow.execute<StackCheckWorkflow>(STACK_CHECK_WORKFLOW_TYPE, {
        taskQueue: run.queue,
        workflowId,
        args: [{ message: 'hello from the llmtwin demo', delay: '2s' }],
      }),
    );
    console.log(`   wrote ${check.uri} (${check.bytes} bytes) after a ${check.waitedMs / 1000} s durable timer`);

    const dataset = await run.stage('prepare data (examples/corpus)', 'prepare-data', (workflowId) =>
      client.workflow.execute<PrepareDataWorkflow>(PREPARE_DATA_WORKFLOW_TYPE, { taskQueue: run.queue, workflowId, args: [SAMPLE_CORPUS] }),
    );
    printDataset(dataset);

    // On the embedded stack the job runs on this machine (local compute): jobs/train trains the toy base
    // model for real on CPU, under SageMaker's container contract. Against AWS it is the GPU training job.
    // Same workflow, same activities, same names.
    const fineTuneInput: FineTuneInput = { datasetUri: dataset.datasetUri };
    const where =
      effectiveComputeBackend(config) === 'local'
        ? 'local compute: jobs/train on this machine, the toy base model on CPU, about a minute'
        : 'SageMaker training job';
    const model = await run.stage(`fine-tune (${where})`, 'fine-tune', (workflowId) =>
      client.workflow.execute<FineTuneWorkflow>(FINE_TUNE_WORKFLOW_TYPE, { taskQueue: run.queue, workflowId, args: [fineTuneInput] }),
    );
    printModel(model);

    // The twin against its base model on the held-out split, gated and registered as a version of twin
    // "wren" in the model registry (moto here). A rerun reuses the evaluation job and the version.
    const evaluateInput: EvaluateInput = { twin: 'wren', trainingJobName: model.jobName, gate: { thresholds: { perplexity: 100 } } };
    const verdict = await run.stage(
      `evaluate (${effectiveComputeBackend(config) === 'local' ? 'local compute' : 'SageMaker processing job'}: jobs/evaluate scores twin and base)`,
      'evaluate',
      (workflowId) =>
        client.workflow.execute<EvaluateWorkflow>(EVALUATE_WORKFLOW_TYPE, { taskQueue: run.queue, workflowId, args: [evaluateInput] }),
    );
    for (const line of verdictLines(verdict)) console.log(`   ${line}`);

    // The approved version served as an endpoint. On the embedded stack it is a local endpoint: recorded
    // in moto like any endpoint, served on this machine by jobs/serve; against AWS the vLLM container.
    if (effectiveComputeBackend(config) !== 'local') {
      console.log('\n== deploy: skipped (the demo serves locally; with compute.backend sagemaker, run llmtwin deploy against AWS)');
    } else {
      const deployInput: DeployInput = {
        twin: 'wren',
        ...(verdict.decision === 'approved' ? { modelVersionArn: verdict.modelVersion.arn } : { trainingJobName: model.jobName }),
        monitor: DEMO_MONITOR,
      };
      const deployed = await run.stage('deploy (local endpoint: jobs/serve on this machine, recorded in moto)', 'deploy', (workflowId) =>
        client.workflow.execute<DeployWorkflow>(DEPLOY_WORKFLOW_TYPE, { taskQueue: run.queue, workflowId, args: [deployInput] }),
      );
      for (const line of deployedLines(deployed)) console.log(`   ${line}`);
      await askTheTwin(config, deployed.endpointName);

      // Nobody calls it any more: its idle monitor (started by deploy) deletes it, and the server stops.
      const monitorId = deployed.monitor?.workflowId ?? '';
      await run.stage(
        `idle monitor (the deployed endpoint; check every ${DEMO_MONITOR.checkInterval}, delete after ${DEMO_MONITOR.window} without calls)`,
        monitorId,
        () => watchMonitor(client.workflow.getHandle<IdleMonitorWorkflow>(monitorId), (line) => console.log(line)),
        { exactId: true },
      );
    }
    console.log(`\nTemporal Web UI: ${run.ui}   (stack keeps running; stop it with: npm run dev -- stop)`);
  } finally {
    stopWorkers();
    await workersDone;
    await client.connection.close();
  }
}

class DemoRun {
  readonly ui = stackInfo(DEFAULT_STACK).uiUrl;
  readonly queue: string;
  readonly idleQueue: string;
  private readonly stamp = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 4)}`;

  constructor(
    private readonly client: Client,
    private readonly config: LlmtwinConfig,
  ) {
    this.queue = taskQueuesFor(config.temporal.taskQueue).control;
    this.idleQueue = taskQueuesFor(config.temporal.taskQueue).idle;
  }

  /** Prints the stage's Web UI link, runs it and reports how long it took. */
  async stage<T>(
    title: string,
    idPrefix: string,
    execute: (workflowId: string) => Promise<T>,
    options: { exactId?: boolean } = {},
  ): Promise<T> {
    const workflowId = options.exactId ? idPrefix : `${idPrefix}-${this.stamp}`;
    console.log(`\n== ${title}: ${this.ui}/namespaces/${this.config.temporal.namespace}/workflows/${workflowId}`);
    const started = Date.now();
    const result = await execute(workflowId);
    console.log(`   done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  }
}

function printDataset(dataset: PrepareDataResult): void {
  for (const line of datasetSummary(dataset)) console.log(`   ${line}`);
}

/** One question to the deployed twin through the client library, its answer streamed as it comes. */
async function askTheTwin(config: LlmtwinConfig, endpointName: string): Promise<void> {
  const aws = createAwsClients(config);
  try {
    const local = { jobsDir: projectPath(config.compute.local.jobsDir), resourceNamePrefix: config.resourceNamePrefix };
    const twin = await openTwin({ sagemaker: aws.sagemaker, runtime: aws.sagemakerRuntime }, endpointName, local);
    process.stdout.write(`   invoke "${DEMO_PROMPT}" ->`);
    const answer = await invokeTwin(twin, DEMO_PROMPT, {
      maxTokens: 40,
      onToken: (text) => process.stdout.write(text.replace(/\s+/g, ' ')),
    });
    console.log(`\n   (${answer.latencyMs} ms, streamed; the toy model writes letters and words of the corpus, not sense)`);
  } finally {
    destroyAwsClients(aws);
  }
}

function printModel(model: FineTuneResult): void {
  for (const line of modelSummary(model).filter((line) => !line.startsWith('metrics'))) console.log(`   ${line}`);
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
