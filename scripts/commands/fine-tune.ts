import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import {
  FINE_TUNE_WORKFLOW_TYPE,
  FineTuneInputSchema,
  fineTuneStatusQuery,
  type FineTuneInput,
  type FineTuneStatus,
  type FineTuneWorkflow,
  type TrainingProgress,
} from '../../common/fine-tune/contract';
import { checkedInput, readInputFile } from '../cli-input';
import { printResult, type CliContext } from '../cli-context';
import { followRun, type RunView } from '../run-follower';

interface FineTuneOptions {
  dataset?: string;
  input?: string;
  baseModel?: string;
  instanceType?: string;
  fallbacks?: string;
  epochs?: string;
  learningRate?: string;
  spot?: boolean;
  maxRuntime?: string;
  hfTokenSecret?: string;
  hfTokenEnv?: string;
  force?: boolean;
  workflowId?: string;
  detach?: boolean;
  json?: boolean;
}

const WATCH_INTERVAL_MS = 2_000;

export function registerFineTune(program: Command, context: CliContext): void {
  const command = program
    .command('fine-tune')
    .description('fine-tune the base model on a prepared dataset with a SageMaker training job (needs a running worker)')
    .option('--dataset <s3uri>', 'dataset prefix written by prepare-data, e.g. s3://bucket/llmtwin/datasets/<hash>/')
    .option('--input <file>', 'a JSON fineTune input (like examples/fine-tune.json); the flags below override it')
    .option('--base-model <id>', 'Hugging Face model id (default: config training.baseModelId)')
    .option('--instance-type <type>', 'preferred instance type, e.g. ml.g5.2xlarge')
    .option('--fallbacks <types>', 'comma-separated instance types to try on quota/capacity errors')
    .option('--epochs <n>', 'training epochs')
    .option('--learning-rate <lr>', 'learning rate')
    .option('--spot', 'managed spot training (checkpointed, resumed after interruptions)')
    .option('--max-runtime <duration>', 'stop the job after this long, e.g. "6h"')
    .option('--hf-token-secret <arn>', 'Secrets Manager secret with the Hugging Face token (gated models)')
    .option('--hf-token-env <name>', 'worker environment variable holding the Hugging Face token')
    .option('--force', 'train again even if a job with the same inputs completed')
    .option('--workflow-id <id>', 'workflow id (default: fine-tune-<timestamp>)')
    .option('--detach', 'start the workflow and return without waiting')
    .option('--json', 'print the result as JSON (progress goes to stderr)')
    .action(async (options: FineTuneOptions) => {
      const input = buildInput(options);
      const client = await context.temporal();
      const workflowId = options.workflowId ?? `fine-tune-${Date.now()}`;
      const handle = await client.workflow.start<FineTuneWorkflow>(FINE_TUNE_WORKFLOW_TYPE, {
        taskQueue: context.controlQueue,
        workflowId,
        args: [input],
      });
      context.announce(workflowId);
      if (options.detach) {
        console.error(`follow it in the Web UI; cancel with: llmtwin fine-tune cancel ${workflowId}`);
        return;
      }
      const result = await watch(client, handle);
      printResult({ ...result }, Boolean(options.json));
    });

  command
    .command('cancel <workflowId>')
    .description('cancel a fine-tune run: the workflow stops its SageMaker job and waits until it is Stopped')
    .action(async (workflowId: string) => {
      const client = await context.temporal();
      const handle = client.workflow.getHandle<FineTuneWorkflow>(workflowId);
      const before = await handle.describe();
      if (before.status.name !== 'RUNNING') {
        console.log(`${workflowId} already ended: ${before.status.name}; nothing to cancel`);
        return;
      }
      await handle.cancel();
      console.error(`cancellation requested for ${workflowId}; waiting for the training job to stop...`);
      await watch(client, handle).catch(() => undefined);
      const status = await handle.query(fineTuneStatusQuery).catch(() => undefined);
      const { status: execution } = await handle.describe();
      console.log(
        `${workflowId}: ${execution.name}${status?.jobName ? `; training job ${status.jobName} ${status.phase === 'cancelled' ? 'stopped' : status.phase}` : ''}`,
      );
    });
}

function buildInput(options: FineTuneOptions): FineTuneInput {
  const fromFile = options.input ? readInputFile(options.input) : {};
  const hyperparameters = { ...((fromFile.hyperparameters as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.epochs !== undefined) hyperparameters.epochs = Number(options.epochs);
  if (options.learningRate !== undefined) hyperparameters.learningRate = Number(options.learningRate);
  const raw = {
    ...fromFile,
    ...(options.dataset ? { datasetUri: options.dataset } : {}),
    ...(options.baseModel ? { baseModelId: options.baseModel } : {}),
    ...(options.instanceType ? { instanceType: options.instanceType } : {}),
    ...(options.fallbacks !== undefined
      ? {
          instanceFallbacks: options.fallbacks
            .split(',')
            .map((type) => type.trim())
            .filter(Boolean),
        }
      : {}),
    ...(options.maxRuntime ? { maxRuntime: options.maxRuntime } : {}),
    ...(options.spot ? { spot: { ...((fromFile.spot as object | undefined) ?? {}), enabled: true } } : {}),
    ...(options.hfTokenSecret ? { huggingFaceToken: { secretArn: options.hfTokenSecret } } : {}),
    ...(options.hfTokenEnv ? { huggingFaceToken: { workerEnv: options.hfTokenEnv } } : {}),
    ...(options.force ? { force: true } : {}),
    hyperparameters,
  };
  return checkedInput(FineTuneInputSchema, raw, 'fine-tune input', '--dataset is required unless --input names it');
}

/**
 * Follows the run until it ends, printing a line whenever the phase, the job's secondary status or
 * its billable time changes: the workflow's status query plus the wait activity's heartbeat details.
 */
function watch(client: Client, handle: WorkflowHandle<FineTuneWorkflow>) {
  return followRun(client, handle, {
    intervalMs: WATCH_INTERVAL_MS,
    view: async (heartbeats) => progressView(await handle.query(fineTuneStatusQuery), heartbeats),
  });
}

function progressView(status: FineTuneStatus, heartbeats: unknown[]): RunView {
  const heartbeat = heartbeats.find(
    (details): details is Partial<TrainingProgress> =>
      typeof (details as Partial<TrainingProgress> | undefined)?.secondaryStatus === 'string',
  );
  const parts: string[] = [status.phase];
  if (status.instanceType) parts.push(status.instanceType);
  if (status.jobName) parts.push(status.jobName);
  if (heartbeat) {
    parts.push(`${heartbeat.status}/${heartbeat.secondaryStatus}`);
    if (heartbeat.billableSeconds !== undefined) parts.push(`billable ${heartbeat.billableSeconds}s`);
    const message = heartbeat.transitions?.at(-1)?.message;
    if (message) parts.push(`- ${message}`);
    if (heartbeat.latestMetrics?.['train:loss'] !== undefined) parts.push(`loss ${heartbeat.latestMetrics['train:loss']}`);
  }
  for (const attempt of status.attempts.filter((a) => a.outcome === 'quota' || a.outcome === 'capacity'))
    parts.push(`(${attempt.instanceType}: no ${attempt.outcome})`);
  return { line: parts.join('  ') };
}
