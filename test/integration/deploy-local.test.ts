import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { invokeTwin, openTwin } from '../../client/invoke';
import { DEPLOY_WORKFLOW_TYPE, type DeployInput, type DeployWorkflow } from '../../common/deploy/contract';
import { describeEndpointIfExists } from '../../activities/aws/endpoints';
import { isAlive, findLocalServer } from '../../platform/local-endpoints';
import { scratchJobsDir } from '../helpers/local-jobs';
import { prepareExampleDataset, startFineTune } from '../helpers/local-training';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// The whole stage on local compute: the toy that fine-tune trained for real, deployed as a local
// endpoint (recorded in moto, served by jobs/serve on this machine), invoked and answering, its
// Invocations in CloudWatch, and then deleted by its idle monitor after a short window, server and all.
jest.setTimeout(600_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir, LLMTWIN_DEPLOY_LOCAL_METRICS_INTERVAL: '2s' });
const stack = useStackWorkers({ roles: ['control', 'data', 'idle'], config: () => config });
const local = { jobsDir, resourceNamePrefix: config.resourceNamePrefix };
let trainingJobName: string;

beforeAll(async () => {
  const datasetUri = await prepareExampleDataset(stack.client, stack.queues.control);
  trainingJobName = (await (await startFineTune(stack.client, stack.queues.control, { datasetUri })).result()).jobName;
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

it('deploys the trained toy locally, answers, publishes Invocations, and is deleted by its idle monitor with its server', async () => {
  const twin = uniqueId('wren');
  const input: DeployInput = {
    twin,
    trainingJobName,
    smokeTest: { maxTokens: 8 },
    monitor: { checkInterval: '3s', window: '12s', grace: '0s' },
  };
  const result = await stack.client.workflow.execute<DeployWorkflow>(DEPLOY_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId('deploy'),
    args: [input],
  });

  expect(result).toMatchObject({ action: 'created', compute: 'local', instanceType: 'ml.m5.large', monitor: { started: true } });
  expect(typeof result.smokeTest?.answer).toBe('string');
  const endpoint = await stack.aws.sagemaker.send(new DescribeEndpointCommand({ EndpointName: result.endpointName }));
  expect(endpoint).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: result.configName });
  const server = findLocalServer(jobsDir, config.resourceNamePrefix, result.configName);
  expect(server && isAlive(server.pid)).toBe(true);

  // Called as another service would: through the client, streaming.
  const target = await openTwin({ sagemaker: stack.aws.sagemaker, runtime: stack.aws.sagemakerRuntime }, result.endpointName, local);
  const tokens: string[] = [];
  const answer = await invokeTwin(target, 'What do you write about?', {
    maxTokens: 12,
    temperature: 0,
    onToken: (text) => tokens.push(text),
  });
  expect(answer.text).toBe(tokens.join(''));
  expect(answer.text.length).toBeGreaterThan(0);

  // The smoke test and this call, published with SageMaker's namespace and dimensions.
  const invocations = await until('Invocations in CloudWatch', async () => {
    const stats = await stack.aws.cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocations',
        Dimensions: [
          { Name: 'EndpointName', Value: result.endpointName },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
        StartTime: new Date(Date.now() - 3_600_000),
        EndTime: new Date(Date.now() + 60_000),
        Period: 60,
        Statistics: ['Sum'],
      }),
    );
    const sum = (stats.Datapoints ?? []).reduce((total, point) => total + (point.Sum ?? 0), 0);
    return sum >= 2 ? sum : undefined;
  });
  expect(invocations).toBeGreaterThanOrEqual(2);

  // Nobody calls it any more: the monitor deletes the endpoint after its window, and the server stops.
  const summary: unknown = await stack.client.workflow.getHandle(result.monitor!.workflowId).result();
  expect(summary).toMatchObject({ endpointName: result.endpointName, outcome: 'deleted' });
  expect(await describeEndpointIfExists(stack.aws.sagemaker, result.endpointName)).toBeUndefined();
  await until('the local server to stop', () => Promise.resolve(isAlive(server!.pid) ? undefined : true), 60_000);
  expect(findLocalServer(jobsDir, config.resourceNamePrefix, result.configName)).toBeUndefined();
});
