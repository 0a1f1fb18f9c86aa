import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import {
  FINE_TUNE_WORKFLOW_TYPE,
  FineTuneInputSchema,
  fineTuneStatusQuery,
  type FineTuneInput,
  type FineTuneResult,
  type FineTuneStatus,
  type FineTuneWorkflow,
  type TrainingProgress,
  type TrainingJobStop,
} from '../../common/fine-tune/contract';
import { unknownInstanceTypeProblem } from '../../common/shared/instance-types';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { checkedInput, numberFlag, readInputFile } from '../cli-input';
import { notice, printResult } from '../cli-output';
import { awaitRun, describeRunOf, startRun, type RunView } from '../run-follower';

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

/** The flag that sets each input field, so a refused value is named the way the person typed it. */
const FLAGS: Readonly<Record<string, string>> = {
  datasetUri: '--dataset',
  baseModelId: '--base-model',
  instanceType: '--instance-type',
  instanceFallbacks: '--fallbacks',
  'hyperparameters.epochs': '--epochs',
  'hyperparameters.learningRate': '--learning-rate',
  'spot.enabled': '--spot',
  maxRuntime: '--max-runtime',
  'huggingFaceToken.secretArn': '--hf-token-secret',
  'huggingFaceToken.workerEnv': '--hf-token-env',
  force: '--force',
};

export function registerFineTune(command: Command, context: CliContext): void {
  command
    .option('--dataset <s3uri>', 'dataset prefix written by prepare-data, e.g. s3://bucket/llmtwin/datasets/<hash>/')
    .option('--input <file>', 'a JSON fineTune input (like examples/fine-tune.json); the flags below override it')
    .option(
      '--base-model <id>',
      'Hugging Face model id, or a model folder on the worker (local compute); default: training.baseModelId, or llmtwin-toy on local compute without a GPU',
    )
    .option(
      '--instance-type <type>',
      'preferred instance type, e.g. ml.g5.2xlarge (known types only; see sagemaker.extraInstanceTypes); local compute runs on this machine instead',
    )
    .option('--fallbacks <types>', 'comma-separated instance types to try on quota/capacity errors (at most 10)')
    .option('--epochs <n>', 'training epochs, more than 0 and at most 100 (default: 3; 5 for llmtwin-toy)')
    .option('--learning-rate <lr>', 'learning rate, more than 0 and at most 1 (default: 2e-4; 3e-3 for llmtwin-toy)')
    .option('--spot', 'managed spot training (checkpointed, resumed after interruptions)')
    .option('--max-runtime <duration>', 'stop the job after this long, e.g. "6h" (at most 28 days)')
    .option('--hf-token-secret <arn>', 'Secrets Manager secret with the Hugging Face token (gated models)')
    .option('--hf-token-env <name>', 'worker environment variable holding the Hugging Face token')
    .option('--force', 'train again even if a job with the same inputs completed')
    .option('--workflow-id <id>', 'workflow id (default: fine-tune-<time>-<random>)')
    .option('--detach', 'start the workflow and return without waiting (prints its id)')
    .option('--json', 'print the result as JSON (progress goes to stderr)')
    .addHelpText(
      'after',
      '\nNeeds a worker on the control queue (`npm run worker`, or `npm start`). Where the job runs is compute.backend:\n' +
        'local (default on the embedded stack: a process on the worker machine; follow it with `llmtwin jobs logs <job> -f`) or sagemaker.',
    )
    .action(async (options: FineTuneOptions) => {
      const handle = await startRun<FineTuneWorkflow>(context, FINE_TUNE_WORKFLOW_TYPE, buildInput(options, context), {
        ...options,
        idPrefix: 'fine-tune',
        detachedHint: (workflowId) => `cancel with: llmtwin fine-tune cancel ${workflowId}`,
      });
      if (!handle) return;
      const result = await watch(context, handle);
      printResult(result, Boolean(options.json), () => modelSummary(result));
    });

  command
    .command('cancel <workflowId>')
    .description('cancel a fine-tune run: the workflow stops its SageMaker job and waits until it is Stopped')
    .option('--json', 'print the outcome as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      const client = await context.temporal();
      const before = await describeRunOf(context, workflowId, FINE_TUNE_WORKFLOW_TYPE);
      const handle = client.workflow.getHandle<FineTuneWorkflow>(workflowId);
      if (before.status !== 'RUNNING') {
        printResult({ workflowId, status: before.status, cancelled: false }, Boolean(options.json), () => [
          `${workflowId} already ended (${before.status}); nothing to cancel`,
        ]);
        return;
      }
      await handle.cancel();
      notice(`cancellation requested for ${workflowId}; waiting for the training job to stop...`);
      await watch(context, handle).catch(() => undefined);
      const status = await handle.query(fineTuneStatusQuery).catch(() => undefined);
      const { status: execution } = await handle.describe();
      // The query tells what the run did about its job: stopped it, found it ended, or left it to other runs.
      const job = status?.jobName
        ? { jobName: status.jobName, phase: status.phase, ...(status.stop ? { stop: status.stop } : {}) }
        : undefined;
      printResult(
        { workflowId, status: execution.name, cancelled: execution.name === 'CANCELLED', ...(job ?? {}) },
        Boolean(options.json),
        () => [`${workflowId}: ${execution.name}${job ? `; training job ${job.jobName}: ${stopWords(status?.stop) ?? job.phase}` : ''}`],
      );
    });
}

/** What became of a cancelled run's job, in words. */
function stopWords(stop: TrainingJobStop | undefined): string | undefined {
  if (!stop) return undefined;
  switch (stop.status) {
    case 'Stopped':
      return 'stopped';
    case 'Completed':
    case 'Failed':
      return `had already ${stop.status.toLowerCase()}; nothing to stop`;
    case 'NotFound':
      return 'was never created';
    case 'LeftRunning':
      return `left running: ${stop.leftRunningFor?.length ?? 0} other run(s) wait on it (${(stop.leftRunningFor ?? []).join(', ')})`;
    default:
      return stop.status;
  }
}

function buildInput(options: FineTuneOptions, context: CliContext): FineTuneInput {
  const fromFile = options.input ? readInputFile(options.input) : {};
  if (!options.dataset && fromFile.datasetUri === undefined) {
    throw new UsageError(
      `--dataset is required: the dataset prefix prepare-data printed${options.input ? ` (${options.input} names no datasetUri)` : ''}`,
    );
  }
  const hyperparameters = { ...((fromFile.hyperparameters as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.epochs !== undefined) hyperparameters.epochs = numberFlag(options.epochs, '--epochs');
  if (options.learningRate !== undefined) hyperparameters.learningRate = numberFlag(options.learningRate, '--learning-rate');
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
  const input = checkedInput(FineTuneInputSchema, raw, 'fine-tune input', { flags: FLAGS });
  // Known instance types, with this deployment's additions (the worker checks again before any AWS call).
  const types: Array<[string, string | undefined]> = [
    ['--instance-type', input.instanceType],
    ...(input.instanceFallbacks ?? []).map((type): [string, string] => ['--fallbacks', type]),
  ];
  const problems = types.flatMap(([flag, type]) => {
    const problem = type ? unknownInstanceTypeProblem(type, context.config.sagemaker.extraInstanceTypes) : undefined;
    return problem ? [`${flag}: ${problem}`] : [];
  });
  if (problems.length > 0) throw new UsageError(`invalid fine-tune input: ${problems.join('; ')}`, { issues: problems });
  return input;
}

/** The trained model, for people: where it is, what it cost, what the job measured. */
export function modelSummary(model: FineTuneResult): string[] {
  const metrics = Object.entries(model.finalMetrics).map(([name, value]) => `${name} ${Number(value.toPrecision(4))}`);
  const tried = model.attempts.filter((attempt) => attempt.outcome === 'quota' || attempt.outcome === 'capacity');
  return [
    `training job  ${model.jobName}${model.reused ? '  (same inputs trained before: reused, nothing trained)' : ''}`,
    `model         ${model.artifactsUri}`,
    `instances     ${model.instanceCount} x ${model.instanceType}${model.spot ? ' (spot)' : ''}${model.compute === 'local' ? ' (local compute: this machine)' : ''}`,
    `base model    ${model.baseModelId}`,
    ...(model.baseModelNote ? [`              ${model.baseModelNote}`] : []),
    `dataset       ${model.datasetHash}`,
    ...lossLines(model),
    `metrics       ${metrics.length > 0 ? metrics.join(', ') : 'none reported'}`,
    ...(model.compute === 'local'
      ? [
          `time          ${model.trainingSeconds === null ? 'not reported' : `${model.trainingSeconds} s of training (wall clock); nothing billed`}`,
        ]
      : [
          `billable      ${model.billableSeconds === null ? 'not reported' : `${model.billableSeconds} s`}`,
          `cost          ${model.estimatedCostUsd === null ? 'unknown (no billable time, or no price for this type)' : `~$${model.estimatedCostUsd.toFixed(2)}`}`,
        ]),
    `log           ${model.logs}`,
    ...tried.map(
      (attempt) => `skipped       ${attempt.instanceType}: no ${attempt.outcome}${attempt.reason ? ` (${attempt.reason})` : ''}`,
    ),
  ];
}

/** First and last loss, where the backend kept the first: the held-out one first, as it is the one that says the twin learned. */
export function lossLines(model: Pick<FineTuneResult, 'firstMetrics' | 'finalMetrics'>): string[] {
  const pairs: Array<[string, string]> = [
    ['eval:loss', 'held-out loss'],
    ['train:loss', 'train loss'],
  ];
  return pairs.flatMap(([metric, label]) => {
    const first = model.firstMetrics?.[metric];
    const last = model.finalMetrics[metric];
    if (first === undefined || last === undefined) return [];
    return [
      `${label.padEnd(14)}${Number(first.toPrecision(4))} -> ${Number(last.toPrecision(4))}${metric === 'eval:loss' ? ' (untrained -> trained)' : ' (first -> last step)'}`,
    ];
  });
}

/**
 * Follows the run until it ends, printing a line whenever the phase, the job's secondary status or
 * its billable time changes: the workflow's status query plus the wait activity's heartbeat details.
 */
function watch(context: CliContext, handle: WorkflowHandle<FineTuneWorkflow>) {
  return awaitRun(context, handle, {
    intervalMs: WATCH_INTERVAL_MS,
    view: async (heartbeats) => progressView(await handle.query(fineTuneStatusQuery), heartbeats),
    cancelHint: `llmtwin fine-tune cancel ${handle.workflowId}`,
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
    if (heartbeat.step !== undefined && heartbeat.totalSteps) parts.push(`step ${heartbeat.step}/${heartbeat.totalSteps}`);
    const message = heartbeat.transitions?.at(-1)?.message;
    if (message) parts.push(`- ${message}`);
    if (heartbeat.latestMetrics?.['train:loss'] !== undefined) parts.push(`loss ${heartbeat.latestMetrics['train:loss']}`);
  }
  for (const attempt of status.attempts.filter((a) => a.outcome === 'quota' || a.outcome === 'capacity'))
    parts.push(`(${attempt.instanceType}: no ${attempt.outcome})`);
  return { line: parts.join('  ') };
}
