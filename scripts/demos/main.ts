import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { effectiveComputeBackend, type LlmtwinConfig } from '../../common/config';
import type { PrepareDataInput, PrepareDataResult, PrepareDataWorkflow } from '../../common/prepare-data/contract';
import { taskQueuesFor } from '../../common/shared/task-queues';
import type { EvaluateWorkflow } from '../../common/evaluate/contract';
import type { FineTuneResult, FineTuneWorkflow } from '../../common/fine-tune/contract';
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
import type { DeployWorkflow } from '../../common/deploy/contract';
import {
  PIPELINE_WORKFLOW_TYPE,
  progressQuery,
  type PipelineInput,
  type PipelineResult,
  type PipelineStage,
  type PipelineWorkflow,
} from '../../common/pipeline/contract';
import { progressLine } from '../commands/pipeline';
import type { IdleMonitorWorkflow, IdlePolicyInput } from '../../common/idle/contract';
import { localServingFor } from '../../platform/local-endpoints';
import { deployedLines } from '../commands/deploy';

/** Seconds, not the default hour, so the demo shows the endpoint deleted once nobody calls it. */
const DEMO_MONITOR: IdlePolicyInput & { checkInterval: string; window: string } = { checkInterval: '3s', window: '20s', grace: '15s' };
const DEMO_PROMPT = 'What do you write about?';

/** The sample corpus: the writing of Wren Castellanos, a fictional engineer and blogger. */
const SAMPLE_CORPUS: PrepareDataInput = {
  source: { kind: 'local', path: 'examples/corpus' },
  author: { name: 'Wren Castellanos', handle: 'saltandsolder' },
};

/**
 * The README's main command, after setup and `dev start`: runs the workers in this process and drives
 * the most complete path that exists through them, printing where everything landed. Each stage that
 * lands extends this path: stack check -> twinPipeline (prepare data -> fine-tune -> evaluate -> deploy) -> invoke -> idle monitor.
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

    // The whole twin in one durable run: twinPipeline runs each stage as a child workflow (each its own
    // run in the Web UI). On the embedded stack every job runs on this machine (local compute): jobs/train
    // trains the toy base model for real on CPU, jobs/evaluate scores it, jobs/serve serves it. Against
    // AWS the same workflows run SageMaker jobs and a vLLM endpoint.
    const local = effectiveComputeBackend(config) === 'local';
    const pipelineInput: PipelineInput = {
      source: SAMPLE_CORPUS.source,
      twin: 'wren',
      prepareData: { author: SAMPLE_CORPUS.author },
      evaluate: { gate: { thresholds: { perplexity: 100 } } },
      // The demo serves locally; with compute.backend sagemaker it stops at the registry (run llmtwin deploy against AWS).
      deploy: local ? { monitor: DEMO_MONITOR } : { enabled: false },
    };
    const result = await run.stage(
      `twinPipeline (${local ? 'local compute: train on CPU about a minute, evaluate, serve' : 'SageMaker jobs'})`,
      'pipeline',
      (workflowId) => followPipeline(client, run.queue, workflowId, pipelineInput),
    );
    await printStages(client, result);

    if (result.deployment) {
      await askTheTwin(config, result.deployment.endpointName);
      // Nobody calls it any more: its idle monitor (started by deploy) deletes it, and the server stops.
      const monitorId = result.deployment.monitor?.workflowId ?? '';
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

/** Starts the pipeline and prints its progress (one line per change) until it ends. */
async function followPipeline(client: Client, taskQueue: string, workflowId: string, input: PipelineInput): Promise<PipelineResult> {
  const handle = await client.workflow.start<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, { taskQueue, workflowId, args: [input] });
  let done = false;
  const result = handle.result().finally(() => (done = true));
  let last = '';
  while (!done) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    const line = progress ? progressLine(progress) : '';
    if (line && line !== last) console.log(`   ${line}`);
    last = line;
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
  }
  return result;
}

/** What each stage made, read from its own run (a child of the pipeline's). */
async function printStages(client: Client, result: PipelineResult): Promise<void> {
  const runOf = (stage: PipelineStage) => result.stages.find((entry) => entry.stage === stage)?.workflowId ?? '';
  const dataset = await client.workflow.getHandle<PrepareDataWorkflow>(runOf('prepare-data')).result();
  console.log(`\n   -- prepare data (${runOf('prepare-data')})`);
  printDataset(dataset);
  console.log(`   -- fine-tune (${runOf('fine-tune')})`);
  printModel(await client.workflow.getHandle<FineTuneWorkflow>(runOf('fine-tune')).result());
  console.log(`   -- evaluate (${runOf('evaluate')})`);
  for (const line of verdictLines(await client.workflow.getHandle<EvaluateWorkflow>(runOf('evaluate')).result())) console.log(`   ${line}`);
  if (result.deployment) {
    console.log(`   -- deploy (${runOf('deploy')})`);
    for (const line of deployedLines(await client.workflow.getHandle<DeployWorkflow>(runOf('deploy')).result())) console.log(`   ${line}`);
  }
}

/** One question to the deployed twin through the client library, its answer streamed as it comes. */
async function askTheTwin(config: LlmtwinConfig, endpointName: string): Promise<void> {
  const aws = createAwsClients(config);
  try {
    const twin = await openTwin({ sagemaker: aws.sagemaker, runtime: aws.sagemakerRuntime }, endpointName, localServingFor(config));
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
  // The causes too: "Failed to get Workflow execution history" alone does not say the server went away.
  const reasons: string[] = [];
  for (let cause: unknown = error; reasons.length < 5; cause = cause.cause) {
    if (!(cause instanceof Error)) {
      if (typeof cause === 'string') reasons.push(cause);
      break;
    }
    reasons.push(cause.message);
  }
  console.error(`demo failed: ${reasons.join('\n  because: ')}`);
  if (reasons.some((reason) => /UNAVAILABLE|ECONNREFUSED|Connection refused/i.test(reason)))
    console.error('  (the dev stack is not answering: was it stopped? `npm run dev -- status` says; `npm start` starts it again)');
  process.exit(1);
});
