import {
  ListTagsCommand,
  SageMakerClient,
  UpdateEndpointCommand,
  DescribeEndpointCommand,
  AddTagsCommand,
  CreateEndpointCommand,
  DeleteTagsCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { ensureEndpoint, sageMakerUpdater, updateEndpointRequest } from '../../../activities/deploy/endpoint';
import type { DeploymentPlan } from '../../../common/deploy/plan';
import { rejectionOf } from '../../helpers/rejection';

// UpdateEndpoint is what moto lacks: the exact requests the endpoint step sends, as AWS takes them.
const sagemaker = mockClient(SageMakerClient);
beforeEach(() => sagemaker.reset());
const client = new SageMakerClient({ region: 'us-east-1' });
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep';

const plan = {
  endpointName: 'ep',
  configName: 'cfg-new',
  modelVersionArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/llmtwin-twin-wren-abc/4',
  tags: [
    { Key: 'llmtwin:managed', Value: 'true' },
    { Key: 'llmtwin:run-id', Value: 'run-2' },
  ],
  trafficRouting: { type: 'LINEAR', percent: 25, waitInterval: '5m', terminationWait: '10m', maximumExecutionTimeout: '2h' },
  rollbackAlarms: ['ep-5xx', 'ep-latency'],
} as unknown as DeploymentPlan;

const suspended = { resourceId: 'endpoint/ep/variant/AllTraffic', minCapacity: 1, maxCapacity: 3, policies: [] };

describe('the endpoint step', () => {
  it('builds a blue/green UpdateEndpoint: linear steps, waits, termination wait, alarms', () => {
    expect(updateEndpointRequest('ep', 'cfg-new', plan.trafficRouting, plan.rollbackAlarms)).toEqual({
      EndpointName: 'ep',
      EndpointConfigName: 'cfg-new',
      RetainAllVariantProperties: false,
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: {
            Type: 'LINEAR',
            WaitIntervalInSeconds: 300,
            LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 25 },
          },
          TerminationWaitInSeconds: 600,
          MaximumExecutionTimeoutInSeconds: 7200,
        },
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'ep-5xx' }, { AlarmName: 'ep-latency' }] },
      },
    });
  });

  it('creates a missing endpoint with its tags and the served version', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .rejects(Object.assign(new Error(`Could not find endpoint "${ARN}".`), { name: 'ValidationException' }));
    sagemaker.on(CreateEndpointCommand).resolves({ EndpointArn: ARN });
    const step = await ensureEndpoint(
      { sagemaker: client, update: sageMakerUpdater(client), suspendAutoscaling: () => Promise.resolve(null) },
      plan,
      'run-2',
    );

    expect(step).toEqual({ action: 'created', endpointArn: ARN, previousConfigName: null });
    expect(sagemaker.commandCalls(CreateEndpointCommand)[0]?.args[0].input).toEqual({
      EndpointName: 'ep',
      EndpointConfigName: 'cfg-new',
      Tags: [...plan.tags, { Key: 'llmtwin:model-package', Value: plan.modelVersionArn }],
    });
  });

  it('updates a serving endpoint: tags its undo information first, takes autoscaling off, then UpdateEndpoint', async () => {
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointName: 'ep', EndpointArn: ARN, EndpointStatus: 'InService', EndpointConfigName: 'cfg-old' });
    sagemaker.on(ListTagsCommand).resolves({
      Tags: [
        { Key: 'llmtwin:managed', Value: 'true' },
        { Key: 'llmtwin:run-id', Value: 'run-1' },
      ],
    });
    sagemaker.on(AddTagsCommand).resolves({});
    sagemaker.on(UpdateEndpointCommand).resolves({ EndpointArn: ARN });
    const order: string[] = [];
    const step = await ensureEndpoint(
      {
        sagemaker: client,
        update: async (request) => {
          order.push('update');
          await sageMakerUpdater(client)(request);
        },
        suspendAutoscaling: () => {
          order.push('suspend');
          return Promise.resolve(suspended);
        },
      },
      plan,
      'run-2',
    );

    expect(step).toEqual({
      action: 'updated',
      endpointArn: ARN,
      previousConfigName: 'cfg-old',
      before: {
        tags: { 'llmtwin:run-id': 'run-1', 'llmtwin:previous-config': null, 'llmtwin:model-package': null },
        autoscaling: suspended,
      },
    });
    expect(order).toEqual(['suspend', 'update']);
    expect(sagemaker.commandCalls(AddTagsCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: 'llmtwin:run-id', Value: 'run-2' },
      { Key: 'llmtwin:previous-config', Value: 'cfg-old' },
      { Key: 'llmtwin:model-package', Value: plan.modelVersionArn },
    ]);
    expect(sagemaker.commandCalls(DeleteTagsCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(UpdateEndpointCommand)[0]?.args[0].input).toMatchObject({
      EndpointName: 'ep',
      EndpointConfigName: 'cfg-new',
    });
  });

  it('a retry after its UpdateEndpoint went through adopts it (Updating towards our config, our run id): no second update', async () => {
    sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: 'ep',
      EndpointArn: ARN,
      EndpointStatus: 'Updating',
      EndpointConfigName: 'cfg-old',
      PendingDeploymentSummary: { EndpointConfigName: 'cfg-new', StageStatus: [], StartTime: new Date() } as never,
    });
    sagemaker.on(ListTagsCommand).resolves({
      Tags: [
        { Key: 'llmtwin:managed', Value: 'true' },
        { Key: 'llmtwin:run-id', Value: 'run-2' },
        { Key: 'llmtwin:previous-config', Value: 'cfg-old' },
      ],
    });
    const step = await ensureEndpoint(
      { sagemaker: client, update: sageMakerUpdater(client), suspendAutoscaling: () => Promise.resolve(null) },
      plan,
      'run-2',
    );

    expect(step).toEqual({ action: 'updated', endpointArn: ARN, previousConfigName: 'cfg-old' });
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });

  it('refuses an endpoint in the middle of another deployment, and a Failed one, saying what to do', async () => {
    sagemaker.on(ListTagsCommand).resolves({ Tags: [{ Key: 'llmtwin:managed', Value: 'true' }] });
    sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointArn: ARN,
      EndpointStatus: 'Updating',
      EndpointConfigName: 'cfg-old',
      PendingDeploymentSummary: { EndpointConfigName: 'cfg-other' },
    });
    const deps = { sagemaker: client, update: sageMakerUpdater(client), suspendAutoscaling: () => Promise.resolve(null) };
    const busy = await rejectionOf(ensureEndpoint(deps, plan, 'run-2'));
    expect(busy).toMatchObject({ type: 'ResourceConflict', nonRetryable: true });
    expect(busy.message).toMatch(/is Updating \(to config cfg-other\): another deployment is under way/);

    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointArn: ARN, EndpointStatus: 'Failed', EndpointConfigName: 'cfg-old', FailureReason: 'image not found' });
    const failed = await rejectionOf(ensureEndpoint(deps, plan, 'run-2'));
    expect(failed.message).toMatch(
      /is Failed \(image not found\) and cannot be updated; delete it \(aws sagemaker delete-endpoint --endpoint-name ep\)/,
    );
    expect(sagemaker.commandCalls(UpdateEndpointCommand)).toHaveLength(0);
  });
});
