/**
 * Task queues. Config names one base queue (default `llmtwin`); every other queue is derived from it,
 * so a workflow can route activities from its own `workflowInfo().taskQueue` without reading config,
 * and a test that picks a unique base queue gets a whole isolated set of queues.
 */
export const DEFAULT_TASK_QUEUE = 'llmtwin';

export interface TaskQueues {
  /** Workflows and AWS control-plane activities (short, I/O-bound). */
  control: string;
  /** CPU-heavy data work (ingest, dedup, chunking), kept apart so it never starves control calls. */
  data: string;
  /**
   * The idle stage: one long-lived monitor per endpoint and the fleet sweep, on a worker of their own
   * whose workflow bundle holds only them, so a cached monitor costs about 0.1 MB instead of 1.5 MB.
   */
  idle: string;
}

export function taskQueuesFor(baseQueue: string): TaskQueues {
  return { control: baseQueue, data: `${baseQueue}-data`, idle: `${baseQueue}-idle` };
}

export type WorkerRole = keyof TaskQueues;
export const WORKER_ROLES: readonly WorkerRole[] = ['control', 'data', 'idle'];
/** The roles that run workflows (the others only run activities). */
export type WorkflowRole = Extract<WorkerRole, 'control' | 'idle'>;
