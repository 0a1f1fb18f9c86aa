import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { StackCheckActivities } from '../activities/stack-check';
import { AWS_CALL } from '../common/shared/activity-options';
import { durationToMs } from '../common/shared/durations';
import { StackCheckInputSchema, type StackCheckInput, type StackCheckResult } from '../common/stack-check/contract';
import { parseWorkflowInput } from './boundary';

const { writeStackCheckObject } = proxyActivities<StackCheckActivities>(AWS_CALL);

/** Proves the stack end to end: optional durable timer, then one object written to S3 by a worker. */
export async function stackCheck(rawInput?: StackCheckInput): Promise<StackCheckResult> {
  const input = parseWorkflowInput(StackCheckInputSchema, rawInput, 'stackCheck input');
  const waitedMs = input.delay ? durationToMs(input.delay) : 0;
  if (waitedMs > 0) await sleep(waitedMs);
  const { workflowId } = workflowInfo();
  const written = await writeStackCheckObject({ message: input.message, workflowId });
  return { ...written, workflowId, waitedMs };
}
