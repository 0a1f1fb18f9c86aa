import type { CreateTrainingJobCommandInput, DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { resourceTags } from '../../common/shared/naming';
import { TRAINING_METRIC_DEFINITIONS, type TrainingPlan } from '../../common/fine-tune/contract';

/**
 * The CreateTrainingJob request, built from the plan alone (pure), and the comparison that tells
 * whether a job found under our deterministic name is the one we would have created.
 */

/** SageMaker's CheckpointConfig.LocalPath; jobs/train saves checkpoints there (its default). */
export const CHECKPOINT_LOCAL_PATH = '/opt/ml/checkpoints';
export const ENTRY_POINT = 'train.py';

/**
 * Hyperparameters as SageMaker takes them (every value a string), JSON-encoded the way the SageMaker
 * Python SDK encodes them: the training toolkit json-decodes each value, so strings arrive as strings
 * ("null" stays "null") and numbers and booleans as themselves. Names match
 * jobs/train/llmtwin_train/settings.py (a unit test checks the two lists agree).
 */
export function sageMakerHyperparameters(plan: TrainingPlan, region: string): Record<string, string> {
  const hp = plan.hyperparameters;
  const ours: Record<string, string | number | boolean> = {
    base_model_id: plan.baseModelId,
    lora_r: hp.lora.r,
    lora_alpha: hp.lora.alpha,
    lora_dropout: hp.lora.dropout,
    lora_target_modules: hp.lora.targetModules === 'all-linear' ? 'all-linear' : hp.lora.targetModules.join(','),
    epochs: hp.epochs,
    learning_rate: hp.learningRate,
    per_device_batch_size: hp.batchSize,
    gradient_accumulation_steps: hp.gradientAccumulationSteps,
    max_seq_length: hp.maxSeqLength,
    load_in_4bit: hp.load4bit,
    export: hp.export,
    save_steps: hp.checkpointSteps,
    seed: hp.seed,
    system_prompt: hp.systemPrompt,
    instruction_field: hp.datasetFields.instruction,
    output_field: hp.datasetFields.output,
    input_field: hp.datasetFields.input,
  };
  const toolkit = {
    // Script mode: the toolkit downloads and unpacks this tarball, pip-installs its requirements.txt, runs the program.
    sagemaker_program: ENTRY_POINT,
    sagemaker_submit_directory: plan.codeUri,
    sagemaker_region: region,
    sagemaker_container_log_level: 20,
  };
  return Object.fromEntries(Object.entries({ ...ours, ...toolkit }).map(([key, value]) => [key, JSON.stringify(value)]));
}

function channel(name: 'train' | 'test', uri: string) {
  return {
    ChannelName: name,
    // S3Prefix on the object's own key: the channel directory receives exactly that file.
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri, S3DataDistributionType: 'FullyReplicated' as const } },
    ContentType: 'application/jsonl',
    InputMode: 'File' as const,
  };
}

export function checkpointUri(plan: TrainingPlan, jobName: string): string | undefined {
  if (plan.spot.checkpointS3Uri) return plan.spot.checkpointS3Uri;
  // On-demand jobs are never restarted by SageMaker, so checkpoints only pay off with spot.
  return plan.spot.enabled ? `${plan.checkpointBaseUri}${jobName}/` : undefined;
}

/** Everything but the environment (the Hugging Face token is added by the activity, never logged). */
export function buildCreateTrainingJobRequest(
  plan: TrainingPlan,
  instanceType: string,
  jobName: string,
  region: string,
): CreateTrainingJobCommandInput {
  const checkpoint = checkpointUri(plan, jobName);
  return {
    TrainingJobName: jobName,
    RoleArn: plan.roleArn,
    AlgorithmSpecification: {
      TrainingImage: plan.imageUri,
      TrainingInputMode: 'File',
      MetricDefinitions: TRAINING_METRIC_DEFINITIONS.map((definition) => ({ ...definition })),
      EnableSageMakerMetricsTimeSeries: true,
    },
    HyperParameters: sageMakerHyperparameters(plan, region),
    InputDataConfig: [channel('train', plan.trainUri), channel('test', plan.testUri)],
    OutputDataConfig: { S3OutputPath: plan.outputUri, ...(plan.kms?.outputKeyId ? { KmsKeyId: plan.kms.outputKeyId } : {}) },
    ResourceConfig: {
      InstanceType: instanceType as never,
      InstanceCount: plan.instanceCount,
      VolumeSizeInGB: plan.volumeSizeGb,
      ...(plan.kms?.volumeKeyId ? { VolumeKmsKeyId: plan.kms.volumeKeyId } : {}),
    },
    StoppingCondition: {
      MaxRuntimeInSeconds: plan.maxRuntimeSeconds,
      ...(plan.spot.enabled ? { MaxWaitTimeInSeconds: plan.spot.maxWaitSeconds } : {}),
    },
    EnableManagedSpotTraining: plan.spot.enabled,
    ...(checkpoint ? { CheckpointConfig: { S3Uri: checkpoint, LocalPath: CHECKPOINT_LOCAL_PATH } } : {}),
    ...(plan.vpc ? { VpcConfig: { SecurityGroupIds: plan.vpc.securityGroupIds, Subnets: plan.vpc.subnets } } : {}),
    Tags: [
      ...resourceTags({ runId: plan.runId, datasetHash: plan.datasetHash }),
      { Key: 'llmtwin:stage', Value: 'train' },
      ...Object.entries(plan.tags).map(([Key, Value]) => ({ Key, Value })),
    ],
  };
}

/**
 * Fields of an existing job that differ from the request we would send. The job name is a hash of
 * these inputs, so a difference means someone else's job, or a collision: never adopt it silently.
 * (Role, output path and tags are not compared: changing them does not change what is trained.)
 */
export function trainingJobMismatches(existing: DescribeTrainingJobCommandOutput, request: CreateTrainingJobCommandInput): string[] {
  const mismatches: string[] = [];
  const compare = (field: string, actual: unknown, wanted: unknown) => {
    if (actual !== undefined && JSON.stringify(actual) !== JSON.stringify(wanted)) mismatches.push(field);
  };
  compare(
    'AlgorithmSpecification.TrainingImage',
    existing.AlgorithmSpecification?.TrainingImage,
    request.AlgorithmSpecification?.TrainingImage,
  );
  compare('ResourceConfig.InstanceType', existing.ResourceConfig?.InstanceType, request.ResourceConfig?.InstanceType);
  compare('ResourceConfig.InstanceCount', existing.ResourceConfig?.InstanceCount, request.ResourceConfig?.InstanceCount);
  if (existing.HyperParameters) compare('HyperParameters', sortKeys(existing.HyperParameters), sortKeys(request.HyperParameters ?? {}));
  const uris = (channels: typeof existing.InputDataConfig) =>
    (channels ?? []).map((c) => `${c.ChannelName}=${c.DataSource?.S3DataSource?.S3Uri ?? ''}`).sort();
  if (existing.InputDataConfig) compare('InputDataConfig', uris(existing.InputDataConfig), uris(request.InputDataConfig));
  return mismatches;
}

function sortKeys(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** SageMaker reports a job that never got instances as Failed with a CapacityError reason. */
export function isCapacityFailure(failureReason: string | undefined): boolean {
  return /CapacityError|InsufficientCapacity|insufficient capacity|Unable to provision requested ML compute capacity/i.test(
    failureReason ?? '',
  );
}
