import {
  ListEndpointsCommand,
  ListModelPackagesCommand,
  ListProcessingJobsCommand,
  ListTrainingJobsCommand,
} from '@aws-sdk/client-sagemaker';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { modelPackageGroupName } from '../../common/evaluate/registry';
import { PIPELINE_WORKFLOW_TYPE, type PipelineInput, type PipelineWorkflow } from '../../common/pipeline/contract';
import { PROJECT_ROOT } from '../../platform/paths';
import { duplicatesIn, injectFaults, type FaultLog } from '../helpers/aws-faults';
import { emulateClientTokens, emulateJobOutputs, queueEndpointAnswer, SAGEMAKER_ON_MOTO } from '../helpers/moto-job-outputs';
import { motoUrl, testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// The same input started five times at once (five schedules, five retrying callers with their own
// ids): the runs share what their inputs name, so there is one dataset, one training job, one
// evaluation, one registry version and one endpoint, and every run ends served.
jest.setTimeout(600_000);

let log: FaultLog;
const stack = useStackWorkers({
  roles: ['control', 'data'],
  maxAttempts: 3,
  config: () => testConfig(SAGEMAKER_ON_MOTO),
  beforeStart: (aws) => {
    emulateJobOutputs(aws);
    emulateClientTokens(aws);
    // No faults: this layer only counts the creates that took effect, and refuses a second one of a name as SageMaker does.
    log = injectFaults(aws, { share: 0 });
  },
});

it('five concurrent runs of one input make one of everything, and all five are served', async () => {
  for (let i = 0; i < 10; i += 1) await queueEndpointAnswer(motoUrl());
  const input: PipelineInput = {
    source: { kind: 'local', path: `${PROJECT_ROOT}/examples/corpus` },
    twin: uniqueId('wren'),
    deploy: { monitor: { enabled: false } },
  };
  const results = await Promise.all(
    [1, 2, 3, 4, 5].map((n) =>
      stack.client.workflow.execute<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
        taskQueue: stack.queues.control,
        workflowId: uniqueId(`concurrent-${n}`),
        args: [input],
      }),
    ),
  );
  expect(results.map((result) => result.outcome)).toEqual(['served', 'served', 'served', 'served', 'served']);
  expect(new Set(results.map((result) => result.dataset.datasetHash)).size).toBe(1);
  expect(new Set(results.map((result) => result.deployment?.endpointName)).size).toBe(1);

  const { sagemaker, s3 } = stack.aws;
  const group = modelPackageGroupName(stack.config.resourceNamePrefix, input.twin);
  const datasets = await s3.send(new ListObjectsV2Command({ Bucket: stack.config.s3.bucket, Prefix: 'llmtwin/datasets/' }));
  expect({
    datasetManifests: datasets.Contents?.filter((object) => object.Key?.endsWith('manifest.json')).length,
    trainingJobs: (await sagemaker.send(new ListTrainingJobsCommand({}))).TrainingJobSummaries?.length,
    processingJobs: (await sagemaker.send(new ListProcessingJobsCommand({}))).ProcessingJobSummaries?.length,
    versions: (await sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: group }))).ModelPackageSummaryList?.length,
    endpoints: (await sagemaker.send(new ListEndpointsCommand({}))).Endpoints?.length,
  }).toEqual({ datasetManifests: 1, trainingJobs: 1, processingJobs: 1, versions: 1, endpoints: 1 });
  expect(duplicatesIn(log)).toEqual([]);
});
