import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  ListEndpointConfigsCommand,
  ListModelsCommand,
  type DescribeEndpointConfigCommandOutput,
  type EndpointConfigSummary,
  type ModelSummary,
} from '@aws-sdk/client-sagemaker';
import type { OrphanReport } from '../../common/idle/sweep';
import { KEEP_TAG, MANAGED_TAG } from '../../common/shared/naming';
import { awsCall } from '../aws/errors';
import { describeEndpointConfigIfExists, readTags } from '../aws/endpoints';
import type { SageMakerSender } from '../aws/clients';
import { deleteIgnoringMissing } from './teardown';

/**
 * Endpoint configs and models tagged llmtwin:managed=true that nothing uses: what a teardown or a
 * compensation that failed half-way left behind. They bill nothing, but they pile up, and the sweep
 * (which lists endpoints) would otherwise never see them. A config is in use when an endpoint serves
 * it or names it as the one to roll back to (llmtwin:previous-config); a model when any remaining
 * config names it. Only resources named with the project's prefix and older than the grace are
 * candidates (a deployment in progress makes its model and config minutes before its endpoint), and
 * only those tagged managed and not llmtwin:keep=true are orphans. Calls: the two listings (100 a
 * page), one ListTags per candidate, one describe per config in use that the sweep did not already read.
 */

export const ORPHAN_GRACE_MS = 60 * 60_000;
/** How often a worker's ensure sweeps look for orphans. */
export const ORPHAN_SCAN_EVERY_MS = 60 * 60_000;

export interface InUse {
  /** Configs endpoints serve, with their models when the sweep read them. */
  configs: Map<string, string[] | undefined>;
  /** Configs endpoints keep for a rollback. */
  rollbackConfigs: Set<string>;
}

export async function findOrphans(
  sagemaker: SageMakerSender,
  inUse: InUse,
  options: {
    prefix: string;
    now: number;
    graceMs?: number;
    /** Reads a config (the sweep's cache: configs never change); default: DescribeEndpointConfig. */
    readConfig?: (name: string) => Promise<DescribeEndpointConfigCommandOutput | undefined>;
  },
  abortSignal?: AbortSignal,
): Promise<Omit<OrphanReport, 'deleted' | 'scanned'>> {
  const readConfig = options.readConfig ?? ((name: string) => describeEndpointConfigIfExists(sagemaker, name, abortSignal));
  const cutoff = options.now - (options.graceMs ?? ORPHAN_GRACE_MS);
  const old = (name: string | undefined, created: Date | undefined) =>
    name !== undefined && name.startsWith(`${options.prefix}-`) && (created?.getTime() ?? Infinity) < cutoff;
  const configs = (await listAll<EndpointConfigSummary>(sagemaker, 'configs', options.prefix, abortSignal)).filter((config) =>
    old(config.EndpointConfigName, config.CreationTime),
  );
  const models = (await listAll<ModelSummary>(sagemaker, 'models', options.prefix, abortSignal)).filter((model) =>
    old(model.ModelName, model.CreationTime),
  );

  const orphanConfigs: string[] = [];
  const modelsInUse = new Set<string>();
  const keptConfigs = [...inUse.configs.keys(), ...inUse.rollbackConfigs];
  for (const config of configs) {
    const name = config.EndpointConfigName as string;
    if (inUse.configs.has(name) || inUse.rollbackConfigs.has(name)) continue;
    if (await isOrphan(sagemaker, config.EndpointConfigArn, abortSignal)) orphanConfigs.push(name);
    else keptConfigs.push(name);
  }
  // The models of every config that stays (unless the sweep already read them).
  for (const name of new Set(keptConfigs)) {
    const known = inUse.configs.get(name);
    const modelNames = known ?? (await readConfig(name))?.ProductionVariants?.map((v) => v.ModelName);
    for (const modelName of modelNames ?? []) if (modelName) modelsInUse.add(modelName);
  }
  const orphanModels: string[] = [];
  for (const model of models) {
    const name = model.ModelName as string;
    if (modelsInUse.has(name)) continue;
    if (await isOrphan(sagemaker, model.ModelArn, abortSignal)) orphanModels.push(name);
  }
  return { endpointConfigs: orphanConfigs, models: orphanModels };
}

export async function deleteOrphans(
  sagemaker: SageMakerSender,
  orphans: Omit<OrphanReport, 'deleted' | 'scanned'>,
  abortSignal?: AbortSignal,
): Promise<void> {
  for (const name of orphans.endpointConfigs)
    await deleteIgnoringMissing('DeleteEndpointConfig', `endpoint config ${name}`, () =>
      sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }), { abortSignal }),
    );
  for (const name of orphans.models)
    await deleteIgnoringMissing('DeleteModel', `model ${name}`, () =>
      sagemaker.send(new DeleteModelCommand({ ModelName: name }), { abortSignal }),
    );
}

async function isOrphan(sagemaker: SageMakerSender, arn: string | undefined, abortSignal?: AbortSignal): Promise<boolean> {
  if (!arn) return false;
  const tags = await readTags(sagemaker, arn, abortSignal);
  return tags.get(MANAGED_TAG.key) === MANAGED_TAG.value && tags.get(KEEP_TAG.key) !== KEEP_TAG.value;
}

async function listAll<T>(sagemaker: SageMakerSender, what: 'configs' | 'models', prefix: string, abortSignal?: AbortSignal): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page =
      what === 'configs'
        ? await awsCall({ operation: 'ListEndpointConfigs' }, () =>
            sagemaker.send(new ListEndpointConfigsCommand({ NameContains: prefix, MaxResults: 100, NextToken: token }), { abortSignal }),
          )
        : await awsCall({ operation: 'ListModels' }, () =>
            sagemaker.send(new ListModelsCommand({ NameContains: prefix, MaxResults: 100, NextToken: token }), { abortSignal }),
          );
    items.push(...((page as { EndpointConfigs?: T[] }).EndpointConfigs ?? (page as { Models?: T[] }).Models ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return items;
}
