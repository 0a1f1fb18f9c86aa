import { executeChild, patched, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { FLEET_SWEEP } from '../../common/shared/activity-options';
import type { IdleActivities } from '../../activities/idle';
import {
  emptySweepResult,
  exclusiveSweepWorkflowId,
  IDLE_SWEEP_STAGE,
  type IdleSweepInput,
  type IdleSweepResult,
} from '../../common/idle/sweep';
import { SEARCH_ATTRIBUTES } from '../../common/shared/search-attributes';
import { idleChecks } from './checks';

// One activity for the whole pass keeps this history at a few events however large the fleet is.
const { sweepFleet } = proxyActivities<IdleActivities>(FLEET_SWEEP);

/**
 * Runs started before it swept themselves, so two could overlap: the Schedule's immediate first run
 * (which the SDK triggers with overlap ALLOW_ALL) and its next scheduled one, or a sweep started by
 * hand and a scheduled one. Since, every sweep runs as a child under one fixed workflow id per queue.
 */
export const ONE_SWEEP_AT_A_TIME_PATCH = 'idle-sweep-one-at-a-time';

/**
 * The fleet sweep a Temporal Schedule runs every check interval (`llmtwin endpoints sweep --schedule`):
 * every endpoint tagged llmtwin:managed=true gets a running idle monitor, fed with this sweep's reading
 * of its metrics; mode `report` only reports, on every endpoint in the account.
 *
 * One sweep at a time per queue, however it was started: the pass itself runs as a child workflow
 * with the id exclusiveSweepWorkflowId(queue), and Temporal never runs two executions of one id at
 * once. A sweep that finds that id running returns at once, skipped, having read nothing.
 */
export async function idleSweep(rawInput?: IdleSweepInput): Promise<IdleSweepResult> {
  const input = await idleChecks().checkIdleSweepInput(rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: IDLE_SWEEP_STAGE }]);
  const { taskQueue, workflowId } = workflowInfo();
  const exclusiveId = exclusiveSweepWorkflowId(taskQueue);
  if (workflowId !== exclusiveId && patched(ONE_SWEEP_AT_A_TIME_PATCH)) {
    try {
      return await executeChild(idleSweep, { workflowId: exclusiveId, taskQueue, args: [input] });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return { ...emptySweepResult(input.mode, Date.now()), skipped: { runningSweep: exclusiveId } };
    }
  }
  return sweepFleet({
    mode: input.mode,
    policy: input.policy,
    deleteModel: input.deleteModel,
    now: Date.now(),
    taskQueue,
  });
}
