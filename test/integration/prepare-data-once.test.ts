import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  datasetBuildWorkflowId,
  ManifestSchema,
  PREPARE_DATA_WORKFLOW_TYPE,
  type PrepareDataInput,
  type PrepareDataWorkflow,
} from '../../common/prepare-data/contract';
import { cliEnv, runCli } from '../helpers/cli';
import { recordHistoryIfAsked } from '../helpers/replay';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';
import { until } from '../helpers/until';

// Runs of one source started together build its dataset once: the build runs in a child workflow with
// one id per dataset, and Temporal starts one execution of an id at a time; the other runs wait for its
// manifest. The build is held at a gate here, so the runs really overlap.

jest.setTimeout(120_000);

const CORPUS = join(__dirname, '../../examples/corpus');
const input: PrepareDataInput = { source: { kind: 'local', path: CORPUS } };

let gate: { open: () => void; opened: Promise<void> };
function closeGate(): void {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  gate = { open, opened };
}
/** buildDataset waits at the gate (or for its cancellation) before it does its work. */
const heldAtGate: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    async execute(request, next) {
      if (context.info.activityType === 'buildDataset') await Promise.race([gate.opened, context.cancelled]);
      return next(request);
    },
  },
});

let trainUploads: string[] = [];
const stack = useStackWorkers({
  roles: ['control', 'data'],
  scope: 'each',
  // Several data slots, as several data workers would have: the runs plan while the build is held.
  config: () => testConfig({ LLMTWIN_DATA_CONCURRENCY: '6' }),
  activityInterceptors: [heldAtGate],
  beforeStart: (aws) =>
    aws.s3.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (/^(PutObject|CreateMultipartUpload)Command$/.test(context.commandName ?? '') && key.endsWith('/train.jsonl'))
          trainUploads.push(key);
        return next(args);
      },
      { step: 'initialize', name: 'countTrainUploads' },
    ),
});

beforeEach(() => {
  trainUploads = [];
  closeGate();
});
afterEach(() => gate.open());

function start(): Promise<WorkflowHandle<PrepareDataWorkflow>> {
  return stack.client.workflow.start<PrepareDataWorkflow>(PREPARE_DATA_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId('prepare-data-once'),
    args: [input],
  });
}

async function pendingActivityTypes(handle: WorkflowHandle): Promise<string[]> {
  const description = await handle.describe();
  return (description.raw.pendingActivities ?? []).map((activity) => activity.activityType?.name ?? '');
}

/** The build's workflow id, once the run that started it shows it as its child. */
async function buildStartedBy(handle: WorkflowHandle): Promise<string> {
  let building: string | undefined;
  await until(async () => (building = (await handle.describe()).raw.pendingChildren?.[0]?.workflowId ?? undefined) !== undefined);
  return building!;
}

async function builtBy(datasetHash: string): Promise<string | undefined> {
  const key = `${stack.config.s3.prefix}datasets/${datasetHash}/manifest.json`;
  const object = await stack.aws.s3.send(new GetObjectCommand({ Bucket: stack.config.s3.bucket, Key: key }));
  return ManifestSchema.parse(JSON.parse(await object.Body!.transformToString())).builtBy?.workflowId;
}

it('five runs of one source started together build and upload its dataset once; four say they reused it', async () => {
  const handles = await Promise.all([start(), start(), start(), start(), start()]);
  // One of them started the build; the other four wait for its manifest.
  await until(
    async () => (await Promise.all(handles.map(pendingActivityTypes))).flat().filter((type) => type === 'awaitDataset').length === 4,
  );
  const building = await Promise.any(handles.map(buildStartedBy));
  gate.open();

  const results = await Promise.all(handles.map((handle) => handle.result()));
  const datasetHash = results[0]!.datasetHash;
  expect(building).toBe(datasetBuildWorkflowId(stack.queues.control, datasetHash));
  expect(results.map((result) => result.datasetHash)).toEqual(Array(5).fill(datasetHash));
  expect(results.map((result) => result.reused).sort()).toEqual([false, true, true, true, true]);
  expect(results.every((result) => result.trainUri === results[0]!.trainUri)).toBe(true);
  expect(trainUploads).toHaveLength(1);
  expect(await builtBy(datasetHash)).toBe(building);

  const owner = handles[results.findIndex((result) => !result.reused)]!;
  const waiter = handles[results.findIndex((result) => result.reused)]!;
  await recordHistoryIfAsked(owner, 'prepareData-built-once');
  await recordHistoryIfAsked(waiter, 'prepareData-waited-for-build');
  await recordHistoryIfAsked(stack.client.workflow.getHandle(building), 'datasetBuild-built');
});

it('a run waiting for another run’s build builds the dataset itself when that run is cancelled', async () => {
  const owner = await start();
  const building = await buildStartedBy(owner);
  const waiter = await start();
  await until(async () => (await pendingActivityTypes(waiter)).includes('awaitDataset'));

  await owner.cancel();
  const cancelled = await owner.result().catch((error: unknown) => error);
  expect(cancelled).toBeInstanceOf(WorkflowFailedError);
  expect((cancelled as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  // The build was cancelled with its run, before it uploaded anything.
  expect((await stack.client.workflow.getHandle(building).describe()).status.name).toBe('CANCELLED');
  expect(trainUploads).toEqual([]);
  gate.open();

  // The waiter's next look finds no build running and starts it, under the same id.
  const result = await waiter.result();
  expect(result.reused).toBe(false);
  expect(trainUploads).toHaveLength(1);
  expect(await builtBy(result.datasetHash)).toBe(building);
});

it('llmtwin prepare-data, started while another run builds the dataset, says it waits for that build and prints the dataset as reused', async () => {
  const owner = await start();
  const building = await buildStartedBy(owner);
  const cli = runCli(['prepare-data', '--source', 'examples/corpus'], cliEnv(stack.config));
  // The CLI's run waits: the build is held at the gate until the CLI has shown a few looks at it.
  let waiting = 0;
  await until(async () => {
    for await (const execution of stack.client.workflow.list({
      query: `TaskQueue = "${stack.queues.control}" AND ExecutionStatus = "Running"`,
    }))
      if ((await pendingActivityTypes(stack.client.workflow.getHandle(execution.workflowId))).includes('awaitDataset')) waiting += 1;
    return waiting > 0;
  }, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  gate.open();

  const { code, stdout, stderr } = await cli;
  expect({ code, stderr }).toMatchObject({ code: 0 });
  expect(stderr).toContain(`waiting: another run builds this dataset (workflow ${building})`);
  expect(stdout).toContain('(already there: nothing uploaded)');
  expect((await owner.result()).reused).toBe(false);
  expect(trainUploads).toHaveLength(1);
});
