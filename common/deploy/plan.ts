import { canonicalJson } from '../shared/canonical-json';
import { resourceName, stableHash } from '../shared/naming';
import type { IdlePolicyInput } from '../idle/contract';
import type { DeploySettings, TrafficRouting } from './contract';

/**
 * One deployment, resolved once by the planning activity and recorded in history: every name, the
 * image, the container environment and the policies. Names are content-addressed: the same model on the
 * same image and settings gives the same model name, the same model on the same instances the same
 * config name, so a retry (or a re-run after a crash) finds what the first attempt made.
 */
export interface DeploymentPlan {
  twin: string;
  endpointName: string;
  modelName: string;
  configName: string;
  variantName: string;
  image: string;
  /** The container's environment (vLLM's SM_VLLM_* or LMI's OPTION_*), from configuration. */
  environment: Record<string, string>;
  modelUri: string;
  modelVersionArn: string | null;
  executionRoleArn: string;
  instanceType: string;
  instanceCount: number;
  inferenceAmiVersion: string | null;
  trafficRouting: TrafficRouting;
  rollbackAlarms: string[];
  autoscaling: {
    minInstances: number;
    maxInstances: number;
    targetInvocationsPerInstance: number;
    scaleInCooldownSeconds: number;
    scaleOutCooldownSeconds: number;
  } | null;
  smokeTest: { prompt: string; maxTokens: number } | null;
  /** The policy a new monitor starts with; `asked`: the fields this run's input set, sent to a monitor already watching. */
  monitor: { policy: IdlePolicyInput; asked: IdlePolicyInput | null } | null;
  inServiceTimeout: string;
  /** On the model, the config and the endpoint. */
  tags: Array<{ Key: string; Value: string }>;
  compute: 'sagemaker' | 'local';
  region: string;
}

export const VARIANT_NAME = 'AllTraffic';

/** What serves one config of one endpoint: enough to start its server locally (a rollback has no plan of its own). */
export type ServedConfig = Pick<DeploymentPlan, 'endpointName' | 'configName' | 'variantName' | 'modelUri'>;

/** Tags the endpoint carries beyond the shared ones: what it serves and what it served before (rollback reads it). */
export const ENDPOINT_TAGS = {
  previousConfig: 'llmtwin:previous-config',
} as const;

export function endpointNameFor(prefix: string, twin: string): string {
  return resourceName({ prefix, stage: 'endpoint', key: twin });
}

/** The endpoint's name without the project's `<prefix>-endpoint-` head: what the other names start with, to read as the endpoint's. */
function shortName(prefix: string, endpointName: string): string {
  const head = `${prefix}-endpoint-`;
  return endpointName.startsWith(head) ? endpointName.slice(head.length) : endpointName;
}

export function modelNameFor(
  prefix: string,
  parts: { endpointName: string; modelUri: string; image: string; environment: Record<string, string> },
): string {
  const content = stableHash(`${parts.endpointName}|${parts.modelUri}|${parts.image}|${canonicalJson(parts.environment)}`).slice(0, 8);
  return resourceName({ prefix, stage: 'model', key: `${shortName(prefix, parts.endpointName)}-${content}` });
}

export function configNameFor(
  prefix: string,
  parts: { endpointName: string; modelName: string; instanceType: string; instanceCount: number; inferenceAmiVersion: string | null },
): string {
  const content = stableHash(
    `${parts.endpointName}|${parts.modelName}|${parts.instanceType}|${parts.instanceCount}|${parts.inferenceAmiVersion ?? ''}`,
  ).slice(0, 8);
  return resourceName({ prefix, stage: 'epconfig', key: `${shortName(prefix, parts.endpointName)}-${content}` });
}

/** SageMaker's runtime URL of an endpoint (SigV4, service `sagemaker`). */
export function runtimeInvokeUrl(region: string, endpointName: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://runtime.sagemaker.${region}.${domain}/endpoints/${endpointName}/invocations`;
}

/**
 * A local endpoint's server is a local job; job names are never reused (as on SageMaker), so serving a
 * config again after its server stopped (a rollback) takes the next generation.
 */
export function serveJobName(prefix: string, configName: string, generation: number): string {
  return resourceName({ prefix, stage: 'serve', key: `${configName.replace(`${prefix}-epconfig-`, '')}-g${generation}` });
}

/** Generations looked at, at most: far more rollbacks to one config than anyone makes. */
export const MAX_SERVE_GENERATIONS = 50;

/** The file a local server writes into its job folder once its model is loaded and it answers. */
export const LOCAL_SERVER_FILE = 'endpoint.json';

/** What the planning activity is given. */
export interface DeployPlanInput {
  settings: DeploySettings;
  runId: string;
}
