import type { Client, WorkflowHandle } from '@temporalio/client';
import { LOCAL_ACCOUNT_ID, type LlmtwinConfig } from '../../common/config';
import {
  IDLE_MONITOR_ID_POLICIES,
  IDLE_MONITOR_WORKFLOW_TYPE,
  idleMonitorWorkflowId,
  statusQuery,
  type IdleMonitorWorkflow,
  type IdlePolicyInput,
  type IdleSummary,
} from '../../common/idle/contract';
import { formatDuration } from '../../common/idle/decision';
import { MANAGED_TAG } from '../../common/shared/naming';
import type { SageMakerSender } from '../../activities/aws/clients';
import { createEndpointWithModel } from './demo-endpoint';

/**
 * The idle monitor on the embedded stack, in about fifteen seconds: an endpoint made directly in
 * moto the way the deployment stage will make one (model, endpoint config, endpoint, tagged
 * llmtwin:managed=true), a monitor with a seconds-scale policy, its status while it watches, and the
 * summary once it has deleted the endpoint. Needs a worker serving the idle queue. Refuses to run
 * against real AWS: it creates an endpoint, and a real one costs money.
 */
export interface IdleDemoOptions {
  client: Client;
  config: LlmtwinConfig;
  sagemaker: SageMakerSender;
  taskQueue: string;
  /** Default: `llmtwin-demo-<time>`. */
  endpointName?: string;
  /** Default: check every 2 s, delete after 10 s without calls, 10 s grace. */
  policy?: IdlePolicyInput;
  log?: (line: string) => void;
}

export const DEMO_INSTANCE_TYPE = 'ml.g4dn.xlarge';
/** moto never pulls an image; any well-formed inference image URI will do. */
export const STAND_IN_IMAGE =
  '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04';
const DEMO_POLICY: IdlePolicyInput = { checkInterval: '2s', window: '10s', grace: '10s' };

export async function runIdleMonitorDemo(options: IdleDemoOptions): Promise<IdleSummary> {
  const { client, config, sagemaker, taskQueue } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  if (config.aws.target !== 'local')
    throw new Error('the idle demo creates an endpoint; it runs only against the local stack (aws.target "local")');
  const endpointName = options.endpointName ?? `llmtwin-demo-${Date.now()}`;
  await createDemoEndpoint(sagemaker, endpointName);
  log(`   created ${endpointName} (1 x ${DEMO_INSTANCE_TYPE}) in moto, tagged ${MANAGED_TAG.key}=${MANAGED_TAG.value}`);

  const policy = options.policy ?? DEMO_POLICY;
  const handle = await client.workflow.start<IdleMonitorWorkflow>(IDLE_MONITOR_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: idleMonitorWorkflowId(endpointName),
    workflowIdConflictPolicy: IDLE_MONITOR_ID_POLICIES.workflowIdConflictPolicy,
    workflowIdReusePolicy: IDLE_MONITOR_ID_POLICIES.workflowIdReusePolicy,
    args: [{ endpointName, policy }],
  });
  log(
    `   monitor ${handle.workflowId}: check every ${policy.checkInterval}, delete after ${policy.window} without calls (grace ${policy.grace ?? policy.window})`,
  );

  return watchMonitor(handle, log);
}

/** Follows a monitor until it ends: its status as it changes, then what it deleted and what that saved. */
export async function watchMonitor(handle: WorkflowHandle<IdleMonitorWorkflow>, log: (line: string) => void): Promise<IdleSummary> {
  const result = handle.result();
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  let last = '';
  while (!done) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    const line = status
      ? `${status.state}${status.timeUntilDeletionMs === null ? '' : `, deletes in ~${formatDuration(status.timeUntilDeletionMs)}`}${status.lastCheck ? ` (${status.lastCheck.reason})` : ''}`
      : '';
    if (line && line !== last) log(`   status: ${line}`);
    last = line;
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }
  const summary = await result;
  log(`   ${summary.message}`);
  log(
    `   up ${summary.uptime ?? '?'}, idle cost ~$${summary.estimatedIdleCostUsd?.toFixed(2) ?? '?'}; removed: endpoint, config ${summary.teardown?.endpointConfig?.name ?? '-'}, model(s) ${
      summary.teardown?.models
        .filter((m) => m.deleted)
        .map((m) => m.name)
        .join(', ') || '-'
    }`,
  );
  return summary;
}

/** Model, endpoint config and endpoint, all tagged as ours; moto makes the endpoint InService at once. */
export async function createDemoEndpoint(sagemaker: SageMakerSender, endpointName: string): Promise<void> {
  await createEndpointWithModel(sagemaker, {
    endpointName,
    modelName: `${endpointName}-model`,
    configName: `${endpointName}-config`,
    image: STAND_IN_IMAGE,
    executionRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/llmtwin-demo`,
    instanceType: DEMO_INSTANCE_TYPE,
    tags: [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }],
  });
}
