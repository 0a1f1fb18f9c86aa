import { createHash } from 'node:crypto';
import { CreateModelPackageCommand, CreateModelPackageGroupCommand, DescribeModelPackageGroupCommand } from '@aws-sdk/client-sagemaker';
import type { ApprovalStatus, ModelVersion } from '../../common/evaluate/contract';
import type { ModelMetrics } from '../../common/evaluate/gate';
import { isVersionOf, metricProperties, VERSION_KEYS, versionDescription } from '../../common/evaluate/registry';
import { MANAGED_TAG, TWIN_TAG_KEY } from '../../common/shared/naming';
import { awsCall, isAlreadyExists, readIfExists, toAwsFailure } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';
import { describeVersion, listVersions, setVersionStatus, versionOf } from './registry';

/**
 * Registering an evaluated model: a Model Package Group per twin, a version per evaluation. Versions
 * have no name of ours (SageMaker numbers them), so a retry finds its version by the evaluation job's
 * name, which starts the version's description; ClientToken makes a repeated create idempotent on AWS too.
 */

export interface RegistrationInput {
  groupName: string;
  twin: string;
  evaluationJobName: string;
  trainingJobName?: string;
  modelUri: string;
  imageUri: string;
  baseModelId: string;
  datasetHash: string;
  evaluationUri: string;
  reportUri: string;
  workflowId: string;
  twinMetrics: ModelMetrics;
  baseMetrics: ModelMetrics;
  status: ApprovalStatus;
  gate: 'approved' | 'rejected';
  description?: string;
}

export async function ensureModelPackageGroup(sagemaker: SageMakerSender, groupName: string, twin: string): Promise<void> {
  const existing = await readIfExists({ operation: 'DescribeModelPackageGroup', resource: `model package group ${groupName}` }, () =>
    sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: groupName })),
  );
  if (existing) return;
  try {
    await sagemaker.send(
      new CreateModelPackageGroupCommand({
        ModelPackageGroupName: groupName,
        ModelPackageGroupDescription: `llmtwin: the model versions of twin ${twin}`,
        // A versioned package takes its group's tags.
        Tags: [
          { Key: MANAGED_TAG.key, Value: MANAGED_TAG.value },
          { Key: TWIN_TAG_KEY, Value: twin },
        ],
      }),
    );
  } catch (error) {
    // A concurrent run created it first: the group is there, which is all this needs.
    if (!isAlreadyExists(error))
      throw toAwsFailure(error, { operation: 'CreateModelPackageGroup', resource: `model package group ${groupName}` });
  }
}

function properties(input: RegistrationInput): Record<string, string> {
  return {
    ...metricProperties(input.twinMetrics, input.baseMetrics),
    [VERSION_KEYS.evaluationJob]: input.evaluationJobName,
    ...(input.trainingJobName ? { [VERSION_KEYS.trainingJob]: input.trainingJobName } : {}),
    [VERSION_KEYS.datasetHash]: input.datasetHash,
    [VERSION_KEYS.baseModel]: input.baseModelId.slice(0, 256),
    [VERSION_KEYS.report]: input.reportUri.slice(0, 256),
    [VERSION_KEYS.evaluation]: input.evaluationUri.slice(0, 256),
    [VERSION_KEYS.workflowId]: input.workflowId.slice(0, 256),
    [VERSION_KEYS.gate]: input.gate,
  };
}

/** The version for this evaluation: found (a retry, or a rerun of the same evaluation) or created once. */
export async function registerModelVersion(
  sagemaker: SageMakerSender,
  input: RegistrationInput,
): Promise<{ version: ModelVersion; created: boolean }> {
  await ensureModelPackageGroup(sagemaker, input.groupName, input.twin);
  const found = (await listVersions(sagemaker, input.groupName)).find((summary) =>
    isVersionOf(summary.ModelPackageDescription, input.evaluationJobName),
  );
  if (found) {
    const version = versionOf(found, input.groupName);
    // The same evaluation judged again (other thresholds, another champion): the registry follows the new verdict.
    if (version.status === input.status) return { version, created: false };
    const updated = await setVersionStatus(sagemaker, version.arn, input.status, input.description ?? `gate ${input.gate}`, {
      [VERSION_KEYS.gate]: input.gate,
      [VERSION_KEYS.workflowId]: input.workflowId.slice(0, 256),
    });
    return { version: updated, created: false };
  }
  const created = await awsCall({ operation: 'CreateModelPackage', resource: `a version in ${input.groupName}` }, () =>
    sagemaker.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: input.groupName,
        ModelPackageDescription: versionDescription(input.evaluationJobName, input.baseModelId),
        // At most 36 characters: the same evaluation always sends the same token.
        ClientToken: createHash('sha256').update(`${input.groupName}|${input.evaluationJobName}`).digest('hex').slice(0, 36),
        InferenceSpecification: {
          Containers: [{ Image: input.imageUri, ModelDataUrl: input.modelUri }],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
        },
        ModelApprovalStatus: input.status,
        ...(input.description ? { ApprovalDescription: input.description } : {}),
        ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: input.evaluationUri } } },
        CustomerMetadataProperties: properties(input),
      }),
    ),
  );
  const described = await describeVersion(sagemaker, created.ModelPackageArn as string);
  return {
    version: described
      ? versionOf(described, input.groupName)
      : { groupName: input.groupName, arn: created.ModelPackageArn as string, version: 0, status: input.status },
    created: true,
  };
}
