import type { CreateProcessingJobCommandInput } from '@aws-sdk/client-sagemaker';
import type { EvaluationPlan } from '../../common/evaluate/plan';
import { resourceTags } from '../../common/shared/naming';
import { EVALUATION_ENTRY_POINT } from './evaluation-code';

/**
 * The CreateProcessingJob request for an evaluation, built from the plan alone (pure). The Hugging Face
 * PyTorch training image runs it (the same image family and table as training: its libraries are the
 * ones the model was trained with). A processing job runs a command, not script mode, so the entrypoint
 * unpacks the code, installs jobs/evaluate's one extra requirement and runs the job.
 */

export const PROCESSING_ROOT = '/opt/ml/processing';
const CODE_DIR = `${PROCESSING_ROOT}/input/code`;

export function evaluationEntrypoint(): string[] {
  return [
    'bash',
    '-c',
    `set -e; cd ${CODE_DIR} && tar -xzf sourcedir.tar.gz && pip install --quiet --no-cache-dir -r evaluate/requirements.txt && exec python ${EVALUATION_ENTRY_POINT}`,
  ];
}

function input(name: string, uri: string, localPath: string) {
  return {
    InputName: name,
    S3Input: {
      S3Uri: uri,
      LocalPath: localPath,
      S3DataType: 'S3Prefix' as const,
      S3InputMode: 'File' as const,
      S3DataDistributionType: 'FullyReplicated' as const,
    },
  };
}

export function buildCreateProcessingJobRequest(plan: EvaluationPlan, jobName: string): CreateProcessingJobCommandInput {
  return {
    ProcessingJobName: jobName,
    RoleArn: plan.roleArn,
    AppSpecification: { ImageUri: plan.imageUri, ContainerEntrypoint: evaluationEntrypoint() },
    ProcessingResources: {
      ClusterConfig: {
        InstanceCount: 1,
        InstanceType: plan.instanceType as never,
        VolumeSizeInGB: plan.volumeSizeGb,
        ...(plan.kms?.volumeKeyId ? { VolumeKmsKeyId: plan.kms.volumeKeyId } : {}),
      },
    },
    ProcessingInputs: [
      input('model', plan.modelUri, `${PROCESSING_ROOT}/input/model`),
      input('data', plan.testUri, `${PROCESSING_ROOT}/input/data`),
      input('config', plan.configUri, `${PROCESSING_ROOT}/input/config`),
      input('code', plan.codeUri, CODE_DIR),
      ...(plan.trainingMetricsUri ? [input('training', plan.trainingMetricsUri, `${PROCESSING_ROOT}/input/training`)] : []),
    ],
    ProcessingOutputConfig: {
      Outputs: [
        {
          OutputName: 'evaluation',
          S3Output: { S3Uri: plan.outputUri, LocalPath: `${PROCESSING_ROOT}/output`, S3UploadMode: 'EndOfJob' },
        },
      ],
      ...(plan.kms?.outputKeyId ? { KmsKeyId: plan.kms.outputKeyId } : {}),
    },
    StoppingCondition: { MaxRuntimeInSeconds: plan.maxRuntimeSeconds },
    Environment: { HF_HUB_DISABLE_TELEMETRY: '1' },
    Tags: [
      ...resourceTags({ runId: plan.runId, datasetHash: plan.datasetHash }),
      { Key: 'llmtwin:stage', Value: 'evaluate' },
      ...Object.entries(plan.tags).map(([Key, Value]) => ({ Key, Value })),
    ],
  };
}
