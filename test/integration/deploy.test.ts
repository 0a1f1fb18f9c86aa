import { DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import {
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-sagemaker';
import { WorkflowFailedError } from '@temporalio/client';
import { type ActivityFailure, type ApplicationFailure } from '@temporalio/common';
import { describeEndpointIfExists } from '../../activities/aws/endpoints';
import { DEPLOY_WORKFLOW_TYPE, type DeployInput, type DeployWorkflow } from '../../common/deploy/contract';
import { chatAnswer, queueEndpointAnswer } from '../helpers/moto-job-outputs';
import { motoUrl, testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { uniqueId } from '../helpers/temporal';

// The SageMaker backend against moto: what moto has (models, configs, endpoints, tags, autoscaling,
// a runtime answering from a queue) used for real; what it lacks (time to InService, UpdateEndpoint,
// streaming) is in test/workflow/deploy.test.ts and test/unit/deploy. moto refuses ml.g5.* in endpoint configs.
const config = testConfig({
  LLMTWIN_COMPUTE_BACKEND: 'sagemaker',
  LLMTWIN_INFERENCE_INSTANCE_TYPE: 'ml.m5.large',
  LLMTWIN_POLL_INITIAL_INTERVAL: '100ms',
  LLMTWIN_POLL_MAX_INTERVAL: '500ms',
});
const stack = useStackWorkers({ roles: ['control'], config: () => config, scope: 'each' });
const MODEL_URI = 's3://llmtwin-it/llmtwin/training/llmtwin-train-x/output/model.tar.gz';

/** What moto's runtime answers next: SageMaker's InvokeEndpoint body. */
const queueAnswer = (body: unknown) => queueEndpointAnswer(motoUrl(), body);

function deploy(input: DeployInput) {
  return stack.client.workflow.execute<DeployWorkflow>(DEPLOY_WORKFLOW_TYPE, {
    taskQueue: stack.queues.control,
    workflowId: uniqueId('deploy'),
    args: [input],
  });
}

it('creates the model, config and endpoint, tagged and autoscaled; deploying the same again changes nothing', async () => {
  await queueAnswer(chatAnswer('Harbours, mostly.'));
  const input: DeployInput = { twin: uniqueId('wren'), modelUri: MODEL_URI, monitor: { enabled: false }, smokeTest: { prompt: 'first' } };
  const result = await deploy(input);

  expect(result).toMatchObject({
    action: 'created',
    compute: 'sagemaker',
    instanceType: 'ml.m5.large',
    smokeTest: { answer: 'Harbours, mostly.' },
  });
  const { sagemaker, autoscaling } = stack.aws;
  expect(await describeEndpointIfExists(sagemaker, result.endpointName)).toMatchObject({
    EndpointStatus: 'InService',
    EndpointConfigName: result.configName,
  });
  const model = await sagemaker.send(new DescribeModelCommand({ ModelName: result.modelName }));
  expect(model.PrimaryContainer).toMatchObject({ Image: result.image, ModelDataUrl: MODEL_URI });
  const epConfig = await sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: result.configName }));
  expect(epConfig.ProductionVariants?.[0]).toMatchObject({
    ModelName: result.modelName,
    InstanceType: 'ml.m5.large',
    InitialInstanceCount: 1,
  });
  const tags = await sagemaker.send(new ListTagsCommand({ ResourceArn: result.endpointArn }));
  expect(tags.Tags).toEqual(
    expect.arrayContaining([
      { Key: 'llmtwin:managed', Value: 'true' },
      { Key: 'llmtwin:twin', Value: input.twin },
    ]),
  );
  const targets = await autoscaling.send(
    new DescribeScalableTargetsCommand({
      ServiceNamespace: 'sagemaker',
      ResourceIds: [`endpoint/${result.endpointName}/variant/AllTraffic`],
    }),
  );
  expect(targets.ScalableTargets).toEqual([expect.objectContaining({ MinCapacity: 1, MaxCapacity: 2 })]);

  const again = await deploy(input);
  expect(again).toMatchObject({ action: 'unchanged', endpointName: result.endpointName, configName: result.configName });
  expect((await sagemaker.send(new ListModelsCommand({}))).Models).toHaveLength(1);
  expect((await sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs).toHaveLength(1);
});

it('a smoke test that gets no usable answer fails the run and deletes the endpoint, config and model it made', async () => {
  // Nothing queued: moto's runtime answers its static text, which is no chat completion.
  const error = await deploy({
    twin: uniqueId('wren'),
    modelUri: MODEL_URI,
    monitor: { enabled: false },
    smokeTest: { prompt: 'second' },
  }).then(
    () => undefined,
    (failure: unknown) => failure,
  );

  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = ((error as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
  expect(cause.type).toBe('SmokeTestFailed');
  expect(cause.message).toMatch(/got no usable answer from endpoint llmtwin-endpoint-wren-/);
  const { sagemaker } = stack.aws;
  expect((await sagemaker.send(new ListModelsCommand({}))).Models).toEqual([]);
  expect((await sagemaker.send(new ListEndpointConfigsCommand({}))).EndpointConfigs).toEqual([]);
});
