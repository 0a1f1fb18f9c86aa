import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DeleteEndpointCommand, ListEndpointsCommand, ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import { invokeTwin, openTwin } from '../../client/invoke';
import { modelPackageGroupName } from '../../common/evaluate/registry';
import {
  PIPELINE_WORKFLOW_TYPE,
  progressQuery,
  type PipelineInput,
  type PipelineStage,
  type PipelineWorkflow,
} from '../../common/pipeline/contract';
import { parseS3Uri } from '../../common/shared/naming';
import { findLocalServer, isAlive } from '../../platform/local-endpoints';
import { PROJECT_ROOT } from '../../platform/paths';
import { scratchJobsDir } from '../helpers/local-jobs';
import { recordHistoryIfAsked } from '../helpers/replay';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// twinPipeline end to end on local compute: the sample corpus becomes a dataset, the toy is trained and
// evaluated for real, the approved version is served by a local endpoint that answers, and its idle
// monitor runs on. The same input again creates nothing new.
jest.setTimeout(600_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir, LLMTWIN_DEPLOY_LOCAL_METRICS_INTERVAL: '2s' });
const stack = useStackWorkers({ roles: ['control', 'data', 'idle'], config: () => config });

async function runPipeline(input: PipelineInput, workflowId = uniqueId('pipeline')) {
  const handle = await stack.client.workflow.start<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId,
    args: [input],
  });
  // The progress query answers at every stage: record which stage was running at each look.
  const seen = new Set<PipelineStage | 'done' | null>();
  let finished = false;
  const result = handle.result().finally(() => (finished = true));
  while (!finished) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress) seen.add(progress.current);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { handle, result: await result, seen };
}

const jobs = (prefix: string) => readdirSync(jobsDir).filter((name) => name.startsWith(prefix));

it('runs every stage once, serves a twin that answers and leaves its monitor running; the same input again creates nothing', async () => {
  const twin = uniqueId('wren');
  const input: PipelineInput = {
    source: { kind: 'local', path: join(PROJECT_ROOT, 'examples/corpus') },
    twin,
    prepareData: { author: { name: 'Wren Castellanos' } },
    evaluate: { decoding: { maxNewTokens: 32 }, gate: { thresholds: { perplexity: 1_000 } } },
    deploy: { smokeTest: { maxTokens: 8 } },
  };
  // Named as its recorded history: the replay test replays it under the same id (the children's derive from it).
  const first = await runPipeline(input, 'twinPipeline-served');
  await recordHistoryIfAsked(first.handle, 'twinPipeline-served');
  const { result } = first;

  expect(result.outcome).toBe('served');
  expect(result.stages.map((stage) => stage.status)).toEqual(['done', 'done', 'done', 'done']);
  expect([...first.seen]).toEqual(expect.arrayContaining(['prepare-data', 'fine-tune', 'evaluate', 'deploy']));
  const manifest = parseS3Uri(`${result.dataset.datasetUri}manifest.json`);
  await stack.aws.s3.send(new HeadObjectCommand({ Bucket: manifest.bucket, Key: manifest.key }));
  expect(jobs('llmtwin-train-')).toHaveLength(1);
  expect(jobs('llmtwin-eval-')).toHaveLength(1);
  for (const value of Object.values(result.evaluation.metrics.twin)) expect(Number.isFinite(value)).toBe(true);
  const group = modelPackageGroupName(config.resourceNamePrefix, twin);
  const versions = (await stack.aws.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }))).ModelPackageSummaryList;
  expect(versions).toHaveLength(1);
  const endpointName = result.deployment!.endpointName;
  expect((await stack.aws.sagemaker.send(new ListEndpointsCommand({}))).Endpoints?.map((endpoint) => endpoint.EndpointName)).toEqual([
    endpointName,
  ]);
  const local = { jobsDir, resourceNamePrefix: config.resourceNamePrefix };
  const target = await openTwin({ sagemaker: stack.aws.sagemaker, runtime: stack.aws.sagemakerRuntime }, endpointName, local);
  expect(typeof (await invokeTwin(target, 'What do you write about?', { maxTokens: 8 })).text).toBe('string');
  const monitor = stack.client.workflow.getHandle(result.deployment!.monitor!.workflowId);
  expect((await monitor.describe()).status.name).toBe('RUNNING');

  const second = await runPipeline(input);
  expect(second.result.outcome).toBe('served');
  expect(second.result.stages.map((stage) => stage.status)).toEqual(['reused', 'reused', 'reused', 'reused']);
  expect(jobs('llmtwin-train-')).toHaveLength(1);
  expect(jobs('llmtwin-eval-')).toHaveLength(1);
  expect(
    (await stack.aws.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }))).ModelPackageSummaryList,
  ).toHaveLength(1);
  expect(second.result.deployment).toMatchObject({ endpointName, action: 'unchanged' });

  // Clean up what outlives the runs: the monitor, then the endpoint (its server stops by itself).
  const server = findLocalServer(jobsDir, config.resourceNamePrefix, result.deployment!.configName);
  expect(server).toBeDefined();
  await monitor.terminate('test over');
  await stack.aws.sagemaker.send(new DeleteEndpointCommand({ EndpointName: endpointName }));
  const deadline = Date.now() + 60_000;
  while (isAlive(server!.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
  expect(isAlive(server!.pid)).toBe(false);
});
