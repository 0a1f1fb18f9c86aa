import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { LlmtwinConfig } from '../../common/config';
import { PROJECT_ROOT } from '../../platform/paths';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment that points ./llmtwin at a test stack's config (the same variables a user would set). */
export function cliEnv(config: LlmtwinConfig, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: config.temporal.address,
    AWS_ENDPOINT_URL: config.aws.endpointUrl ?? '',
    LLMTWIN_TASK_QUEUE: config.temporal.taskQueue,
    LLMTWIN_S3_BUCKET: config.s3.bucket,
    LLMTWIN_METRICS_PORT: '0',
    ...extra,
  };
  // The test harness's own variables are not the CLI's: a user's shell would not have them.
  for (const name of Object.keys(env)) if (name.startsWith('TEST_LLMTWIN_')) delete env[name];
  return env;
}

/** Runs ./llmtwin as a person would, and hands back its exit code and both outputs. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(join(PROJECT_ROOT, 'llmtwin'), [...args], { env, timeout: timeoutMs, cwd: PROJECT_ROOT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The ids of every workflow ever started on a task queue (visibility on the dev server), to show that nothing was. */
export async function workflowsOn(client: Client, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) ids.push(execution.workflowId);
  return ids;
}
