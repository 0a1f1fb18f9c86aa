import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { LlmtwinConfig } from '../common/config';
import { taskQueuesFor } from '../common/shared/task-queues';
import type { AwsClients } from '../platform/aws-clients';
import { SettingError } from '../platform/setting-error';
import { CliError, EXIT_CODES, UsageError } from './cli-errors';
import { notice } from './cli-output';
import type * as temporalClientModule from '../platform/temporal-client';
import type * as configModule from '../platform/config';
import type * as awsClientsModule from '../platform/aws-clients';

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: each is loaded by the first command that needs it */
/**
 * What every CLI command needs, each made on first use (so `--help` needs no server and loads neither
 * the Temporal client nor the AWS SDK), and closed once at exit.
 */
export class CliContext {
  private loadedConfig: LlmtwinConfig | undefined;
  private client: Client | undefined;
  private awsClients: AwsClients | undefined;

  constructor(private readonly configPath?: () => string | undefined) {}

  get config(): LlmtwinConfig {
    if (!this.loadedConfig) {
      const { loadConfig } = require('../platform/config') as typeof configModule;
      try {
        this.loadedConfig = loadConfig({ configPath: this.configPath?.() });
      } catch (error) {
        // A bad config is the user's to fix, like a bad flag: nothing was started.
        if ((error as Error).name === 'ConfigError') throw new UsageError((error as Error).message);
        throw error;
      }
    }
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
    if (!this.client) {
      const { connectClient } = require('../platform/temporal-client') as typeof temporalClientModule;
      try {
        this.client = await connectClient(this.config);
      } catch (error) {
        // A missing or malformed payload key, an unreadable certificate: the user's to fix, as a bad config is.
        if (error instanceof SettingError) throw new UsageError(error.message);
        throw new CliError(unreachable(this.config.temporal, error), EXIT_CODES.runFailed);
      }
    }
    return this.client;
  }

  /** AWS clients with the worker's configuration (for reads the CLI makes itself: does this endpoint exist?). */
  aws(): AwsClients {
    if (!this.awsClients) {
      const { createAwsClients } = require('../platform/aws-clients') as typeof awsClientsModule;
      this.awsClients = createAwsClients(this.config);
    }
    return this.awsClients;
  }

  /** Link to a workflow in the Web UI, when the config points at the local dev server (or LLMTWIN_UI_URL is set). */
  workflowUrl(workflowId: string): string | undefined {
    const base =
      process.env.LLMTWIN_UI_URL ?? (this.config.temporal.address.startsWith('127.0.0.1:7233') ? 'http://127.0.0.1:8233' : undefined);
    return base ? `${base}/namespaces/${this.config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}` : undefined;
  }

  /** Tells the person (on stderr, so `--json` output stays clean) which run started and where to watch it. */
  announce(workflowId: string, what = 'started'): void {
    const url = this.workflowUrl(workflowId);
    notice(`${what} ${workflowId}${url ? `  ${url}` : ''}`);
  }

  async close(): Promise<void> {
    if (this.awsClients) {
      const { destroyAwsClients } = require('../platform/aws-clients') as typeof awsClientsModule;
      destroyAwsClients(this.awsClients);
    }
    await this.client?.connection.close();
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** `<prefix>-<UTC time>-<random>`: readable in the Web UI's list, and two starts in the same millisecond never collide. */
export function defaultWorkflowId(prefix: string): string {
  return `${prefix}-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
}

/** Why the CLI could not connect to Temporal, with what to check for the way it tried (plain, TLS, mTLS). */
function unreachable(temporal: LlmtwinConfig['temporal'], error: unknown): string {
  const cause = error instanceof Error ? error.message : String(error);
  const signedBy = temporal.tlsCa ? 'your CA (TEMPORAL_TLS_CA)' : 'a CA the system trusts (or set TEMPORAL_TLS_CA)';
  const check = temporal.tlsCert
    ? `that the server takes this client certificate (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY) and that its own is signed by ${signedBy}`
    : temporal.tls || temporal.apiKey || temporal.tlsCa || temporal.tlsServerName
      ? `that it speaks TLS with a certificate signed by ${signedBy}, and whether it wants a client certificate (TEMPORAL_TLS_CERT)`
      : 'that it runs (the embedded stack: npm run dev -- start), and whether it wants TLS (TEMPORAL_TLS, TEMPORAL_API_KEY)';
  return `cannot reach Temporal at ${temporal.address}: ${cause}; check TEMPORAL_ADDRESS, and ${check}`;
}
