import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { Command } from 'commander';
import { resolveConfig } from '../common/config';
import { datasetBuildWorkflowId } from '../common/prepare-data/contract';
import {
  PIPELINE_STAGES,
  PIPELINE_WORKFLOW_TYPE,
  type PipelineInput,
  type PipelineStage,
  type PipelineWorkflow,
} from '../common/pipeline/contract';
import { taskQueuesFor } from '../common/shared/task-queues';
import { createAwsClients, destroyAwsClients } from '../platform/aws-clients';
import { createLogger } from '../platform/logger';
import { PROJECT_ROOT } from '../platform/paths';
import { connectClient } from '../platform/temporal-client';
import { freePort } from '../scripts/dev-stack/health';
import { startStack, stopStack, type StackOptions } from '../scripts/dev-stack/stack';
import { buildWorkers, installRuntime } from '../workers/run-workers';
import { emulateJobOutputs, queueEndpointAnswer } from '../test/helpers/moto-job-outputs';
import { resetMoto } from '../test/helpers/stack';
import { runStagesInPlainScript } from './pipeline-plain';

/**
 * `node_modules/.bin/tsx bench/pipeline.ts [--rounds 3]`
 *
 * twinPipeline end to end on a dev stack of its own (Temporal dev server + moto on free ports), on
 * SageMaker compute against moto, where jobs finish at once: what is left is the orchestration and
 * the activities' own work (packing the corpus into a dataset, uploading code, the AWS calls). Each
 * round runs, from an empty moto account each time: the pipeline (workers in this process, as
 * workers/main.ts builds them), the same pipeline again (every stage reused), and the same activities
 * called one after another in a plain script (bench/pipeline-plain.ts), no Temporal in between.
 * Prints each stage's wall time both ways, the pipeline's overhead, and the ratio against its target
 * (the pipeline takes at most 1.5 times the plain script), medians over the rounds after a warm-up.
 */
const TARGET_RATIO = 1.5;
const EventType = temporal.api.enums.v1.EventType;

async function main(): Promise<void> {
  const options = new Command('bench:pipeline')
    .option('--rounds <n>', 'measured rounds, after one warm-up round', (value) => Number(value), 3)
    .parse()
    .opts<{ rounds: number }>();
  console.log(
    `pipeline bench: ${options.rounds} rounds (+1 warm-up) on moto, SageMaker compute; ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'llmtwin-bench-pipeline-'));
  const stack: StackOptions = { dataDir, temporalPort: await freePort(), uiPort: null, motoPort: await freePort(), namespace: 'default' };
  await startStack(stack);
  const motoUrl = `http://127.0.0.1:${stack.motoPort}`;
  const config = resolveConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${stack.temporalPort}`,
    AWS_ENDPOINT_URL: motoUrl,
    LLMTWIN_TASK_QUEUE: 'bench-pipeline',
    LLMTWIN_COMPUTE_BACKEND: 'sagemaker',
    // moto refuses ml.g5.* in endpoint configs.
    LLMTWIN_INFERENCE_INSTANCE_TYPE: 'ml.m5.large',
    LLMTWIN_SOURCE_ROOTS: PROJECT_ROOT,
    LLMTWIN_METRICS_PORT: '0',
    LLMTWIN_LOG_LEVEL: 'warn',
  });
  installRuntime(config, createLogger('warn', 'bench-pipeline'));
  const aws = createAwsClients(config);
  emulateJobOutputs(aws);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const client = await connectClient(config);
  const queues = taskQueuesFor(config.temporal.taskQueue);
  const workers = await buildWorkers({ config, roles: ['control', 'data'], aws, connection });
  const running = Promise.all(workers.map((worker) => worker.run()));

  const input: PipelineInput = {
    source: { kind: 'local', path: join(PROJECT_ROOT, 'examples/corpus') },
    twin: 'bench',
    prepareData: { author: { name: 'Wren Castellanos' } },
    // The monitor is a workflow of its own that outlives the run: not part of either path here.
    deploy: { monitor: { enabled: false } },
  };
  const rounds: Round[] = [];
  try {
    for (let round = 0; round <= options.rounds; round += 1) {
      await resetMoto(motoUrl);
      await queueEndpointAnswer(motoUrl);
      const pipeline = await timed(() =>
        client.workflow.execute<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
          taskQueue: queues.control,
          workflowId: `bench-pipeline-${round}`,
          args: [input],
        }),
      );
      if (pipeline.value.outcome !== 'served') throw new Error(`round ${round}: the pipeline ended ${pipeline.value.outcome}`);
      const steps = await orchestrationSteps(client, [
        `bench-pipeline-${round}`,
        ...pipeline.value.stages.map((stage) => stage.workflowId),
        // prepareData builds the dataset in a child of its own (one per dataset).
        datasetBuildWorkflowId(queues.control, pipeline.value.dataset.datasetHash),
      ]);
      const rerun = await timed(() =>
        client.workflow.execute<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
          taskQueue: queues.control,
          workflowId: `bench-pipeline-${round}-again`,
          args: [input],
        }),
      );
      const reusedAll = rerun.value.stages.every((stage) => stage.status === 'reused');
      if (!reusedAll) throw new Error(`round ${round}: the rerun did not reuse every stage: ${JSON.stringify(rerun.value.stages)}`);

      await resetMoto(motoUrl);
      await queueEndpointAnswer(motoUrl);
      const plain = await timed(() => runStagesInPlainScript({ config, aws }, input, `bench-plain-${round}`));
      const stageSeconds = Object.fromEntries(
        pipeline.value.stages.map((stage) => [stage.stage, (Date.parse(stage.endedAt!) - Date.parse(stage.startedAt!)) / 1000]),
      ) as Record<PipelineStage, number>;
      const entry: Round = {
        pipelineS: pipeline.seconds,
        rerunS: rerun.seconds,
        plainS: plain.seconds,
        stageSeconds,
        plainStageSeconds: plain.value,
        steps,
      };
      console.log(
        `${round === 0 ? 'warm-up' : `round ${round}`}: pipeline ${entry.pipelineS.toFixed(2)} s, plain script ${entry.plainS.toFixed(2)} s, ` +
          `ratio ${(entry.pipelineS / entry.plainS).toFixed(2)}; rerun (all reused) ${entry.rerunS.toFixed(2)} s`,
      );
      if (round > 0) rounds.push(entry);
    }
  } finally {
    for (const worker of workers) worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await client.connection.close();
    destroyAwsClients(aws);
    await stopStack(stack);
    rmSync(dataDir, { recursive: true, force: true });
  }

  const pipelineS = median(rounds.map((round) => round.pipelineS));
  const plainS = median(rounds.map((round) => round.plainS));
  const rerunS = median(rounds.map((round) => round.rerunS));
  const ratio = pipelineS / plainS;
  const stages = Object.fromEntries(
    PIPELINE_STAGES.map((stage) => [
      stage,
      {
        pipelineS: median(rounds.map((round) => round.stageSeconds[stage])),
        plainS: median(rounds.map((round) => round.plainStageSeconds[stage])),
      },
    ]),
  ) as Record<PipelineStage, { pipelineS: number; plainS: number }>;
  console.log('\nstage          pipeline   plain script   overhead   (medians)');
  for (const stage of PIPELINE_STAGES) {
    const { pipelineS: inPipeline, plainS: inPlain } = stages[stage];
    console.log(`${stage.padEnd(14)} ${seconds(inPipeline)}   ${seconds(inPlain)}       ${seconds(inPipeline - inPlain)}`);
  }
  console.log(`${'total'.padEnd(14)} ${seconds(pipelineS)}   ${seconds(plainS)}       ${seconds(pipelineS - plainS)}`);
  const steps: Steps = {
    ...rounds[0]!.steps,
    workflowTaskMs: median(rounds.map((round) => round.steps.workflowTaskMs)),
    activityMs: median(rounds.map((round) => round.steps.activityMs)),
    dispatchMs: median(rounds.map((round) => round.steps.dispatchMs)),
  };
  const perTaskMs = ((pipelineS - plainS) * 1000) / steps.workflowTasks;
  console.log(
    `\nthe pipeline ran ${steps.workflows} workflows, ${steps.activities} activities and ${steps.workflowTasks} workflow tasks: ` +
      `its overhead is ${perTaskMs.toFixed(0)} ms per workflow task (each a round trip through the Temporal server)`,
  );
  console.log(
    `where its time went, from the histories' event times (medians; a parent's and a child's tasks may overlap): ` +
      `workflow tasks ${steps.workflowTaskMs.toFixed(0)} ms (${(steps.workflowTaskMs / steps.workflowTasks).toFixed(1)} ms each, ` +
      `started to completed: the worker runs the code in its sandbox), activities ${steps.activityMs.toFixed(0)} ms ` +
      `(the plain script: ${(plainS * 1000).toFixed(0)} ms), dispatch ${steps.dispatchMs.toFixed(0)} ms (scheduled to started)`,
  );
  console.log(
    `pipeline / plain script: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}); ` +
      `a rerun on the unchanged source (every stage reused, nothing created): ${rerunS.toFixed(2)} s`,
  );
  console.log(
    JSON.stringify({
      bench: 'pipeline',
      rounds: rounds.length,
      pipelineS: round3(pipelineS),
      plainS: round3(plainS),
      overheadS: round3(pipelineS - plainS),
      ratio: round3(ratio),
      targetRatio: TARGET_RATIO,
      met: ratio <= TARGET_RATIO,
      rerunS: round3(rerunS),
      ...Object.fromEntries(Object.entries(steps).map(([key, value]: [string, number]) => [key, Math.round(value)])),
      overheadMsPerWorkflowTask: round3(perTaskMs),
      stages: Object.fromEntries(
        Object.entries(stages).map(([stage, value]) => [stage, { pipelineS: round3(value.pipelineS), plainS: round3(value.plainS) }]),
      ),
    }),
  );
}

interface Round {
  pipelineS: number;
  rerunS: number;
  plainS: number;
  stageSeconds: Record<PipelineStage, number>;
  plainStageSeconds: Record<PipelineStage, number>;
  steps: Steps;
}

interface Steps {
  workflows: number;
  activities: number;
  workflowTasks: number;
  /** Summed over the runs' histories (overlapping runs count each): where the pipeline's time went. */
  workflowTaskMs: number;
  activityMs: number;
  dispatchMs: number;
}

/**
 * What the orchestration did, read from the runs' histories: each workflow task is a round trip to the
 * server. From the events' times: a workflow task's time from started to completed (the worker runs
 * the workflow's code in its sandbox and sends the commands back), an activity's from started to
 * completed (its own work), and the dispatch time from each task's scheduling to its start (the server
 * matching it to a poller).
 */
async function orchestrationSteps(client: Client, workflowIds: string[]): Promise<Steps> {
  const steps: Steps = { workflows: workflowIds.length, activities: 0, workflowTasks: 0, workflowTaskMs: 0, activityMs: 0, dispatchMs: 0 };
  for (const workflowId of workflowIds) {
    const since = new Map<string, number>();
    for (const event of (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) {
      const at = Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
      const elapsed = (key: string) => at - (since.get(key) ?? at);
      switch (event.eventType) {
        case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
          since.set(`scheduled ${String(event.eventId)}`, at);
          if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) steps.activities += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
          steps.dispatchMs += elapsed(`scheduled ${String(event.workflowTaskStartedEventAttributes?.scheduledEventId)}`);
          since.set(`started ${String(event.eventId)}`, at);
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
          steps.dispatchMs += elapsed(`scheduled ${String(event.activityTaskStartedEventAttributes?.scheduledEventId)}`);
          since.set(`started ${String(event.eventId)}`, at);
          break;
        case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
          steps.workflowTasks += 1;
          steps.workflowTaskMs += elapsed(`started ${String(event.workflowTaskCompletedEventAttributes?.startedEventId)}`);
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
          steps.activityMs += elapsed(`started ${String(event.activityTaskCompletedEventAttributes?.startedEventId)}`);
          break;
      }
    }
  }
  return steps;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - start) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const seconds = (value: number) => `${value.toFixed(2).padStart(6)} s`;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
