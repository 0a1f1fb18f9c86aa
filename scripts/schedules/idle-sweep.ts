import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { canonicalJson } from '../../common/shared/canonical-json';
import { durationToMs } from '../../common/shared/durations';
import { IdleSweepInputSchema } from '../../common/idle/schemas';
import { IDLE_SWEEP_WORKFLOW_TYPE, idleSweepScheduleId, type IdleSweepInput, type IdleSweepWorkflow } from '../../common/idle/sweep';
import { checkedInput } from '../cli-input';

/**
 * The Temporal Schedule that runs `idleSweep` every check interval. Create, update and delete are
 * idempotent: `upsert` creates the schedule or brings an existing one to the requested spec (a second
 * call changes nothing), `remove` on a missing schedule is a no-op.
 */
export interface IdleSweepScheduleOptions {
  /** The idle queue: the sweep and the monitors it starts run there. */
  taskQueue: string;
  /** How often the sweep runs; normally the monitors' check interval. */
  every: string;
  sweep: IdleSweepInput;
  paused?: boolean;
  /** Run one sweep at once when the schedule is created (updates never trigger one). */
  triggerImmediately?: boolean;
}

export interface ScheduleOutcome {
  scheduleId: string;
  /** unchanged: it already had the requested spec, so nothing was sent. */
  outcome: 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';
}

function scheduleBody(options: IdleSweepScheduleOptions) {
  const sweep = IdleSweepInputSchema.parse(checkedInput(IdleSweepInputSchema, options.sweep, 'sweep input'));
  if (!(durationToMs(options.every) > 0)) throw new Error(`--every must be a positive duration, got "${options.every}"`);
  return {
    spec: { intervals: [{ every: options.every }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: IDLE_SWEEP_WORKFLOW_TYPE,
      // The schedule appends the scheduled time, so every sweep run has its own id.
      workflowId: `idle-sweep-${options.taskQueue}`,
      taskQueue: options.taskQueue,
      args: [sweep] as Parameters<IdleSweepWorkflow>,
    },
    // A sweep that runs longer than the interval is never doubled; a missed run is not caught up
    // later in a burst (the next one reads the same fleet anyway).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
    state: { paused: options.paused ?? false, note: `llmtwin idle sweep every ${options.every} (${sweep.mode})` },
  };
}

export async function upsertIdleSweepSchedule(client: Client, options: IdleSweepScheduleOptions): Promise<ScheduleOutcome> {
  const scheduleId = idleSweepScheduleId(options.taskQueue);
  const body = scheduleBody(options);
  try {
    const create: ScheduleOptions = {
      scheduleId,
      ...body,
      state: { ...body.state, triggerImmediately: options.triggerImmediately ?? false },
    };
    await client.schedule.create(create);
    return { scheduleId, outcome: 'created' };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(scheduleId);
  if (hasSpec(await handle.describe(), body)) return { scheduleId, outcome: 'unchanged' };
  await handle.update((previous) => ({ ...previous, ...body }));
  return { scheduleId, outcome: 'updated' };
}

/** Whether the schedule already runs this body: same interval, workflow, queue, input, overlap policy, paused state and note. */
function hasSpec(current: ScheduleDescription, body: ReturnType<typeof scheduleBody>): boolean {
  const action = current.action.type === 'startWorkflow' ? current.action : undefined;
  const everyMs = current.spec.intervals?.map((interval) => Number(interval.every));
  return (
    canonicalJson(everyMs) === canonicalJson(body.spec.intervals.map((interval) => durationToMs(interval.every))) &&
    action?.workflowType === body.action.workflowType &&
    action.taskQueue === body.action.taskQueue &&
    canonicalJson(action.args) === canonicalJson(body.action.args) &&
    current.policies.overlap === body.policies.overlap &&
    current.state.paused === body.state.paused &&
    current.state.note === body.state.note
  );
}

export async function removeIdleSweepSchedule(client: Client, taskQueue: string): Promise<ScheduleOutcome> {
  const scheduleId = idleSweepScheduleId(taskQueue);
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return { scheduleId, outcome: 'deleted' };
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return { scheduleId, outcome: 'absent' };
    throw error;
  }
}

export async function describeIdleSweepSchedule(client: Client, taskQueue: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(idleSweepScheduleId(taskQueue)).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}
