import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, type Tag } from '@aws-sdk/client-sagemaker';
import { awsCall } from '../../activities/aws/errors';
import type { SageMakerSender } from '../../activities/aws/clients';

/**
 * The plain creation of one endpoint with its model and config, for the idle demo and test fixtures
 * (deployment, activities/deploy, adds idempotency and waiting on top). Apart from activities/aws so the
 * CLI, which reads endpoints, does not reach code that creates them.
 */

/** One endpoint serving one model through one variant. */
export interface EndpointSpec {
  endpointName: string;
  modelName: string;
  configName: string;
  image: string;
  executionRoleArn: string;
  instanceType: string;
  instanceCount?: number;
  variantName?: string;
  /** On the model and the endpoint config. */
  tags?: Tag[];
  /** On the endpoint; default: `tags`. */
  endpointTags?: Tag[];
  /** An asynchronous inference endpoint: results go to this S3 prefix. */
  asyncOutputS3Path?: string;
}

/** CreateModel, CreateEndpointConfig, CreateEndpoint, in that order (each needs the one before). */
export async function createEndpointWithModel(sagemaker: SageMakerSender, spec: EndpointSpec, abortSignal?: AbortSignal): Promise<void> {
  const tagged = (tags: Tag[] | undefined) => (tags && tags.length > 0 ? { Tags: tags } : {});
  await awsCall({ operation: 'CreateModel', resource: `model ${spec.modelName}` }, () =>
    sagemaker.send(
      new CreateModelCommand({
        ModelName: spec.modelName,
        ExecutionRoleArn: spec.executionRoleArn,
        PrimaryContainer: { Image: spec.image },
        ...tagged(spec.tags),
      }),
      { abortSignal },
    ),
  );
  await awsCall({ operation: 'CreateEndpointConfig', resource: `endpoint config ${spec.configName}` }, () =>
    sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: spec.configName,
        ProductionVariants: [
          {
            VariantName: spec.variantName ?? 'AllTraffic',
            ModelName: spec.modelName,
            InstanceType: spec.instanceType as never,
            InitialInstanceCount: spec.instanceCount ?? 1,
          },
        ],
        ...(spec.asyncOutputS3Path ? { AsyncInferenceConfig: { OutputConfig: { S3OutputPath: spec.asyncOutputS3Path } } } : {}),
        ...tagged(spec.tags),
      }),
      { abortSignal },
    ),
  );
  await awsCall({ operation: 'CreateEndpoint', resource: `endpoint ${spec.endpointName}` }, () =>
    sagemaker.send(
      new CreateEndpointCommand({
        EndpointName: spec.endpointName,
        EndpointConfigName: spec.configName,
        ...tagged(spec.endpointTags ?? spec.tags),
      }),
      { abortSignal },
    ),
  );
}
