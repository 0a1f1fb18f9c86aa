import { ENDPOINT_TAGS } from '../../common/deploy/plan';
import {
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  ListEndpointsCommand,
  ListTagsCommand,
  type DescribeEndpointCommandOutput,
  type DescribeEndpointConfigCommandOutput,
  type DescribeModelCommandOutput,
  type EndpointSummary,
} from '@aws-sdk/client-sagemaker';
import { KEEP_TAG, MANAGED_TAG } from '../../common/shared/naming';

import { awsCall, readIfExists } from './errors';
import type { SageMakerSender } from './clients';

/**
 * SageMaker endpoints, their configs and models: the reads every stage that touches endpoints makes
 * (the idle monitor and sweep, deployment, the CLI). Reads only: the CLI reaches this file, and its IAM
 * policy (common/shared/iam-policies.ts) grants what the files it reaches can send.
 */

export function describeEndpointIfExists(
  sagemaker: SageMakerSender,
  endpointName: string,
  abortSignal?: AbortSignal,
): Promise<DescribeEndpointCommandOutput | undefined> {
  return readIfExists({ operation: 'DescribeEndpoint', resource: `endpoint ${endpointName}` }, () =>
    sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }), { abortSignal }),
  );
}

export function describeEndpointConfigIfExists(
  sagemaker: SageMakerSender,
  configName: string,
  abortSignal?: AbortSignal,
): Promise<DescribeEndpointConfigCommandOutput | undefined> {
  return readIfExists({ operation: 'DescribeEndpointConfig', resource: `endpoint config ${configName}` }, () =>
    sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: configName }), { abortSignal }),
  );
}

export function describeModelIfExists(
  sagemaker: SageMakerSender,
  modelName: string,
  abortSignal?: AbortSignal,
): Promise<DescribeModelCommandOutput | undefined> {
  return readIfExists({ operation: 'DescribeModel', resource: `model ${modelName}` }, () =>
    sagemaker.send(new DescribeModelCommand({ ModelName: modelName }), { abortSignal }),
  );
}

export interface OwnershipTags {
  managed: boolean;
  keep: boolean;
  /** The config a rollback would serve again (deploy's llmtwin:previous-config), when the endpoint names one. */
  previousConfig?: string;
}

/** Every tag of a SageMaker resource, paged. */
export async function readTags(sagemaker: SageMakerSender, resourceArn: string, abortSignal?: AbortSignal): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await awsCall({ operation: 'ListTags', resource: resourceArn }, () =>
      sagemaker.send(new ListTagsCommand({ ResourceArn: resourceArn, MaxResults: 100, NextToken: token }), { abortSignal }),
    );
    for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags.set(tag.Key, tag.Value ?? '');
    nextToken = page.NextToken;
  } while (nextToken);
  return tags;
}

/** The llmtwin tags of a SageMaker resource (an endpoint has at most 50 tags: one page). */
export async function readOwnershipTags(
  sagemaker: SageMakerSender,
  resourceArn: string,
  abortSignal?: AbortSignal,
): Promise<OwnershipTags> {
  const tags = await readTags(sagemaker, resourceArn, abortSignal);
  const previousConfig = tags.get(ENDPOINT_TAGS.previousConfig);
  return {
    managed: tags.get(MANAGED_TAG.key) === MANAGED_TAG.value,
    keep: tags.get(KEEP_TAG.key) === KEEP_TAG.value,
    ...(previousConfig ? { previousConfig } : {}),
  };
}

/**
 * Every endpoint in the account and region, 100 a page. A page token that no longer holds (moto's
 * names the next endpoint, which a deletion between pages invalidates; AWS's expire) starts the
 * listing over, twice at most: a fleet being torn down must not fail the sweep that watches it.
 */
export async function listAllEndpoints(sagemaker: SageMakerSender, abortSignal?: AbortSignal): Promise<EndpointSummary[]> {
  for (let restarts = 0; ; restarts += 1) {
    try {
      return await listEndpointPages(sagemaker, abortSignal);
    } catch (error) {
      if (restarts >= 2 || !isStalePageToken(error)) throw error;
    }
  }
}

function isStalePageToken(error: unknown): boolean {
  const cause = (error as { cause?: { name?: string; message?: string } }).cause ?? (error as { name?: string; message?: string });
  return (
    cause.name === 'InvalidToken' || (cause.name === 'ValidationException' && /next ?token|pagination token/i.test(cause.message ?? ''))
  );
}

async function listEndpointPages(sagemaker: SageMakerSender, abortSignal?: AbortSignal): Promise<EndpointSummary[]> {
  const endpoints: EndpointSummary[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await awsCall({ operation: 'ListEndpoints' }, () =>
      sagemaker.send(new ListEndpointsCommand({ MaxResults: 100, NextToken: token }), { abortSignal }),
    );
    endpoints.push(...(page.Endpoints ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return endpoints;
}
