import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { approveUpdate, rejectUpdate, type ApprovalDecision, type EvaluateStatus } from '../common/evaluate/contract';
import {
  PIPELINE_WORKFLOW_TYPE,
  PipelineInputSchema,
  progressQuery,
  stageWorkflowId,
  type PipelineInput,
  type PipelineProgress,
  type PipelineResult,
  type PipelineWorkflow,
} from '../common/pipeline/contract';
import { describeIssues } from '../common/shared/validation';

/**
 * The pipeline for other services: start a twin's pipeline (idempotently), read its progress, decide
 * a waiting approval, cancel it, list runs. Built on a Temporal Client the caller owns; the control task
 * queue is the workers' (config temporal.taskQueue, `llmtwin` by default).
 */

export class InvalidPipelineInputError extends Error {
  override name = 'InvalidPipelineInputError';
  constructor(readonly problems: string[]) {
    super(`invalid pipeline input: ${problems.join('; ')}`);
  }
}

export interface StartedPipeline {
  workflowId: string;
  /** True when a run with this id already existed (running or closed): it was returned, not duplicated. */
  existing: boolean;
  result: () => Promise<PipelineResult>;
}

/**
 * Starts twinPipeline. The workflow id is the idempotency key: a caller that retries its own request with
 * the same id gets the run its first request started (running or closed), never a second one. The input
 * is checked here first, so a bad one is refused before anything starts, each problem naming its field.
 */
export async function startPipeline(
  client: Client,
  taskQueue: string,
  input: PipelineInput,
  options: { workflowId: string },
): Promise<StartedPipeline> {
  const parsed = PipelineInputSchema.safeParse(input);
  if (!parsed.success) throw new InvalidPipelineInputError(describeIssues(parsed.error, PipelineInputSchema));
  const { workflowId } = options;
  let existing = false;
  try {
    await client.workflow.start<PipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      // Temporal refuses a second run with this id, running (conflict policy FAIL) or closed (REJECT_DUPLICATE).
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    existing = true;
  }
  const handle = client.workflow.getHandle<PipelineWorkflow>(workflowId);
  return { workflowId, existing, result: () => handle.result() };
}

/** The `progress` query: the current stage, each stage's status, times, summary and links. */
export function getProgress(client: Client, workflowId: string): Promise<PipelineProgress> {
  return client.workflow.getHandle(workflowId).query(progressQuery);
}

/** Decides the manual approval the pipeline's evaluate stage waits for (its `approve` or `reject` Update). */
export function decideApproval(
  client: Client,
  pipelineWorkflowId: string,
  action: 'approve' | 'reject',
  decision: ApprovalDecision,
): Promise<EvaluateStatus> {
  const evaluate = client.workflow.getHandle(stageWorkflowId(pipelineWorkflowId, 'evaluate'));
  return evaluate.executeUpdate(action === 'approve' ? approveUpdate : rejectUpdate, { args: [decision] });
}

/** Cancels the pipeline: the running stage is cancelled with its clean-up (its job stopped, its deployment undone). */
export async function cancelPipeline(client: Client, workflowId: string): Promise<void> {
  await client.workflow.getHandle(workflowId).cancel();
}

export interface PipelineRun {
  workflowId: string;
  status: string;
  startTime: string;
  closeTime: string | null;
}

/** The pipeline runs, newest first (at most `limit`). */
export async function listRuns(client: Client, limit = 50): Promise<PipelineRun[]> {
  const runs: PipelineRun[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${PIPELINE_WORKFLOW_TYPE}'` })) {
    runs.push({
      workflowId: execution.workflowId,
      status: execution.status.name,
      startTime: execution.startTime.toISOString(),
      closeTime: execution.closeTime?.toISOString() ?? null,
    });
    if (runs.length >= limit) break;
  }
  return runs;
}
