import {
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DeployActivities } from '../activities/deploy';
import {
  DEPLOY_STAGE,
  DeployInputSchema,
  deployStatusQuery,
  RollbackInputSchema,
  type DeployInput,
  type DeployResult,
  type DeployStatus,
  type EndpointStep,
  type RollbackInput,
  type RollbackResult,
} from '../common/deploy/contract';
import { runtimeInvokeUrl, type DeploymentPlan } from '../common/deploy/plan';
import { IDLE_MONITOR_WORKFLOW_TYPE, idleMonitorWorkflowId, setPolicySignal, type IdleMonitorInput } from '../common/idle/contract';
import { AWS_CALL, AWS_CREATE, AWS_SETUP, ENDPOINT_CHANGE, LONG_WAIT } from '../common/shared/activity-options';
import { SEARCH_ATTRIBUTES } from '../common/shared/search-attributes';
import { taskQueuesFor } from '../common/shared/task-queues';
import { parseWorkflowInput } from './boundary';

// Planning reads the model version or training job: a few reads.
const { planDeployment } = proxyActivities<DeployActivities>(AWS_SETUP);
// One describe and at most one create each, retried on throttling.
const { ensureModel, ensureEndpointConfig, applyAutoscaling, smokeTest } = proxyActivities<DeployActivities>(AWS_CALL);
// Waits for the call in flight to finish before cleanup, so an endpoint created at cancellation time is still undone.
const { ensureEndpoint } = proxyActivities<DeployActivities>(AWS_CREATE);
// Polling is only reading: on cancellation, move on to the cleanup at once.
const { waitForEndpoint } = proxyActivities<DeployActivities>(LONG_WAIT);
// Undoing waits for the endpoint to settle, and for a rollback to come InService.
const { compensateDeployment, rollbackEndpoint: rollBack } = proxyActivities<DeployActivities>(ENDPOINT_CHANGE);

/**
 * Deploys a twin as a SageMaker real-time endpoint (or a local one on local compute): the model, the
 * endpoint config, then CreateEndpoint or a blue/green UpdateEndpoint; waits for InService, applies
 * autoscaling, asks the twin one prompt, and starts the endpoint's idle monitor as an abandoned child
 * (it outlives this run, and deletes the endpoint once nobody calls it). On any failure, and on
 * cancel, it undoes what it made and puts back what served before.
 */
export async function deploy(rawInput: DeployInput): Promise<DeployResult> {
  const settings = parseWorkflowInput(DeployInputSchema, rawInput, 'deploy input');
  const info = workflowInfo();
  const runId = settings.runId ?? info.workflowId;
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: DEPLOY_STAGE }]);
  const status: DeployStatus = { phase: 'planning' };
  setHandler(deployStatusQuery, () => status);

  const plan = await planDeployment({ settings, runId });
  Object.assign(status, { endpointName: plan.endpointName, configName: plan.configName });
  let step: EndpointStep | null = null;
  let endpointStarted = false;
  try {
    status.phase = 'creating-model';
    await ensureModel({ plan });
    status.phase = 'creating-config';
    await ensureEndpointConfig({ plan });
    status.phase = 'creating-endpoint';
    endpointStarted = true;
    step = await ensureEndpoint({ plan, runId });
    status.action = step.action;
    status.phase = 'waiting-in-service';
    const served = await waitForEndpoint({ endpointName: plan.endpointName, configName: plan.configName, timeout: plan.inServiceTimeout });
    status.phase = 'autoscaling';
    await applyAutoscaling({ plan });
    status.phase = 'smoke-testing';
    const smoke = await smokeTest({ plan });
    status.phase = 'starting-monitor';
    const monitor = plan.monitor ? await startMonitor(plan) : null;
    status.phase = 'done';
    return resultOf(settings.twin, plan, step, smoke, monitor, served.localUrl);
  } catch (error) {
    // Nothing to undo before the endpoint step (a model or config alone serves nothing and costs nothing,
    // but this run's are deleted too); from it on, the endpoint is undone as well.
    const cancelled = isCancellation(error);
    status.phase = 'compensating';
    const recorded = step;
    try {
      status.compensation = await CancellationScope.nonCancellable(() =>
        compensateDeployment({ plan, step: endpointStarted ? recorded : null, runId }),
      );
    } catch (cleanup) {
      status.phase = 'failed';
      throw ApplicationFailure.create({
        type: 'CompensationFailed',
        nonRetryable: true,
        message: `deploying ${plan.endpointName} failed, and undoing it failed too: what is left carries the tag llmtwin:run-id=${runId}`,
        cause: cleanup as Error,
        details: [String((error as Error).message)],
      });
    }
    status.phase = cancelled ? 'cancelled' : 'failed';
    throw error;
  }
}

async function startMonitor(plan: DeploymentPlan): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = idleMonitorWorkflowId(plan.endpointName);
  const input: IdleMonitorInput = { endpointName: plan.endpointName, policy: plan.monitor?.policy ?? {}, deleteModel: true };
  try {
    await startChild(IDLE_MONITOR_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: taskQueuesFor(workflowInfo().taskQueue).idle,
      // It watches the endpoint for as long as the endpoint lives, long after this deployment ends.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [input],
    });
    return { workflowId, started: true };
  } catch (error) {
    // One monitor per endpoint: a running one already watches it (an earlier deployment started it).
    // It keeps its own policy unless this deployment asked for one: then that is sent to it.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    if (plan.monitor?.asked) await getExternalWorkflowHandle(workflowId).signal(setPolicySignal, plan.monitor.asked);
    return { workflowId, started: false };
  }
}

function resultOf(
  twin: string,
  plan: DeploymentPlan,
  step: EndpointStep,
  smoke: DeployResult['smokeTest'],
  monitor: DeployResult['monitor'],
  localUrl: string | undefined,
): DeployResult {
  return {
    twin,
    endpointName: plan.endpointName,
    endpointArn: step.endpointArn,
    invokeUrl: localUrl ?? runtimeInvokeUrl(plan.region, plan.endpointName),
    modelName: plan.modelName,
    configName: plan.configName,
    modelVersionArn: plan.modelVersionArn,
    modelUri: plan.modelUri,
    image: plan.image,
    instanceType: plan.instanceType,
    instanceCount: plan.instanceCount,
    action: step.action,
    previousConfigName: step.previousConfigName,
    autoscaling: plan.autoscaling
      ? {
          minInstances: plan.autoscaling.minInstances,
          maxInstances: plan.autoscaling.maxInstances,
          targetInvocationsPerInstance: plan.autoscaling.targetInvocationsPerInstance,
        }
      : null,
    smokeTest: smoke,
    monitor,
    compute: plan.compute,
  };
}

/** Puts an endpoint back on the config its last deployment replaced (or the one named), and waits until it serves. */
export async function rollbackEndpoint(rawInput: RollbackInput): Promise<RollbackResult> {
  const input = parseWorkflowInput(RollbackInputSchema, rawInput, 'rollback input');
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: DEPLOY_STAGE }]);
  return rollBack({
    endpointName: input.endpointName,
    ...(input.toConfigName ? { toConfigName: input.toConfigName } : {}),
    ...(input.inServiceTimeout ? { timeout: input.inServiceTimeout } : {}),
  });
}
