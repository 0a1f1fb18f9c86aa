import type { DescribeEndpointCommandOutput, DescribeEndpointConfigCommandOutput } from '@aws-sdk/client-sagemaker';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';
import type { EndpointState, VariantSnapshot } from '../../common/idle/contract';
import { usdPerHour, type PricingConfig } from '../../common/shared/pricing';
import { describeEndpointConfigIfExists, describeEndpointIfExists, readOwnershipTags, type OwnershipTags } from '../aws/endpoints';
import type { SageMakerSender } from '../aws/clients';

/** SageMaker's view of one endpoint: everything in an observation except the metrics. */
export type EndpointSnapshot = EndpointState & { endpointArn: string };

/**
 * Variants with their live instance counts (DescribeEndpoint) and instance types (the endpoint
 * config, the only place SageMaker states them). A config deleted under a live endpoint leaves the
 * types unknown, which prices as unknown rather than as zero.
 */
export function variantsOf(
  endpoint: DescribeEndpointCommandOutput,
  config: DescribeEndpointConfigCommandOutput | undefined,
  pricing: PricingConfig,
): VariantSnapshot[] {
  const configured = new Map((config?.ProductionVariants ?? []).map((variant) => [variant.VariantName ?? '', variant]));
  return (endpoint.ProductionVariants ?? []).map((summary) => {
    const variantName = summary.VariantName ?? 'AllTraffic';
    const instanceType = configured.get(variantName)?.InstanceType;
    const hourly = instanceType ? usdPerHour(instanceType, pricing) : undefined;
    return {
      variantName,
      ...(instanceType ? { instanceType } : {}),
      instanceCount: summary.CurrentInstanceCount ?? configured.get(variantName)?.InitialInstanceCount ?? 0,
      ...(hourly === undefined ? {} : { usdPerInstanceHour: hourly }),
    };
  });
}

export interface LoadedEndpoint {
  endpoint: DescribeEndpointCommandOutput;
  config: DescribeEndpointConfigCommandOutput | undefined;
  snapshot: EndpointSnapshot;
  /** The config its last deployment replaced, kept for a rollback. */
  previousConfig?: string;
}

/**
 * DescribeEndpoint + ListTags, and DescribeEndpointConfig unless `configs` already holds the config
 * (configs are immutable: each is read once per worker); undefined when the endpoint does not exist.
 */
export async function loadEndpoint(
  sagemaker: SageMakerSender,
  endpointName: string,
  options: { pricing: PricingConfig; configs?: EndpointConfigCache },
  abortSignal?: AbortSignal,
): Promise<LoadedEndpoint | undefined> {
  const endpoint = await describeEndpointIfExists(sagemaker, endpointName, abortSignal);
  if (!endpoint) return undefined;
  const config = endpoint.EndpointConfigName
    ? await (options.configs ?? new EndpointConfigCache()).read(sagemaker, endpoint.EndpointConfigName, abortSignal)
    : undefined;
  const tags = await readTagsIfExists(sagemaker, endpoint.EndpointArn ?? '', endpointName, abortSignal);
  if (!tags) return undefined;
  return loadedFrom(endpointName, endpoint, config, tags, options.pricing);
}

/** The loaded endpoint with tags read again (everything else unchanged since it was loaded). */
export function withTags(loaded: LoadedEndpoint, tags: OwnershipTags): LoadedEndpoint {
  const { previousConfig: _stale, ...rest } = loaded;
  return {
    ...rest,
    snapshot: { ...loaded.snapshot, managed: tags.managed, keep: tags.keep },
    ...(tags.previousConfig ? { previousConfig: tags.previousConfig } : {}),
  };
}

function loadedFrom(
  endpointName: string,
  endpoint: DescribeEndpointCommandOutput,
  config: DescribeEndpointConfigCommandOutput | undefined,
  tags: OwnershipTags,
  pricing: PricingConfig,
): LoadedEndpoint {
  const endpointArn = endpoint.EndpointArn ?? '';
  const creationTime = endpoint.CreationTime?.getTime() ?? 0;
  const snapshot: EndpointSnapshot = {
    found: true,
    endpointName,
    endpointArn,
    status: endpoint.EndpointStatus ?? 'Unknown',
    creationTime,
    lastModifiedTime: endpoint.LastModifiedTime?.getTime() ?? creationTime,
    ...(endpoint.EndpointConfigName ? { endpointConfigName: endpoint.EndpointConfigName } : {}),
    variants: variantsOf(endpoint, config, pricing),
    managed: tags.managed,
    keep: tags.keep,
    ...(config?.AsyncInferenceConfig ? { asynchronous: true } : {}),
  };
  return { endpoint, config, snapshot, ...(tags.previousConfig ? { previousConfig: tags.previousConfig } : {}) };
}

/**
 * Endpoint configs by name, read once: SageMaker has no UpdateEndpointConfig, so a config read once
 * stays true for as long as it exists. A missing one is not remembered (it may be created later).
 * The sweep prunes it to the configs its endpoints use, so it does not grow with the fleet's history.
 */
export class EndpointConfigCache {
  private readonly configs = new Map<string, DescribeEndpointConfigCommandOutput>();

  async read(
    sagemaker: SageMakerSender,
    name: string,
    abortSignal?: AbortSignal,
  ): Promise<DescribeEndpointConfigCommandOutput | undefined> {
    const known = this.configs.get(name);
    if (known) return known;
    const config = await describeEndpointConfigIfExists(sagemaker, name, abortSignal);
    if (config) this.configs.set(name, config);
    return config;
  }

  /** Forgets every config not in `inUse`. */
  keepOnly(inUse: ReadonlySet<string>): void {
    for (const name of this.configs.keys()) if (!inUse.has(name)) this.configs.delete(name);
  }
}

/**
 * Tags of an endpoint that may be deleted between the describe and this call. Some emulators answer
 * tag calls on a missing ARN with a 500 rather than not-found, so a failed read is only an error if the
 * endpoint still exists: one more describe settles it (a fleet sweep must not fail on one deletion).
 */
export async function readTagsIfExists(
  sagemaker: SageMakerSender,
  arn: string,
  endpointName: string,
  abortSignal?: AbortSignal,
): Promise<OwnershipTags | undefined> {
  try {
    return await readOwnershipTags(sagemaker, arn, abortSignal);
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === ERROR_TYPES.notFound) return undefined;
    if (!(await describeEndpointIfExists(sagemaker, endpointName, abortSignal))) return undefined;
    throw error;
  }
}
