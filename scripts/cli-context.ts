import type { Client } from '@temporalio/client';
import type { LlmtwinConfig } from '../common/config';
import { taskQueuesFor } from '../common/shared/task-queues';
import { loadConfig } from '../platform/config';
import { connectClient } from '../platform/temporal-client';

/**
 * What every CLI command needs, created lazily so `llmtwin --help` works without a server, and closed
 * once at exit.
 */
export class CliContext {
  private loadedConfig: LlmtwinConfig | undefined;
  private client: Client | undefined;

  constructor(private readonly configPath?: () => string | undefined) {}

  get config(): LlmtwinConfig {
    this.loadedConfig ??= loadConfig({ configPath: this.configPath?.() });
    return this.loadedConfig;
  }

  get controlQueue(): string {
    return taskQueuesFor(this.config.temporal.taskQueue).control;
  }

  /** Where idle monitors and fleet sweeps run (the idle role's worker). */
  get idleQueue(): string {
    return taskQueuesFor(this.config.temporal.taskQueue).idle;
  }

  async temporal(): Promise<Client> {
    this.client ??= await connectClient(this.config);
    return this.client;
  }

  /** Link to a workflow in the Web UI, when the config points at the local dev server. */
  workflowUrl(workflowId: string): string | undefined {
    const base =
      process.env.LLMTWIN_UI_URL ?? (this.config.temporal.address.startsWith('127.0.0.1:7233') ? 'http://127.0.0.1:8233' : undefined);
    return base ? `${base}/namespaces/${this.config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}` : undefined;
  }

  /** Tells the person (on stderr, so `--json` output stays clean) which run started and where to watch it. */
  announce(workflowId: string, what = 'started'): void {
    const url = this.workflowUrl(workflowId);
    console.error(`${what} ${workflowId}${url ? `  ${url}` : ''}`);
  }

  async close(): Promise<void> {
    await this.client?.connection.close();
  }
}

/** Prints a result as JSON (for scripts) or as aligned `key  value` lines (for people). */
export function printResult(result: Record<string, unknown>, asJson: boolean): void {
  if (asJson) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const width = Math.max(...Object.keys(result).map((key) => key.length));
  for (const [key, value] of Object.entries(result)) {
    console.log(`${key.padEnd(width)}  ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`);
  }
}
