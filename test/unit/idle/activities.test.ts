import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  ListTagsCommand,
  SageMakerClient,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { testLogger } from '../../helpers/test-logger';
import { mockClient } from 'aws-sdk-client-mock';
import { createIdleActivities } from '../../../activities/idle';
import { invocationQueries, metricWindow, readInvocations } from '../../../activities/idle/invocations';
import { executeTeardown, type TeardownPlan } from '../../../activities/idle/teardown';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 0, 1, 12, 0, 30);

function sageMakerError(name: string, message: string, status = 400) {
  return new SageMakerServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('readInvocations', () => {
  it('reads 1,001 endpoint variants in ceil(1001 / 500) = 3 GetMetricData calls of 500, 500 and 1 queries', async () => {
    const cloudwatch = mockClient(CloudWatchClient);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const targets = Array.from({ length: 1001 }, (_, index) => ({ endpointName: `ep-${index}`, variantName: 'AllTraffic' }));

    const result = await readInvocations(new CloudWatchClient({ region: 'us-east-1' }), targets, { now: NOW, windowMs: 60 * MINUTE });

    expect(result.calls).toBe(3);
    const inputs = cloudwatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.MetricDataQueries?.length)).toEqual([500, 500, 1]);
    expect(inputs[2]?.MetricDataQueries?.[0]?.Id).toBe('q1000');
    expect(result.byEndpoint.size).toBe(1001);
    expect(result.byEndpoint.get('ep-7')).toEqual({ invocations: 0, lastInvocationAt: null });
    cloudwatch.restore();
  });

  it('asks for the Sum of AWS/SageMaker Invocations by EndpointName and VariantName over whole minutes', async () => {
    const cloudwatch = mockClient(CloudWatchClient);
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    await readInvocations(new CloudWatchClient({ region: 'us-east-1' }), [{ endpointName: 'twin-ep', variantName: 'AllTraffic' }], {
      now: NOW,
      windowMs: 60 * MINUTE,
    });

    const expected: GetMetricDataCommandInput = {
      StartTime: new Date(Date.UTC(2026, 0, 1, 11, 0, 0)),
      EndTime: new Date(NOW),
      ScanBy: 'TimestampDescending',
      NextToken: undefined,
      MetricDataQueries: [
        {
          Id: 'q0',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SageMaker',
              MetricName: 'Invocations',
              Dimensions: [
                { Name: 'EndpointName', Value: 'twin-ep' },
                { Name: 'VariantName', Value: 'AllTraffic' },
              ],
            },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
      ],
    };
    expect(cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual(expected);
    expect(invocationQueries([{ endpointName: 'a', variantName: 'v' }], 7)[0]?.Id).toBe('q7');
    expect(metricWindow(NOW, 60 * MINUTE).start.toISOString()).toBe('2026-01-01T11:00:00.000Z');
    cloudwatch.restore();
  });

  it('sums variants per endpoint, follows NextToken, and dates the last call at the end of its minute', async () => {
    const cloudwatch = mockClient(CloudWatchClient);
    const minute = (m: number) => new Date(Date.UTC(2026, 0, 1, 11, m));
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'q0', Timestamps: [minute(40), minute(10)], Values: [3, 2] }], NextToken: 'page-2' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'q1', Timestamps: [minute(50), minute(45)], Values: [0, 1] }] });
    const targets = [
      { endpointName: 'ep', variantName: 'blue' },
      { endpointName: 'ep', variantName: 'green' },
    ];

    const result = await readInvocations(new CloudWatchClient({ region: 'us-east-1' }), targets, { now: NOW, windowMs: 60 * MINUTE });

    expect(result.calls).toBe(2);
    expect(cloudwatch.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('page-2');
    // Zero-valued datapoints are not calls: the last real one is 11:45, known to have ended by 11:46.
    expect(result.byEndpoint.get('ep')).toEqual({ invocations: 6, lastInvocationAt: Date.UTC(2026, 0, 1, 11, 46) });
    cloudwatch.restore();
  });

  it('makes CloudWatch throttling a retryable failure', async () => {
    const cloudwatch = mockClient(CloudWatchClient);
    cloudwatch
      .on(GetMetricDataCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    const error = await readInvocations(new CloudWatchClient({ region: 'us-east-1' }), [{ endpointName: 'ep', variantName: 'v' }], {
      now: NOW,
      windowMs: MINUTE,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'TransientAwsError', nonRetryable: false });
    cloudwatch.restore();
  });
});

describe('executeTeardown', () => {
  const plan: TeardownPlan = {
    endpointName: 'twin-ep',
    variantNames: ['AllTraffic'],
    endpointConfig: { name: 'twin-ep-config', managed: true },
    models: [
      { name: 'twin-model', managed: true },
      { name: 'someone-elses-model', managed: false },
    ],
  };
  const resourceId = 'endpoint/twin-ep/variant/AllTraffic';

  /** Every call succeeds unless a test says otherwise; the variant has one scaling policy and a target. */
  function clients() {
    const sagemaker = mockClient(SageMakerClient);
    const autoscaling = mockClient(ApplicationAutoScalingClient);
    sagemaker.onAnyCommand().resolves({});
    autoscaling.onAnyCommand().resolves({});
    autoscaling.on(DescribeScalingPoliciesCommand).resolves({ ScalingPolicies: [{ PolicyName: 'invocations' } as never] });
    autoscaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [{ ResourceId: resourceId } as never] });
    return {
      sagemaker,
      autoscaling,
      real: {
        sagemaker: new SageMakerClient({ region: 'us-east-1' }),
        autoscaling: new ApplicationAutoScalingClient({ region: 'us-east-1' }),
      },
    };
  }

  afterEach(() => {
    mockClient(SageMakerClient).restore();
    mockClient(ApplicationAutoScalingClient).restore();
  });

  it('removes autoscaling first, then the endpoint, then the config and only the models that are ours', async () => {
    const { sagemaker, autoscaling, real } = clients();

    const report = await executeTeardown(real, plan, { deleteModel: true });

    expect(autoscaling.commandCalls(DeleteScalingPolicyCommand)[0]?.args[0].input).toEqual({
      ServiceNamespace: 'sagemaker',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      ResourceId: resourceId,
      PolicyName: 'invocations',
    });
    expect(autoscaling.commandCalls(DeregisterScalableTargetCommand)[0]?.args[0].input).toEqual({
      ServiceNamespace: 'sagemaker',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      ResourceId: resourceId,
    });
    expect(sagemaker.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'DeleteEndpointCommand',
      'DeleteEndpointConfigCommand',
      'DeleteModelCommand',
    ]);
    expect(sagemaker.commandCalls(DeleteModelCommand).map((call) => call.args[0].input.ModelName)).toEqual(['twin-model']);
    expect(report).toEqual({
      endpointDeleted: true,
      scalingPoliciesDeleted: [`${resourceId}:invocations`],
      scalableTargetsDeregistered: [resourceId],
      endpointConfig: { name: 'twin-ep-config', deleted: true, reason: 'ours (llmtwin:managed=true)' },
      models: [
        { name: 'twin-model', deleted: true, reason: 'ours (llmtwin:managed=true)' },
        { name: 'someone-elses-model', deleted: false, reason: 'kept: not tagged llmtwin:managed=true' },
      ],
    });
  });

  it('treats what is already gone as done, so a retried teardown finishes the job', async () => {
    const { sagemaker, autoscaling, real } = clients();
    autoscaling.on(DescribeScalingPoliciesCommand).resolves({ ScalingPolicies: [] });
    autoscaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    sagemaker.on(DeleteEndpointCommand).rejects(sageMakerError('ValidationException', "Could not find endpoint 'twin-ep'."));
    sagemaker
      .on(DeleteEndpointConfigCommand)
      .rejects(sageMakerError('ValidationException', "Could not find endpoint configuration 'twin-ep-config'."));

    const report = await executeTeardown(real, plan, { deleteModel: false });

    expect(report.endpointDeleted).toBe(true);
    expect(report.scalableTargetsDeregistered).toEqual([]);
    expect(sagemaker.commandCalls(DeleteModelCommand)).toHaveLength(0);
    expect(report.models[0]).toEqual({ name: 'twin-model', deleted: false, reason: 'kept: deleteModel is false' });
  });

  it('fails non-retryably with advice when IAM forbids the delete', async () => {
    const { sagemaker, autoscaling, real } = clients();
    autoscaling.on(DescribeScalingPoliciesCommand).resolves({ ScalingPolicies: [] });
    autoscaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    sagemaker
      .on(DeleteEndpointCommand)
      .rejects(sageMakerError('AccessDeniedException', 'not authorized to perform: sagemaker:DeleteEndpoint', 403));

    const error = await executeTeardown(real, plan, { deleteModel: true }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'AccessDenied', nonRetryable: true });
    expect((error as ApplicationFailure).message).toMatch(
      /^DeleteEndpoint \(endpoint twin-ep\) failed: AccessDeniedException: .*IAM policy/,
    );
    expect((error as ApplicationFailure).cause).toBeInstanceOf(SageMakerServiceException);
    expect(sagemaker.commandCalls(DeleteEndpointConfigCommand)).toHaveLength(0);
  });
});

describe('observeEndpoint', () => {
  /** The idle activities over mocked clients (each test scripts the mocks it needs). */
  const observingActivities = (pricing: { usdPerHour: Record<string, number> }) =>
    createIdleActivities({
      sagemaker: new SageMakerClient({ region: 'us-east-1' }),
      cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
      autoscaling: new ApplicationAutoScalingClient({ region: 'us-east-1' }),
      pricing,
      resourceNamePrefix: 'llmtwin',
    });

  afterEach(() => {
    mockClient(SageMakerClient).restore();
    mockClient(CloudWatchClient).restore();
  });

  it('reports a missing endpoint as not found instead of failing', async () => {
    const sagemaker = mockClient(SageMakerClient);
    sagemaker.on(DescribeEndpointCommand).rejects(sageMakerError('ValidationException', "Could not find endpoint 'gone-ep'."));
    const activities = observingActivities({ usdPerHour: {} });
    const observation = await new MockActivityEnvironment(undefined, { logger: testLogger }).run(() =>
      activities.observeEndpoint({ endpointName: 'gone-ep', windowMs: MINUTE, now: NOW }),
    );
    expect(observation).toEqual({ found: false, endpointName: 'gone-ep', observedAt: NOW });
  });

  it('joins SageMaker, tags, the price table (with config overrides) and the metrics into one observation', async () => {
    const sagemaker = mockClient(SageMakerClient);
    const cloudwatch = mockClient(CloudWatchClient);
    sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: 'twin-ep',
      EndpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/twin-ep',
      EndpointConfigName: 'twin-ep-config',
      EndpointStatus: 'InService',
      CreationTime: new Date(NOW - 120 * MINUTE),
      LastModifiedTime: new Date(NOW - 110 * MINUTE),
      ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 2 }],
    });
    sagemaker.on(DescribeEndpointConfigCommand).resolves({
      EndpointConfigName: 'twin-ep-config',
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'm', InstanceType: 'ml.g5.xlarge' }],
    });
    sagemaker.on(ListTagsCommand).resolves({ Tags: [{ Key: 'llmtwin:managed', Value: 'true' }] });
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'q0', Timestamps: [new Date(NOW - 30 * MINUTE - 30_000)], Values: [4] }] });
    const activities = observingActivities({ usdPerHour: { 'ml.g5.xlarge': 1.2 } });

    const observation = await new MockActivityEnvironment(undefined, { logger: testLogger }).run(() =>
      activities.observeEndpoint({ endpointName: 'twin-ep', windowMs: 60 * MINUTE, now: NOW }),
    );

    expect(observation).toEqual({
      found: true,
      endpointName: 'twin-ep',
      observedAt: NOW,
      windowMs: 60 * MINUTE,
      status: 'InService',
      creationTime: NOW - 120 * MINUTE,
      lastModifiedTime: NOW - 110 * MINUTE,
      endpointConfigName: 'twin-ep-config',
      variants: [{ variantName: 'AllTraffic', instanceType: 'ml.g5.xlarge', instanceCount: 2, usdPerInstanceHour: 1.2 }],
      managed: true,
      keep: false,
      lastInvocationAt: NOW - 29 * MINUTE - 30_000,
      invocationsInWindow: 4,
    });
  });
  it('asks CloudWatch nothing for an asynchronous endpoint, unless the policy names its metric: then that metric, by variant', async () => {
    const sagemaker = mockClient(SageMakerClient);
    const cloudwatch = mockClient(CloudWatchClient);
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'q0', Timestamps: [new Date(NOW - 10 * MINUTE)], Values: [5] }],
    });
    sagemaker.on(DescribeEndpointCommand).resolves({
      EndpointName: 'async-ep',
      EndpointArn: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/async-ep',
      EndpointConfigName: 'async-ep-config',
      EndpointStatus: 'InService',
      CreationTime: new Date(NOW - 120 * MINUTE),
      ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 1 }],
    });
    sagemaker.on(DescribeEndpointConfigCommand).resolves({
      EndpointConfigName: 'async-ep-config',
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'm', InstanceType: 'ml.g5.xlarge' }],
      AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://bucket/async/' } },
    });
    sagemaker.on(ListTagsCommand).resolves({ Tags: [{ Key: 'llmtwin:managed', Value: 'true' }] });
    const activities = observingActivities({ usdPerHour: {} });
    const observe = (asyncMetric?: string) =>
      new MockActivityEnvironment(undefined, { logger: testLogger }).run(() =>
        activities.observeEndpoint({ endpointName: 'async-ep', windowMs: 60 * MINUTE, now: NOW, ...(asyncMetric ? { asyncMetric } : {}) }),
      );

    // Its config has AsyncInferenceConfig: it publishes no Invocations, so nothing is asked and nothing measured.
    const unmeasured = await observe();
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
    expect(unmeasured).toMatchObject({ found: true, asynchronous: true, invocationsInWindow: 0 });
    expect(unmeasured).not.toHaveProperty('measuredBy');

    const measured = await observe('InvocationsProcessed');
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries;
    expect(queries?.map((query) => [query.MetricStat?.Metric?.MetricName, query.MetricStat?.Metric?.Dimensions])).toEqual([
      [
        'InvocationsProcessed',
        [
          { Name: 'EndpointName', Value: 'async-ep' },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
      ],
    ]);
    expect(measured).toMatchObject({ asynchronous: true, measuredBy: 'InvocationsProcessed', invocationsInWindow: 5 });
    // The config was read once for both looks: configs never change.
    expect(sagemaker.commandCalls(DescribeEndpointConfigCommand)).toHaveLength(1);
    cloudwatch.restore();
    sagemaker.restore();
  });
});
