import {
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  ListTagsCommand,
  UpdateModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  type ModelPackageSummary,
} from '@aws-sdk/client-sagemaker';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';
import type { ApprovalStatus, Champion, ModelVersion } from '../../common/evaluate/contract';
import { isVersionOf, metricsFromProperties, SERVED_MODEL_PACKAGE_TAG } from '../../common/evaluate/registry';
import { awsCall, readIfExists } from '../aws/errors';
import type { SageMakerSender } from '../aws/clients';

/**
 * The model registry: a Model Package Group per twin, a version per evaluated model (registration.ts
 * creates them, on the worker). What is here reads versions and sets their approval, which the CLI does
 * too (`models list|approve`); keeping creation apart keeps it out of the operator's IAM policy.
 */

export function versionOf(
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
