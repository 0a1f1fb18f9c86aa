import { existsSync } from 'node:fs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { z } from 'zod';
import { effectiveExecutionRoleArn, type LlmtwinConfig } from '../../common/config';
import { ManifestSchema } from '../../common/prepare-data/contract';
import { durationToMs } from '../../common/shared/durations';
import { parseS3Uri, s3Key, s3Uri } from '../../common/shared/naming';
import {
  resolveHyperparameters,
  TOY_BASE_MODEL_ID,
  TOY_BASE_MODEL_NOTE,
  type FineTuneSettings,
  type HyperparametersInput,
  type TrainingPlan,
} from '../../common/fine-tune/contract';
import { localGpuCount } from '../local/machine';
import { projectPath } from '../../platform/paths';
import { trainingImageUri, UnknownTrainingImageError } from '../../common/fine-tune/images';
import { unknownInstanceTypeProblem } from '../../common/shared/instance-types';
import { parseOrFail, validationFailure } from '../../common/shared/validation';
import { awsCall } from '../aws/errors';
import { stageTrainingCode } from './training-code';
import type { S3Sender } from '../aws/clients';

/**
 * Turns a fine-tune input into a TrainingPlan: reads and validates the dataset manifest, fills in the
 * worker's config defaults, resolves the image and stages the training code. Idempotent (reads, and a
 * content-addressed upload).
 */

/**
 * What fine-tuning needs from prepare-data's manifest.json: its own schema (common/prepare-data/contract.ts), narrowed
 * to the fields this stage reads, so the rest of the manifest can evolve without breaking training.
 */
export const ManifestForTrainingSchema = ManifestSchema.pick({ datasetHash: true, files: true });

/** SageMaker's limit on MaxRuntimeInSeconds and MaxWaitTimeInSeconds. */
const MAX_TRAINING_SECONDS = 28 * 24 * 3600;

export interface PlanDeps {
  s3: S3Sender;
  config: LlmtwinConfig;
  codeDir?: string;
  backend: 'sagemaker' | 'local';
  /** NVIDIA GPUs on this machine (local compute); read from the driver by default. */
  gpuCount?: () => number;
}

export async function planFineTune(
  deps: PlanDeps,
  input: FineTuneSettings,
  runId: string,
  givenHyperparameters: HyperparametersInput = input.hyperparameters,
): Promise<TrainingPlan> {
  const { config } = deps;
  // Before any AWS call: an instance type SageMaker would refuse late (or moto would accept) fails now.
  const named: Array<[string, string]> = [
    ...(input.instanceType ? [['instanceType', input.instanceType] as [string, string]] : []),
    ...(input.instanceFallbacks ?? []).map((type, index): [string, string] => [`instanceFallbacks.${index}`, type]),
  ];
  const problems = named.flatMap(([field, type]) => {
    const problem = unknownInstanceTypeProblem(type, config.sagemaker.extraInstanceTypes);
    return problem ? [`${field}: ${problem}`] : [];
  });
  if (problems.length > 0) throw validationFailure(`invalid fineTune input: ${problems.join('; ')}`, { details: problems });
  const manifest = await readManifest(deps.s3, input.datasetUri);
  if (manifest.files.train.records === 0)
    throw validationFailure(`dataset ${manifest.datasetHash} has no training records: prepare data from a larger corpus`);

  const maxRuntimeSeconds = Math.ceil(durationToMs(input.maxRuntime ?? config.training.maxRuntime) / 1000);
  const spotEnabled = input.spot.enabled ?? config.training.spot;
  const maxWaitSeconds = Math.ceil(durationToMs(input.spot.maxWait ?? config.training.spotMaxWait) / 1000);
  if (maxRuntimeSeconds > MAX_TRAINING_SECONDS) throw validationFailure('maxRuntime: SageMaker allows at most 28 days');
  if (spotEnabled && (maxWaitSeconds < maxRuntimeSeconds || maxWaitSeconds > MAX_TRAINING_SECONDS)) {
    throw validationFailure(`spot.maxWait (${maxWaitSeconds}s) must be at least maxRuntime (${maxRuntimeSeconds}s) and at most 28 days`);
  }

  const code = await stageTrainingCode(deps.s3, config.s3.bucket, config.s3.prefix, deps.codeDir);
  const preferred = input.instanceType ?? config.sagemaker.trainingInstanceType;
  const local = deps.backend === 'local';
  const gpus = local ? (deps.gpuCount ?? localGpuCount)() : 0;
  const baseModelId = baseModelFor(input, config, deps.backend, gpus);
  return {
    datasetHash: manifest.datasetHash,
    trainUri: manifest.files.train.uri,
    testUri: manifest.files.test.uri,
    trainRecords: manifest.files.train.records,
    testRecords: manifest.files.test.records,
    baseModelId,
    ...(baseModelId === TOY_BASE_MODEL_ID ? { baseModelNote: TOY_BASE_MODEL_NOTE } : {}),
    compute: deps.backend,
    imageUri: resolveImage(input, config),
    codeUri: code.uri,
    codeSha256: code.sha256,
    hyperparameters: resolveHyperparameters(givenHyperparameters, baseModelId),
    // SageMaker's Python SDK calls its local mode's instance types the same: this machine, with or without a GPU.
    instanceTypes: local
      ? [gpus > 0 ? 'local_gpu' : 'local']
      : [...new Set([preferred, ...(input.instanceFallbacks ?? config.sagemaker.trainingInstanceFallbacks)])],
    instanceCount: input.instanceCount,
    volumeSizeGb: input.volumeSizeGb ?? config.training.volumeSizeGb,
    maxRuntimeSeconds,
    // Spot is SageMaker's; a local job is never interrupted by anyone but its owner.
    spot: {
      enabled: spotEnabled && !local,
      maxWaitSeconds,
      ...(input.spot.checkpointS3Uri ? { checkpointS3Uri: input.spot.checkpointS3Uri } : {}),
    },
    checkpointBaseUri: `${s3Uri(config.s3.bucket, s3Key(config.s3.prefix, 'checkpoints'))}/`,
    outputUri: `${s3Uri(config.s3.bucket, s3Key(config.s3.prefix, 'training'))}/`,
    roleArn: effectiveExecutionRoleArn(config),
    ...(input.vpc ? { vpc: input.vpc } : {}),
    ...(input.kms ? { kms: input.kms } : {}),
    tags: input.tags ?? {},
    ...(input.huggingFaceToken ? { huggingFaceToken: input.huggingFaceToken } : {}),
    force: input.force,
    runId,
    resourceNamePrefix: config.resourceNamePrefix,
  };
}

/**
 * The base model: the input's, else the backend's default. On local compute `auto` means the configured
 * model where there is a GPU to train it and the toy where there is not; a path is made absolute (the
 * job runs in its own folder), and is refused on SageMaker, whose instances cannot see this machine.
 */
function baseModelFor(input: FineTuneSettings, config: LlmtwinConfig, backend: 'sagemaker' | 'local', gpus: number): string {
  const configured = config.compute.local.baseModelId;
  const chosen =
    input.baseModelId ??
    (backend === 'sagemaker'
      ? config.training.baseModelId
      : configured === 'auto'
        ? gpus > 0
          ? config.training.baseModelId
          : TOY_BASE_MODEL_ID
        : configured);
  if (!/^\.{0,2}\//.test(chosen)) return chosen;
  if (backend === 'sagemaker') {
    throw validationFailure(
      `baseModelId: ${chosen} is a path on this machine, which a SageMaker training job cannot read; name a Hugging Face model id, or run with compute.backend local`,
    );
  }
  const path = projectPath(chosen);
  // The plan runs where the job will: a folder missing here fails now, not minutes later inside the job.
  if (!existsSync(path)) {
    throw validationFailure(
      `baseModelId: ${path} does not exist on this machine; give a model folder (config.json and weights) or a Hugging Face model id`,
    );
  }
  return path;
}

export function resolveImage(input: Pick<FineTuneSettings, 'image'>, config: LlmtwinConfig): string {
  if (input.image && 'uri' in input.image) return input.image.uri;
  try {
    if (input.image)
      return trainingImageUri(config.aws.region, { transformers: input.image.transformersVersion, pytorch: input.image.pytorchVersion });
    if (config.training.imageUri) return config.training.imageUri;
    return trainingImageUri(config.aws.region, {
      transformers: config.training.transformersVersion,
      pytorch: config.training.pytorchVersion,
    });
  } catch (error) {
    if (error instanceof UnknownTrainingImageError) throw validationFailure(`image: ${error.message}`);
    throw error;
  }
}

/** The dataset's manifest.json, validated: what training and evaluation read from a dataset prefix. */
export async function readManifest(s3: S3Sender, datasetUri: string): Promise<z.output<typeof ManifestForTrainingSchema>> {
  const manifestUri = datasetUri.endsWith('manifest.json') ? datasetUri : `${datasetUri.replace(/\/*$/, '')}/manifest.json`;
  const { bucket, key } = parseS3Uri(manifestUri);
  const object = await awsCall(
    { operation: 'GetObject', resource: `dataset manifest ${manifestUri} (run prepare-data first, or check datasetUri)` },
    () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
  );
  const text = (await object.Body?.transformToString('utf-8')) ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw validationFailure(`${manifestUri} is not valid JSON`, { cause: error });
  }
  return parseOrFail(ManifestForTrainingSchema, parsed, `dataset manifest ${manifestUri}`);
}
