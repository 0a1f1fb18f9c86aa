import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  type CreateEndpointConfigCommandInput,
  type CreateModelCommandInput,
  type DescribeEndpointConfigCommandOutput,
  type DescribeModelCommandOutput,
} from '@aws-sdk/client-sagemaker';
import type { DeploymentPlan } from '../../common/deploy/plan';
import { SERVED_MODEL_PACKAGE_TAG } from '../../common/evaluate/registry';
import { conflictFailure } from '../../common/shared/validation';
import { awsCall, isAlreadyExists, notDescribableYet, toAwsFailure } from '../aws/errors';
import { describeEndpointConfigIfExists, describeModelIfExists } from '../aws/endpoints';
import type { SageMakerSender } from '../aws/clients';

/**
 * The SageMaker Model and EndpointConfig of a deployment: describe before create, and a resource that
 * already exists under the plan's (content-addressed) name is adopted when it matches, which is what
 * makes a retried or re-run step create nothing twice. One that does not match was made by someone else.
 */

export type Made = 'created' | 'exists';

export function createModelRequest(plan: DeploymentPlan): CreateModelCommandInput {
  return {
    ModelName: plan.modelName,
    ExecutionRoleArn: plan.executionRoleArn,
    PrimaryContainer: { Image: plan.image, ModelDataUrl: plan.modelUri, Environment: plan.environment },
    // The registry version rides on the model too, so a rollback to its config knows which version serves again.
    Tags: plan.modelVersionArn ? [...plan.tags, { Key: SERVED_MODEL_PACKAGE_TAG, Value: plan.modelVersionArn }] : plan.tags,
  };
}

export function createEndpointConfigRequest(plan: DeploymentPlan): CreateEndpointConfigCommandInput {
  return {
    EndpointConfigName: plan.configName,
    ProductionVariants: [
      {
        VariantName: plan.variantName,
        ModelName: plan.modelName,
        InstanceType: plan.instanceType as never,
        InitialInstanceCount: plan.instanceCount,
        // Loading a multi-GB model takes minutes; the default 60 s health-check budget would fail it.
        ContainerStartupHealthCheckTimeoutInSeconds: 900,
        ModelDataDownloadTimeoutInSeconds: 1_200,
        ...(plan.inferenceAmiVersion ? { InferenceAmiVersion: plan.inferenceAmiVersion as never } : {}),
      },
    ],
    Tags: plan.tags,
  };
}

function modelMismatch(plan: DeploymentPlan, found: DescribeModelCommandOutput): string | undefined {
  const container = found.PrimaryContainer;
  if (container?.ModelDataUrl !== plan.modelUri) return `it serves ${container?.ModelDataUrl ?? 'no artifact'}, not ${plan.modelUri}`;
  if (container?.Image !== plan.image) return `it runs ${container?.Image ?? 'no image'}, not ${plan.image}`;
  return undefined;
}

function configMismatch(plan: DeploymentPlan, found: DescribeEndpointConfigCommandOutput): string | undefined {
  const variant = found.ProductionVariants?.[0];
  if (variant?.ModelName !== plan.modelName) return `its variant serves model ${variant?.ModelName ?? 'none'}, not ${plan.modelName}`;
  if (variant?.InstanceType !== plan.instanceType)
    return `its variant runs on ${variant?.InstanceType ?? 'nothing'}, not ${plan.instanceType}`;
  return undefined;
}

export async function ensureModel(sagemaker: SageMakerSender, plan: DeploymentPlan, abortSignal?: AbortSignal): Promise<Made> {
  return ensure({
    what: `model ${plan.modelName}`,
    describe: () => describeModelIfExists(sagemaker, plan.modelName, abortSignal),
    mismatch: (found) => modelMismatch(plan, found),
    create: () => sagemaker.send(new CreateModelCommand(createModelRequest(plan)), { abortSignal }),
    operation: 'CreateModel',
  });
}

export async function ensureEndpointConfig(sagemaker: SageMakerSender, plan: DeploymentPlan, abortSignal?: AbortSignal): Promise<Made> {
  return ensure({
    what: `endpoint config ${plan.configName}`,
    describe: () => describeEndpointConfigIfExists(sagemaker, plan.configName, abortSignal),
    mismatch: (found) => configMismatch(plan, found),
    create: () => sagemaker.send(new CreateEndpointConfigCommand(createEndpointConfigRequest(plan)), { abortSignal }),
    operation: 'CreateEndpointConfig',
  });
}

async function ensure<Found>(step: {
  what: string;
  operation: string;
  describe: () => Promise<Found | undefined>;
  mismatch: (found: Found) => string | undefined;
  create: () => Promise<unknown>;
}): Promise<Made> {
  const adopt = (found: Found): Made => {
    const problem = step.mismatch(found);
    if (problem)
      throw conflictFailure(
        `${step.what} exists but ${problem}: something other than this deployment made it. Delete it, or set resourceNamePrefix`,
      );
    return 'exists';
  };
  const existing = await step.describe();
  if (existing) return adopt(existing);
  try {
    await step.create();
    return 'created';
  } catch (error) {
    if (!isAlreadyExists(error)) throw toAwsFailure(error, { operation: step.operation, resource: step.what });
    // Made between the describe and the create (another attempt, or a concurrent run): judge that one.
    const raced = await awsCall({ operation: step.operation, resource: step.what }, step.describe);
    if (raced) return adopt(raced);
    throw notDescribableYet(step.what, error);
  }
}
