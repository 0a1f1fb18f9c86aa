import { PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describeEndpointConfigIfExists, describeEndpointIfExists, describeModelIfExists } from '../../activities/aws/endpoints';
import { createEndpointWithModel } from '../../scripts/demos/demo-endpoint';
import { STAND_IN_IMAGE } from '../../scripts/demos/idle';
import { KEEP_TAG, MANAGED_TAG } from '../../common/shared/naming';
import type { AwsClients } from '../../platform/aws-clients';

/**
 * Endpoints made directly in moto the way the deployment stage will make them (model, endpoint config,
 * endpoint, tags, optional autoscaling), and the Invocations datapoints SageMaker would publish.
 * moto rejects ml.g5.* in endpoint configs, so tests use ml.g4dn.xlarge.
 */
export interface TestEndpointOptions {
  instanceType?: string;
  instanceCount?: number;
  managed?: boolean;
  keep?: boolean;
  autoscaling?: boolean;
  variantName?: string;
  /** An asynchronous inference endpoint (AsyncInferenceConfig): it publishes no Invocations. */
  asynchronous?: boolean;
}

export interface TestEndpoint {
  endpointName: string;
  configName: string;
  modelName: string;
  variantName: string;
}

export async function createTestEndpoint(
  aws: Pick<AwsClients, 'sagemaker' | 'autoscaling'>,
  endpointName: string,
  options: TestEndpointOptions = {},
): Promise<TestEndpoint> {
  const managed = options.managed ?? true;
  const tags = [
    ...(managed ? [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }] : []),
    ...(options.keep ? [{ Key: KEEP_TAG.key, Value: KEEP_TAG.value }] : []),
  ];
  const modelName = `${endpointName}-model`;
  const configName = `${endpointName}-config`;
  const variantName = options.variantName ?? 'AllTraffic';
  await createEndpointWithModel(aws.sagemaker, {
    endpointName,
    modelName,
    configName,
    variantName,
    image: STAND_IN_IMAGE,
    executionRoleArn: 'arn:aws:iam::123456789012:role/llmtwin-test',
    instanceType: options.instanceType ?? 'ml.g4dn.xlarge',
    instanceCount: options.instanceCount ?? 1,
    tags: managed ? [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }] : [],
    endpointTags: tags,
    ...(options.asynchronous ? { asyncOutputS3Path: `s3://llmtwin-test/async/${endpointName}/` } : {}),
  });
  if (options.autoscaling) {
    const target = {
      ServiceNamespace: 'sagemaker' as const,
      ResourceId: `endpoint/${endpointName}/variant/${variantName}`,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const,
    };
    await aws.autoscaling.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 4 }));
    await aws.autoscaling.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: `${endpointName}-invocations`,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 70,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        },
      }),
    );
  }
  return { endpointName, configName, modelName, variantName };
}

/** Invocations datapoints as SageMaker publishes them: one Sum per minute, dimensions EndpointName + VariantName. */
export async function putInvocations(
  aws: Pick<AwsClients, 'cloudwatch'>,
  endpoint: Pick<TestEndpoint, 'endpointName' | 'variantName'>,
  timestamps: readonly number[],
  count = 3,
  metricName = 'Invocations',
): Promise<void> {
  for (let start = 0; start < timestamps.length; start += 1000) {
    await aws.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/SageMaker',
        MetricData: timestamps.slice(start, start + 1000).map((timestamp) => ({
          MetricName: metricName,
          Dimensions: [
            { Name: 'EndpointName', Value: endpoint.endpointName },
            { Name: 'VariantName', Value: endpoint.variantName },
          ],
          Timestamp: new Date(timestamp),
          Value: count,
          Unit: 'None',
        })),
      }),
    );
  }
}

/** Whether each part still exists in moto (Describe* answers "Could not find" once deleted). */
export async function existingParts(
  aws: Pick<AwsClients, 'sagemaker'>,
  endpoint: TestEndpoint,
): Promise<{ endpoint: boolean; config: boolean; model: boolean }> {
  return {
    endpoint: (await describeEndpointIfExists(aws.sagemaker, endpoint.endpointName)) !== undefined,
    config: (await describeEndpointConfigIfExists(aws.sagemaker, endpoint.configName)) !== undefined,
    model: (await describeModelIfExists(aws.sagemaker, endpoint.modelName)) !== undefined,
  };
}
