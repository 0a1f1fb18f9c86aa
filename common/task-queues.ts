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
}

export function taskQueuesFor(baseQueue: string): TaskQueues {
  return { control: baseQueue, data: `${baseQueue}-data` };
}

export type WorkerRole = keyof TaskQueues;
export const WORKER_ROLES: readonly WorkerRole[] = ['control', 'data'];
