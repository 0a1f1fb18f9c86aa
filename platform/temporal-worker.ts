import { NativeConnection } from '@temporalio/worker';
import type { LlmtwinConfig } from '../common/config';
import { temporalConnectionOptions } from './temporal-client';

/** The workers' connection to Temporal (the native core's), with the same address, TLS and API key as the client's. */
export async function connectWorkerConnection(config: LlmtwinConfig): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config));
}
