import { readFileSync } from 'node:fs';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { FineTuneInputSchema, type FineTuneInput, type TrainingProgress } from '../../common/fine-tune/contract';
import { describeIssues } from '../../common/shared/validation';
import { fineTune, fineTuneStatusQuery } from '../../workflows/fine-tune';
import { printResult, type CliContext } from '../cli-context';

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
    .option('--hf-token-env <name>', "worker environment variable holding the Hugging Face token")
    .option('--force', 'train again even if a job with the same inputs completed')
    .option('--workflow-id <id>', 'workflow id (default: fine-tune-<timestamp>)')
    .option('--detach', 'start the workflow and return without waiting')
    .option('--json', 'print the result as JSON (progress goes to stderr)')
    .action(async (options: FineTuneOptions) => {
      const input = buildInput(options);
      const client = await context.temporal();
      const workflowId = options.workflowId ?? `fine-tune-${Date.now()}`;
      const handle = await client.workflow.start(fineTune, { taskQueue: context.controlQueue, workflowId, args: [input] });
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
      const handle = client.workflow.getHandle<typeof fineTune>(workflowId);
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
      console.log(`${workflowId}: ${execution.name}${status?.jobName ? `; training job ${status.jobName} ${status.phase === 'cancelled' ? 'stopped' : status.phase}` : ''}`);
    });
}

function buildInput(options: FineTuneOptions): FineTuneInput {
  const fromFile = options.input ? (JSON.parse(readFileSync(options.input, 'utf8')) as Record<string, unknown>) : {};
  const hyperparameters = { ...((fromFile.hyperparameters as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.epochs !== undefined) hyperparameters.epochs = Number(options.epochs);
  if (options.learningRate !== undefined) hyperparameters.learningRate = Number(options.learningRate);
  const raw = {
    ...fromFile,
    ...(options.dataset ? { datasetUri: options.dataset } : {}),
    ...(options.baseModel ? { baseModelId: options.baseModel } : {}),
    ...(options.instanceType ? { instanceType: options.instanceType } : {}),
    ...(options.fallbacks !== undefined ? { instanceFallbacks: options.fallbacks.split(',').map((type) => type.trim()).filter(Boolean) } : {}),
    ...(options.maxRuntime ? { maxRuntime: options.maxRuntime } : {}),
    ...(options.spot ? { spot: { ...((fromFile.spot as object | undefined) ?? {}), enabled: true } } : {}),
    ...(options.hfTokenSecret ? { huggingFaceToken: { secretArn: options.hfTokenSecret } } : {}),
    ...(options.hfTokenEnv ? { huggingFaceToken: { workerEnv: options.hfTokenEnv } } : {}),
    ...(options.force ? { force: true } : {}),
    hyperparameters,
  };
  const parsed = FineTuneInputSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid fine-tune input: ${describeIssues(parsed.error).join('; ')} (--dataset is required unless --input names it)`);
  return raw as FineTuneInput;
}

/**
 * Follows the run until it ends, printing a line whenever the phase, the job's secondary status or
 * its billable time changes: the workflow's status query plus the wait activity's heartbeat details.
 */
async function watch(client: Client, handle: WorkflowHandle<typeof fineTune>) {
  const result = handle.result();
  let settled = false;
  void result.then(
    () => (settled = true),
    () => (settled = true),
  );
  let last = '';
  while (!settled) {
    const line = await progressLine(client, handle).catch(() => undefined);
    if (line && line !== last) {
      console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
      last = line;
    }
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS))]);
  }
  return result;
}

async function progressLine(client: Client, handle: WorkflowHandle<typeof fineTune>): Promise<string> {
  const status = await handle.query(fineTuneStatusQuery);
  const description = await handle.describe();
  const converter = client.options.loadedDataConverter.payloadConverter;
  const heartbeat = (description.raw.pendingActivities ?? [])
    .map((activity) => activity.heartbeatDetails?.payloads?.[0])
    .filter((payload) => payload !== undefined && payload !== null)
    .map((payload) => converter.fromPayload<Partial<TrainingProgress>>(payload))
    .find((details) => details && typeof details.secondaryStatus === 'string');
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
  for (const attempt of status.attempts.filter((a) => a.outcome === 'quota' || a.outcome === 'capacity')) parts.push(`(${attempt.instanceType}: no ${attempt.outcome})`);
  return parts.join('  ');
}
