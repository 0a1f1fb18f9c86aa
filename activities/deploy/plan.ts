import { DescribeModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { effectiveExecutionRoleArn, type LlmtwinConfig } from '../../common/config';
import type { DeploySettings } from '../../common/deploy/contract';
import { containerEnvironment, inferenceAmiVersionFor, servingImageUri, UnknownServingImageError } from '../../common/deploy/images';
import { configNameFor, endpointNameFor, modelNameFor, VARIANT_NAME, type DeploymentPlan } from '../../common/deploy/plan';
import { policyFromConfig, policyProblem } from '../../common/idle/contract';
import { durationToMs } from '../../common/shared/durations';
import { resourceTags, TWIN_TAG_KEY } from '../../common/shared/naming';
import { validationFailure } from '../../common/shared/validation';
import { awsCall } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';
import type { TrainingCompute } from '../fine-tune/training-compute';

/**
 * Resolves one deployment: what model it serves (an Approved registry version, a completed training
 * job, or a model.tar.gz), on which image with which settings, and every name. Only reads; the
 * workflow records the plan, so a retried step never resolves anything differently.
 */
export async function planDeployment(
  deps: { sagemaker: SageMakerSender; training: TrainingCompute; config: LlmtwinConfig; backend: 'sagemaker' | 'local' },
  settings: DeploySettings,
  runId: string,
): Promise<DeploymentPlan> {
  const { config } = deps;
  const deploy = config.deploy;
  if (deps.backend === 'local' && config.aws.target !== 'local') {
    throw validationFailure(
      'compute.backend local: a local endpoint is recorded in the embedded stack\'s SageMaker (moto), which aws.target "aws" does not have; deploy with compute.backend sagemaker, or run the embedded stack',
    );
  }
  const source = await resolveModel(deps, settings);
  const container = settings.container ?? deploy.container;
  let image: string;
  try {
    image = settings.imageUri ?? deploy.imageUri ?? servingImageUri(config.aws.region, container);
  } catch (error) {
    if (error instanceof UnknownServingImageError) throw validationFailure(error.message, { cause: error });
    throw error;
  }
  const environment = containerEnvironment(container, {
    maxModelLength: deploy.maxModelLength,
    gpuMemoryUtilization: deploy.gpuMemoryUtilization,
    ...(deploy.tensorParallelDegree ? { tensorParallelDegree: deploy.tensorParallelDegree } : {}),
    extraEnvironment: deploy.extraEnvironment,
  });
  const endpointName = settings.endpointName ?? endpointNameFor(config.resourceNamePrefix, settings.twin);
  const instanceType =
    settings.instanceType ?? (deps.backend === 'local' ? deploy.localInstanceType : config.sagemaker.inferenceInstanceType);
  const instanceCount = settings.instanceCount ?? deploy.instanceCount;
  // A local endpoint runs no container, so no AMI; on SageMaker the image decides (CUDA 13 needs one).
  const inferenceAmiVersion = deps.backend === 'local' ? null : (deploy.inferenceAmiVersion ?? inferenceAmiVersionFor(image) ?? null);
  const modelName = modelNameFor(config.resourceNamePrefix, { endpointName, modelUri: source.modelUri, image, environment });
  const configName = configNameFor(config.resourceNamePrefix, {
    endpointName,
    modelName,
    instanceType,
    instanceCount,
    inferenceAmiVersion,
  });
  checkRouting(settings);
  const scaling = settings.autoscaling ?? deploy.autoscaling;
  const smoke = { ...deploy.smokeTest, ...withoutUndefined(settings.smokeTest ?? {}) };
  const monitor = settings.monitor;
  const asked = withoutUndefined({ checkInterval: monitor.checkInterval, window: monitor.window, grace: monitor.grace });
  // The monitor starts once the endpoint serves: a policy it would refuse is refused now, before anything is made.
  const policyTrouble = monitor.enabled ? policyProblem({ ...policyFromConfig(config.idle), ...asked }) : undefined;
  if (policyTrouble) throw validationFailure(`monitor: ${policyTrouble} (idle.checkInterval is the default interval)`);
  return {
    twin: settings.twin,
    endpointName,
    modelName,
    configName,
    variantName: VARIANT_NAME,
    image,
    environment,
    modelUri: source.modelUri,
    modelVersionArn: source.modelVersionArn,
    executionRoleArn: effectiveExecutionRoleArn(config),
    instanceType,
    instanceCount,
    inferenceAmiVersion,
    trafficRouting: settings.trafficRouting,
    rollbackAlarms: settings.rollbackAlarms,
    autoscaling: scaling.enabled
      ? {
          minInstances: scaling.minInstances,
          maxInstances: scaling.maxInstances,
          targetInvocationsPerInstance: scaling.targetInvocationsPerInstance,
          scaleInCooldownSeconds: durationToMs(scaling.scaleInCooldown) / 1000,
          scaleOutCooldownSeconds: durationToMs(scaling.scaleOutCooldown) / 1000,
        }
      : null,
    smokeTest: smoke.enabled ? { prompt: smoke.prompt, maxTokens: smoke.maxTokens } : null,
    monitor: monitor.enabled
      ? { policy: { ...policyFromConfig(config.idle), ...asked }, asked: Object.keys(asked).length > 0 ? asked : null }
      : null,
    inServiceTimeout: settings.inServiceTimeout ?? deploy.inServiceTimeout,
    tags: [
      ...resourceTags({ runId }),
      { Key: TWIN_TAG_KEY, Value: settings.twin },
      ...Object.entries(settings.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    ],
    compute: deps.backend,
    region: config.aws.region,
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

/** SageMaker's bounds on a blue/green update, checked before anything is created. */
function checkRouting(settings: DeploySettings): void {
  const routing = settings.trafficRouting;
  const seconds = (duration: string) => durationToMs(duration) / 1000;
  const problems: string[] = [];
  if (seconds(routing.waitInterval) > 3_600) problems.push('trafficRouting.waitInterval: at most 1h');
  if (seconds(routing.terminationWait) > 3_600) problems.push('trafficRouting.terminationWait: at most 1h');
  const limit = seconds(routing.maximumExecutionTimeout);
  if (limit < 600 || limit > 28_800) problems.push('trafficRouting.maximumExecutionTimeout: from 10m to 8h');
  if (problems.length > 0) throw validationFailure(`SageMaker refuses this blue/green policy: ${problems.join('; ')}`);
}

async function resolveModel(
  deps: { sagemaker: SageMakerSender; training: TrainingCompute },
  settings: DeploySettings,
): Promise<{ modelUri: string; modelVersionArn: string | null }> {
  if (settings.modelUri) return { modelUri: settings.modelUri, modelVersionArn: null };
  if (settings.trainingJobName) {
    const name = settings.trainingJobName;
    const job = await awsCall({ operation: 'DescribeTrainingJob', resource: `training job ${name}` }, () => deps.training.describe(name));
    if (!job)
      throw validationFailure(`trainingJobName: no training job ${name} (on ${deps.training.backend} compute); llmtwin fine-tune runs one`);
    const artifact = job.ModelArtifacts?.S3ModelArtifacts;
    if (job.TrainingJobStatus !== 'Completed' || !artifact) {
      throw validationFailure(
        `trainingJobName: training job ${name} is ${job.TrainingJobStatus ?? 'unknown'}, not Completed, so it has no model to deploy`,
      );
    }
    return { modelUri: artifact, modelVersionArn: null };
  }
  const arn = settings.modelVersionArn as string;
  const version = await awsCall({ operation: 'DescribeModelPackage', resource: `model version ${arn}` }, () =>
    deps.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })),
  );
  if (version.ModelApprovalStatus !== 'Approved') {
    throw validationFailure(
      `modelVersionArn: version ${version.ModelPackageVersion ?? arn} is ${version.ModelApprovalStatus ?? 'not approved'}; only Approved versions deploy (llmtwin models approve <version> --reason <why> approves one its evaluation waits on)`,
    );
  }
  const modelUri = version.InferenceSpecification?.Containers?.[0]?.ModelDataUrl;
  if (!modelUri)
    throw validationFailure(`modelVersionArn: version ${arn} names no model artifact (InferenceSpecification.Containers[0].ModelDataUrl)`);
  return { modelUri, modelVersionArn: arn };
}
