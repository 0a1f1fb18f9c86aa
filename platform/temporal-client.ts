import { Client, Connection, isGrpcServiceError, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import type { LlmtwinConfig } from '../common/config';
import { dataConverterFor } from './payload-codec';
import { temporalTls } from './temporal-tls';

/**
 * The client side of Temporal: what the CLI, demos and the fleet sweep use. Kept apart from the worker
 * connection (platform/temporal-worker.ts) so the CLI never loads @temporalio/worker and its native core.
 */

/** Connection options shared by the client (CLI) and the workers. */
export function temporalConnectionOptions(config: LlmtwinConfig) {
  return {
    address: config.temporal.address,
    tls: temporalTls(config.temporal),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  };
}

export async function connectClient(config: LlmtwinConfig): Promise<Client> {
  // Read the payload keys and TLS files before connecting: a missing one is a setting to fix, not a connection error.
  const dataConverter = dataConverterFor(config);
  const options = temporalConnectionOptions(config);
  const connection = await Connection.connect(options);
  return new Client({ connection, namespace: config.temporal.namespace, ...(dataConverter ? { dataConverter } : {}) });
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

/**
 * Running workflows of one type on one task queue (workflow id -> run id), from visibility listings, or
 * undefined where this server cannot list them (the time-skipping test server, or a visibility store
 * without these filters): the caller then describes workflows one by one, which is slower, not wrong.
 */
export async function runningWorkflowsOnQueue(
  client: Client,
  workflowType: string,
  taskQueue: string,
): Promise<Map<string, string> | undefined> {
  const query = `WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
  const running = new Map<string, string>();
  try {
    for await (const execution of client.workflow.list({ query })) running.set(execution.workflowId, execution.runId);
  } catch (error) {
    if (isListingUnsupported(error)) return undefined;
    throw error;
  }
  return running;
}

/** gRPC status codes (google.rpc.Code) a server answers for a listing it cannot do. */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNIMPLEMENTED = 12;

function isListingUnsupported(error: unknown): boolean {
  const cause = error instanceof ServiceError ? error.cause : error;
  if (!isGrpcServiceError(cause)) return false;
  const code: number = cause.code;
  return code === GRPC_UNIMPLEMENTED || code === GRPC_INVALID_ARGUMENT;
}
