import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { FLEET_SWEEP } from '../../common/shared/activity-options';
import type { IdleActivities } from '../../activities/idle';
import { IDLE_SWEEP_STAGE, type IdleSweepInput, type IdleSweepResult } from '../../common/idle/sweep';
import { SEARCH_ATTRIBUTES } from '../../common/shared/search-attributes';
import { idleChecks } from './checks';

// One activity for the whole pass keeps this history at a few events however large the fleet is.
const { sweepFleet } = proxyActivities<IdleActivities>(FLEET_SWEEP);

/**
 * The fleet sweep a Temporal Schedule runs every check interval (`llmtwin endpoints sweep --schedule`):
 * every endpoint tagged llmtwin:managed=true gets a running idle monitor, fed with this sweep's reading
 * of its metrics; mode `report` only reports, on every endpoint in the account.
 */
export async function idleSweep(rawInput?: IdleSweepInput): Promise<IdleSweepResult> {
  const input = await idleChecks().checkIdleSweepInput(rawInput);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: IDLE_SWEEP_STAGE }]);
  return sweepFleet({
    mode: input.mode,
    policy: input.policy,
    deleteModel: input.deleteModel,
    now: Date.now(),
    taskQueue: workflowInfo().taskQueue,
  });
}
