import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  UpdateModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  type ModelPackageSummary,
} from '@aws-sdk/client-sagemaker';
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';
import type { ApprovalStatus, Champion, ModelVersion } from '../../common/evaluate/contract';
import type { ModelMetrics } from '../../common/evaluate/gate';
import {
  isVersionOf,
  metricProperties,
  metricsFromProperties,
  SERVED_MODEL_PACKAGE_TAG,
  VERSION_KEYS,
  versionDescription,
} from '../../common/evaluate/registry';
import { MANAGED_TAG, TWIN_TAG_KEY } from '../../common/shared/naming';
import { awsCall, isAlreadyExists, readIfExists, toAwsFailure } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';

/**
 * The model registry: a Model Package Group per twin, a version per evaluated model. Versions have no
 * name of ours (SageMaker numbers them), so a retry finds its version by the evaluation job's name,
 * which starts the version's description; ClientToken makes a repeated create idempotent on AWS too.
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

function versionOf(
  pkg: Pick<DescribeModelPackageCommandOutput, 'ModelPackageArn' | 'ModelPackageVersion' | 'ModelApprovalStatus'>,
  groupName: string,
): ModelVersion {
  return {
    groupName,
    arn: pkg.ModelPackageArn as string,
    version: pkg.ModelPackageVersion ?? 0,
    // moto leaves the status empty when a create names none; AWS answers PendingManualApproval.
    status: pkg.ModelApprovalStatus || 'PendingManualApproval',
  };
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

/** The group's versions, newest first; none when the group does not exist yet (nothing was registered). */
export async function listVersions(sagemaker: SageMakerSender, groupName: string, status?: ApprovalStatus): Promise<ModelPackageSummary[]> {
  const versions: ModelPackageSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await readIfExists({ operation: 'ListModelPackages', resource: `model package group ${groupName}` }, () =>
      sagemaker.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: groupName,
          ModelPackageType: 'Versioned',
          SortBy: 'CreationTime',
          SortOrder: 'Descending',
          MaxResults: 100,
          ...(status ? { ModelApprovalStatus: status } : {}),
          ...(NextToken ? { NextToken } : {}),
        }),
      ),
    );
    if (!page) return versions;
    versions.push(...(page.ModelPackageSummaryList ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return versions;
}

export async function describeVersion(sagemaker: SageMakerSender, arn: string): Promise<DescribeModelPackageCommandOutput | undefined> {
  return readIfExists({ operation: 'DescribeModelPackage', resource: `model package ${arn}` }, () =>
    sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn })),
  );
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

/** Sets a version's approval status with the decision's who and why; the metadata is sent whole (moto blanks what an update leaves out). */
export async function setVersionStatus(
  sagemaker: SageMakerSender,
  arn: string,
  status: ApprovalStatus,
  description: string,
  extra: Record<string, string>,
): Promise<ModelVersion> {
  const current = await describeVersion(sagemaker, arn);
  if (!current) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.notFound,
      nonRetryable: true,
      message: `model package ${arn} is gone from the registry (deleted by someone else?); nothing to approve or reject`,
    });
  }
  const groupName = current.ModelPackageGroupName ?? '';
  if (current.ModelApprovalStatus === status) return versionOf(current, groupName);
  await awsCall({ operation: 'UpdateModelPackage', resource: `model package ${arn}` }, () =>
    sagemaker.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: arn,
        ModelApprovalStatus: status,
        ApprovalDescription: description.slice(0, 1024),
        CustomerMetadataProperties: { ...(current.CustomerMetadataProperties ?? {}), ...extra },
      }),
    ),
  );
  return { ...versionOf(current, groupName), status };
}

/**
 * The champion: the Approved version the target endpoint serves (its `llmtwin:model-package` tag, which
 * deploy sets), or without a target endpoint the twin's newest Approved version. `excludeEvaluationJob`
 * names the evaluation being judged: a rerun must not be compared with its own earlier version.
 */
export async function findChampion(
  sagemaker: SageMakerSender,
  groupName: string,
  targetEndpoint: string | undefined,
  excludeEvaluationJob?: string,
): Promise<Champion | null> {
  let arn: string | undefined;
  let source: Champion['source'] = 'newest-approved';
  if (targetEndpoint) {
    source = 'endpoint';
    const endpoint = await readIfExists({ operation: 'DescribeEndpoint', resource: `endpoint ${targetEndpoint}` }, () =>
      sagemaker.send(new DescribeEndpointCommand({ EndpointName: targetEndpoint })),
    );
    if (!endpoint?.EndpointArn) return null;
    const tags = await awsCall({ operation: 'ListTags', resource: endpoint.EndpointArn }, () =>
      sagemaker.send(new ListTagsCommand({ ResourceArn: endpoint.EndpointArn })),
    );
    arn = tags.Tags?.find((tag) => tag.Key === SERVED_MODEL_PACKAGE_TAG)?.Value;
  } else {
    const approved = await listVersions(sagemaker, groupName, 'Approved');
    arn = approved.find(
      (summary) => !excludeEvaluationJob || !isVersionOf(summary.ModelPackageDescription, excludeEvaluationJob),
    )?.ModelPackageArn;
  }
  if (!arn) return null;
  const pkg = await describeVersion(sagemaker, arn);
  if (!pkg || pkg.ModelApprovalStatus !== 'Approved') return null;
  if (excludeEvaluationJob && isVersionOf(pkg.ModelPackageDescription, excludeEvaluationJob)) return null;
  return {
    ...versionOf(pkg, pkg.ModelPackageGroupName ?? groupName),
    metrics: metricsFromProperties(pkg.CustomerMetadataProperties),
    source,
  };
}
