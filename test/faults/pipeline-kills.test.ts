import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListEndpointConfigsCommand, ListEndpointsCommand, ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import { Client, Connection } from '@temporalio/client';
import { modelPackageGroupName } from '../../common/evaluate/registry';
import { setPolicySignal } from '../../common/idle/contract';
import {
  PIPELINE_WORKFLOW_TYPE,
  progressQuery,
  type PipelineInput,
  type PipelineStage,
  type PipelineWorkflow,
} from '../../common/pipeline/contract';
import { destroyAwsClients } from '../../platform/aws-clients';
import { findLocalServer, isAlive } from '../../platform/local-endpoints';
import { PROJECT_ROOT } from '../../platform/paths';
import { cliEnv } from '../helpers/cli';
import { jobProgramStarted, liveJobProcesses, scratchJobsDir } from '../helpers/local-jobs';
import { resetMoto, testAwsClients, testConfig } from '../helpers/stack';
import { uniqueId } from '../helpers/temporal';
import { until } from '../helpers/until';
import { spawnWorker } from '../helpers/worker-process';

// One pipeline on local compute whose worker is SIGKILLed in the middle of every stage (the data build,
// the training job, the evaluation job, the endpoint's creation) and once more while the idle monitor
// waits; each time a new worker process starts in its place. The run still serves, every resource exists once,
// nothing is left behind (no job process, no scratch folder, no multipart upload), and the monitor
// still deletes the endpoint once its (shortened) window has passed.
jest.setTimeout(600_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir, LLMTWIN_DEPLOY_LOCAL_METRICS_INTERVAL: '2s' });
const env = cliEnv(config, { LLMTWIN_LOCAL_JOBS_DIR: jobsDir, LLMTWIN_DEPLOY_LOCAL_METRICS_INTERVAL: '2s' });
const startWorker = () => spawnWorker(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', 'control,data,idle'], env);
const jobs = (prefix: string) => readdirSync(jobsDir).filter((name) => name.startsWith(prefix));

it('a worker SIGKILLed in every stage and in the idle wait: the run serves, makes each thing once and leaves nothing', async () => {
  await resetMoto();
  const aws = testAwsClients(config);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  let worker = startWorker();
  const kills: string[] = [];
  /**
   * SIGKILL the moment a stage is seen running, then a new worker process, as a restart would bring up:
   * at start it reads the dead one's attempt journal and reports its attempts, so the work goes on at
   * once (workers/attempt-journal.ts) instead of after each attempt's heartbeat timeout.
   */
  const killWorker = async (during: string) => {
    worker.child.kill('SIGKILL');
    await worker.exited;
    worker = startWorker();
    await worker.started;
    kills.push(during);
  };
  try {
    await worker.started;
    const twin = uniqueId('wren');
    const input: PipelineInput = {
      source: { kind: 'local', path: join(PROJECT_ROOT, 'examples/corpus') },
      twin,
      fineTune: { hyperparameters: { epochs: 0.4 } },
      evaluate: { decoding: { maxNewTokens: 32 }, gate: { thresholds: { perplexity: 1_000 } } },
      deploy: { smokeTest: { maxTokens: 8 }, monitor: { checkInterval: '3s', window: '10m', grace: '10m' } },
    };
    const handle = await client.workflow.start<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
      taskQueue: config.temporal.taskQueue,
      workflowId: uniqueId('killed-pipeline'),
      args: [input],
    });
    const reached = (stage: PipelineStage, ready: () => boolean | Promise<boolean>) =>
      until(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if ((await handle.describe()).status.name !== 'RUNNING') await handle.result(); // ended early: its reason, now
        const progress = await handle.query(progressQuery).catch(() => undefined);
        return progress?.current === stage && (await ready());
      }, 300_000);
    await reached('prepare-data', () => true);
    await killWorker('prepare-data');
    await reached('fine-tune', () => jobProgramStarted(jobsDir, 'llmtwin-train-'));
    await killWorker('fine-tune: training');
    await reached('evaluate', () => jobProgramStarted(jobsDir, 'llmtwin-eval-'));
    await killWorker('evaluate: evaluation job');
    await reached('deploy', async () => ((await aws.sagemaker.send(new ListEndpointsCommand({}))).Endpoints ?? []).length > 0);
    await killWorker('deploy: endpoint creating');

    const result = await handle.result();
    expect(result.outcome).toBe('served');
    expect(result.stages.map((stage) => stage.status)).toEqual(['done', 'done', 'done', 'done']);
    // Made once each, though every stage's work was cut off once.
    expect(jobs('llmtwin-train-')).toHaveLength(1);
    expect(jobs('llmtwin-eval-')).toHaveLength(1);
    const group = modelPackageGroupName(config.resourceNamePrefix, twin);
    expect((await aws.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }))).ModelPackageSummaryList).toHaveLength(
      1,
    );
    const endpointName = result.deployment!.endpointName;
    expect((await aws.sagemaker.send(new ListEndpointsCommand({}))).Endpoints?.map((endpoint) => endpoint.EndpointName)).toEqual([
      endpointName,
    ]);
    expect((await aws.sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs).toHaveLength(1);
    const datasets = await aws.s3.send(
      new ListObjectsV2Command({ Bucket: config.s3.bucket, Prefix: `${config.s3.prefix}datasets/`, Delimiter: '/' }),
    );
    expect(datasets.CommonPrefixes).toHaveLength(1);
    expect((await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: config.s3.bucket }))).Uploads ?? []).toEqual([]);
    const scratch = (() => {
      try {
        return readdirSync(join(tmpdir(), 'llmtwin-prepare')).filter((name) => name.startsWith(result.dataset.datasetHash.slice(0, 16)));
      } catch {
        return [];
      }
    })();
    expect(scratch).toEqual([]);

    // The idle wait survives a kill too: the monitor, now on the new worker, deletes the endpoint once idle.
    const monitor = client.workflow.getHandle(result.deployment!.monitor!.workflowId);
    expect((await monitor.describe()).status.name).toBe('RUNNING');
    const server = findLocalServer(jobsDir, config.resourceNamePrefix, result.deployment!.configName);
    expect(server).toBeDefined();
    await killWorker('idle wait');
    // The counts above were taken with the endpoint up (a grace period keeps a monitor that has seen no
    // invocation yet from deleting at once); now the policy shrinks, sent to the monitor as
    // `endpoints set-policy` sends it, and the new worker's monitor deletes the idle endpoint.
    await monitor.signal(setPolicySignal, { window: '5s', grace: '0s' });
    await monitor.result();
    expect((await aws.sagemaker.send(new ListEndpointsCommand({}))).Endpoints ?? []).toEqual([]);
    expect((await aws.sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs ?? []).toEqual([]);
    await until(() => !isAlive(server!.pid), 60_000).catch(() => undefined);
    expect(isAlive(server!.pid)).toBe(false);
    await until(() => liveJobProcesses(jobsDir).length === 0, 60_000).catch(() => undefined);
    expect(liveJobProcesses(jobsDir)).toEqual([]);
    expect(kills).toEqual(['prepare-data', 'fine-tune: training', 'evaluate: evaluation job', 'deploy: endpoint creating', 'idle wait']);
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
    await connection.close();
    destroyAwsClients(aws);
  }
});
