import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { LlmtwinConfig } from '../common/config';

/**
 * The client side of Temporal: what the CLI, demos and the fleet sweep use. Kept apart from the worker
 * connection (platform/temporal-worker.ts) so the CLI never loads @temporalio/worker and its native core.
 */

/** Connection options shared by the client (CLI) and the workers. */
export function temporalConnectionOptions(config: LlmtwinConfig) {
  return {
    address: config.temporal.address,
    tls: config.temporal.tls || Boolean(config.temporal.apiKey),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  };
}

export async function connectClient(config: LlmtwinConfig): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** A workflow's execution status and close time, or undefined when no workflow has that id. */
export async function describeWorkflowIfExists(
  client: Client,
  workflowId: string,
): Promise<{ status: string; runId: string; closedAt?: number } | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return {
      status: description.status.name,
      runId: description.runId,
      ...(description.closeTime ? { closedAt: description.closeTime.getTime() } : {}),
    };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}
