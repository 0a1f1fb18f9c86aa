import { PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
} from '@aws-sdk/client-sagemaker';
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
}

export interface TestEndpoint {
  endpointName: string;
  configName: string;
  modelName: string;
  variantName: string;
}

export async function createTestEndpoint(aws: Pick<AwsClients, 'sagemaker' | 'autoscaling'>, endpointName: string, options: TestEndpointOptions = {}): Promise<TestEndpoint> {
  const managed = options.managed ?? true;
  const tags = [...(managed ? [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }] : []), ...(options.keep ? [{ Key: KEEP_TAG.key, Value: KEEP_TAG.value }] : [])];
  const modelName = `${endpointName}-model`;
  const configName = `${endpointName}-config`;
  const variantName = options.variantName ?? 'AllTraffic';
  await aws.sagemaker.send(
    new CreateModelCommand({
      ModelName: modelName,
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/llmtwin-test',
      PrimaryContainer: { Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04' },
      ...(managed ? { Tags: [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }] } : {}),
    }),
  );
  await aws.sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: configName,
      ProductionVariants: [{ VariantName: variantName, ModelName: modelName, InstanceType: (options.instanceType ?? 'ml.g4dn.xlarge') as never, InitialInstanceCount: options.instanceCount ?? 1 }],
      ...(managed ? { Tags: [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }] } : {}),
    }),
  );
  await aws.sagemaker.send(new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: configName, ...(tags.length > 0 ? { Tags: tags } : {}) }));
  if (options.autoscaling) {
    const target = { ServiceNamespace: 'sagemaker' as const, ResourceId: `endpoint/${endpointName}/variant/${variantName}`, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const };
    await aws.autoscaling.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 4 }));
    await aws.autoscaling.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: `${endpointName}-invocations`,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 70, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } },
      }),
    );
  }
  return { endpointName, configName, modelName, variantName };
}

/** Invocations datapoints as SageMaker publishes them: one Sum per minute, dimensions EndpointName + VariantName. */
export async function putInvocations(aws: Pick<AwsClients, 'cloudwatch'>, endpoint: Pick<TestEndpoint, 'endpointName' | 'variantName'>, timestamps: readonly number[], count = 3): Promise<void> {
  for (let start = 0; start < timestamps.length; start += 1000) {
    await aws.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/SageMaker',
        MetricData: timestamps.slice(start, start + 1000).map((timestamp) => ({
          MetricName: 'Invocations',
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
export async function existingParts(aws: Pick<AwsClients, 'sagemaker'>, endpoint: TestEndpoint): Promise<{ endpoint: boolean; config: boolean; model: boolean }> {
  const exists = async (call: () => Promise<unknown>) =>
    call().then(
      () => true,
      (error: { name?: string; message?: string }) => {
        if (/could not find/i.test(error.message ?? '')) return false;
        throw error;
      },
    );
  return {
    endpoint: await exists(() => aws.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpoint.endpointName }))),
    config: await exists(() => aws.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.configName }))),
    model: await exists(() => aws.sagemaker.send(new DescribeModelCommand({ ModelName: endpoint.modelName }))),
  };
}
