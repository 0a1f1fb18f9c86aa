import { ListEndpointConfigsCommand, ListModelsCommand } from '@aws-sdk/client-sagemaker';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { duplicatesIn, injectFaults, type FaultLog } from '../helpers/aws-faults';
import { emulateClientTokens, emulateJobOutputs, SAGEMAKER_ON_MOTO } from '../helpers/moto-job-outputs';
import { runPipelineOnMoto, sageMakerCounts } from '../helpers/pipeline-on-moto';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';

// Every activity of a pipeline (each AWS step, the data build, the waits, the registry, the deployment,
// the smoke test, the boundary checks) does its work once and then loses its answer, as a worker killed
// right after the work and before reporting it does: Temporal runs the activity again. Each retry must
// find what its first attempt made instead of making it again, and say the run made it (not "reused").
jest.setTimeout(600_000);

const lost: string[] = [];
/** The first attempt of each activity type finishes its work, then fails as if the worker had died. */
const loseFirstAnswers: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    async execute(input, next) {
      const result = await next(input);
      const type = context.info.activityType;
      if (context.info.attempt === 1 && !lost.includes(type)) {
        lost.push(type);
        throw ApplicationFailure.retryable(`${type} did its work; its answer was lost (the worker died)`, 'WorkerLost');
      }
      return result;
    },
  },
});

let log: FaultLog;
const stack = useStackWorkers({
  roles: ['control', 'data'],
  config: () => testConfig(SAGEMAKER_ON_MOTO),
  activityInterceptors: [loseFirstAnswers],
  beforeStart: (aws) => {
    emulateJobOutputs(aws);
    emulateClientTokens(aws);
    // No faults on the wire: this layer counts the creates that took effect, refusing a second of a name as SageMaker does.
    log = injectFaults(aws, { share: 0 });
  },
});

it('a pipeline whose every activity loses its first answer is served, with one of everything, all of it made by this run', async () => {
  const { result } = await runPipelineOnMoto(stack, 'lost-answers', 4);

  expect(result.outcome).toBe('served');
  // Made by this run, each of them, however many times the step ran.
  expect(result.stages.map((stage) => [stage.stage, stage.status])).toEqual([
    ['prepare-data', 'done'],
    ['fine-tune', 'done'],
    ['evaluate', 'done'],
    ['deploy', 'done'],
  ]);
  expect(lost).toEqual(
    expect.arrayContaining(['planDataset', 'buildDataset', 'createTrainingJob', 'waitForTrainingJob', 'registerModelVersion']),
  );

  const { sagemaker, s3 } = stack.aws;
  const datasets = await s3.send(new ListObjectsV2Command({ Bucket: stack.config.s3.bucket, Prefix: stack.config.s3.prefix }));
  expect({
    datasetManifests: datasets.Contents?.filter((object) => object.Key?.endsWith('manifest.json')).length,
    ...(await sageMakerCounts(stack, sagemaker, result.twin)),
    models: (await sagemaker.send(new ListModelsCommand({}))).Models?.length,
    endpointConfigs: (await sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs?.length,
  }).toEqual({ datasetManifests: 1, trainingJobs: 1, processingJobs: 1, versions: 1, models: 1, endpointConfigs: 1, endpoints: 1 });
  expect(duplicatesIn(log)).toEqual([]);
  process.stdout.write(`lost answers of ${lost.length} activity types, each retried: ${lost.join(', ')}\n`);
});
