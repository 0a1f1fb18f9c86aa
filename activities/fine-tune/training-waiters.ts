import { createHash } from 'node:crypto';
import { awsCall } from '../aws/errors';
import type { TrainingCompute } from './training-compute';

/**
 * Runs that wait on one training job. Runs with the same inputs share one job (its name is derived
 * from them), so a cancel must not stop a job that other runs still wait on. Each run that creates or
 * adopts a job tags it `llmtwin:waiter:<hash of its workflow id>` = its workflow id; a cancelled run
 * removes its own tag and stops the job only when none is left, tagging it `llmtwin:stopped-by` first so
 * a run that joined meanwhile can say who stopped it. (A run that died without a cancel leaves its tag:
 * the job then runs to its end, bounded by its max runtime, rather than being stopped under others.)
 */

export const WAITER_TAG_PREFIX = 'llmtwin:waiter:';
export const STOPPED_BY_TAG_KEY = 'llmtwin:stopped-by';

export function waiterTagKey(workflowId: string): string {
  return `${WAITER_TAG_PREFIX}${createHash('sha256').update(workflowId).digest('hex').slice(0, 16)}`;
}

/** SageMaker tag values are at most 256 characters. */
const tagValue = (workflowId: string) => workflowId.slice(0, 256);

export async function joinTrainingJob(compute: TrainingCompute, jobName: string, workflowId: string): Promise<void> {
  await awsCall({ operation: 'AddTags', resource: `training job ${jobName}` }, () =>
    compute.tag(jobName, { [waiterTagKey(workflowId)]: tagValue(workflowId) }),
  );
}

/** Removes this run's tag; answers the runs still waiting on the job (none when the job is gone). */
export async function leaveTrainingJob(compute: TrainingCompute, jobName: string, workflowId: string): Promise<string[]> {
  const own = waiterTagKey(workflowId);
  await awsCall({ operation: 'DeleteTags', resource: `training job ${jobName}` }, () => compute.untag(jobName, [own]));
  const tags = await awsCall({ operation: 'ListTags', resource: `training job ${jobName}` }, () => compute.tags(jobName));
  return [...(tags ?? new Map<string, string>())].filter(([key]) => key.startsWith(WAITER_TAG_PREFIX) && key !== own).map(([, id]) => id);
}

export async function markStoppedBy(compute: TrainingCompute, jobName: string, workflowId: string): Promise<void> {
  await awsCall({ operation: 'AddTags', resource: `training job ${jobName}` }, () =>
    compute.tag(jobName, { [STOPPED_BY_TAG_KEY]: tagValue(workflowId) }),
  );
}

/** Who stopped the job, when an llmtwin run did. */
export async function stoppedBy(compute: TrainingCompute, jobName: string): Promise<string | undefined> {
  const tags = await awsCall({ operation: 'ListTags', resource: `training job ${jobName}` }, () => compute.tags(jobName));
  return tags?.get(STOPPED_BY_TAG_KEY);
}
