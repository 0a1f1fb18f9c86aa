import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import {
  EVALUATE_WORKFLOW_TYPE,
  EvaluateInputSchema,
  evaluateStatusQuery,
  type EvaluateInput,
  type EvaluateResult,
  type EvaluateStatus,
  type EvaluateWorkflow,
} from '../../common/evaluate/contract';
import { GATE_METRICS, isLowerBetter, type ModelMetrics } from '../../common/evaluate/gate';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { checkedInput, numberFlag, readInputFile } from '../cli-input';
import { notice, printResult } from '../cli-output';
import { awaitRun, startRun, type RunView } from '../run-follower';

interface EvaluateOptions {
  trainingJob?: string;
  model?: string;
  dataset?: string;
  baseModel?: string;
  twin?: string;
  input?: string;
  maxPerplexity?: string;
  minRougeL?: string;
  maxStyleDistance?: string;
  primaryMetric?: string;
  tolerance?: string;
  targetEndpoint?: string;
  manual?: boolean;
  approvalTimeout?: string;
  maxSamples?: string;
  maxNewTokens?: string;
  force?: boolean;
  workflowId?: string;
  detach?: boolean;
  json?: boolean;
}

const FLAGS: Readonly<Record<string, string>> = {
  trainingJobName: '--training-job',
  modelUri: '--model',
  datasetUri: '--dataset',
  baseModelId: '--base-model',
  twin: '--twin',
  'gate.thresholds.perplexity': '--max-perplexity',
  'gate.thresholds.rouge_l': '--min-rouge-l',
  'gate.thresholds.style_cosine_delta': '--max-style-distance',
  'gate.primaryMetric': '--primary-metric',
  'gate.tolerance': '--tolerance',
  targetEndpoint: '--target-endpoint',
  'approval.timeout': '--approval-timeout',
  maxSamples: '--max-samples',
  'decoding.maxNewTokens': '--max-new-tokens',
};

export function registerEvaluate(command: Command, context: CliContext): void {
  command
    .option('--training-job <name>', 'a completed fine-tune job (the jobName fine-tune printed): its model, dataset and base model')
    .option('--model <s3uri>', 'or: the model.tar.gz to evaluate (with --dataset and --base-model)')
    .option('--dataset <s3uri>', 'the dataset prefix prepare-data printed (its test split is scored)')
    .option('--base-model <id>', 'the model it was trained from: the baseline (read from the training job by default)')
    .option('--twin <name>', "the twin's name: its versions form one Model Package Group (default: twin)")
    .option('--input <file>', 'a JSON evaluate input (like examples/evaluate.json); the flags override it')
    .option('--max-perplexity <n>', "gate: the twin's perplexity on the held-out answers must be at most this")
    .option('--min-rouge-l <n>', 'gate: ROUGE-L against the references must be at least this')
    .option('--max-style-distance <n>', "gate: Cosine Delta to the author's held-out writing must be at most this")
    .option('--primary-metric <metric>', `champion/challenger metric: ${GATE_METRICS.join(', ')} (default: evaluation.primaryMetric)`)
    .option('--tolerance <fraction>', 'how much worse than the champion still passes, e.g. 0.02 for 2% (default: evaluation.tolerance)')
    .option('--target-endpoint <name>', 'the endpoint whose served version is the champion (default: the newest Approved version)')
    .option('--manual', 'a model that passes the gate waits for `llmtwin models approve|reject` before it is Approved')
    .option('--approval-timeout <duration>', 'how long --manual waits, e.g. "24h" (then rejects; default: evaluation.approvalTimeout)')
    .option('--max-samples <n>', 'held-out pairs scored per model (default: evaluation.maxSamples)')
    .option('--max-new-tokens <n>', 'tokens generated per answer (default: 256)')
    .option('--force', 'evaluate again even if this exact evaluation ran')
    .option('--workflow-id <id>', 'workflow id (default: evaluate-<time>-<random>)')
    .option('--detach', 'start the workflow and return without waiting (prints its id)')
    .option('--json', 'print the result as JSON (progress goes to stderr)')
    .addHelpText(
      'after',
      '\nNeeds a worker on the control queue (`npm run worker`, or `npm start`). The job runs where compute.backend says.\n' +
        'A model the gate rejects ends as `rejected` (exit 0, the reasons printed): that is a verdict, not a failure.',
    )
    .action(async (options: EvaluateOptions) => {
      const handle = await startRun<EvaluateWorkflow>(context, EVALUATE_WORKFLOW_TYPE, buildInput(options), {
        ...options,
        idPrefix: 'evaluate',
      });
      if (!handle) return;
      const result = await watch(context, handle);
      printResult(result, Boolean(options.json), () => verdictLines(result));
    });
}

function buildInput(options: EvaluateOptions): EvaluateInput {
  const fromFile = options.input ? readInputFile(options.input) : {};
  const gate = { ...((fromFile.gate as object | undefined) ?? {}) } as Record<string, unknown>;
  const thresholds = { ...((gate.thresholds as object | undefined) ?? {}) } as Record<string, unknown>;
  const threshold = (metric: string, value: string | undefined, flag: string) => {
    if (value !== undefined) thresholds[metric] = numberFlag(value, flag);
  };
  threshold('perplexity', options.maxPerplexity, '--max-perplexity');
  threshold('rouge_l', options.minRougeL, '--min-rouge-l');
  threshold('style_cosine_delta', options.maxStyleDistance, '--max-style-distance');
  if (Object.keys(thresholds).length > 0) gate.thresholds = thresholds;
  if (options.primaryMetric) gate.primaryMetric = options.primaryMetric;
  if (options.tolerance !== undefined) gate.tolerance = numberFlag(options.tolerance, '--tolerance');
  const approval = { ...((fromFile.approval as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.manual) approval.mode = 'manual';
  if (options.approvalTimeout) approval.timeout = options.approvalTimeout;
  const decoding = { ...((fromFile.decoding as object | undefined) ?? {}) } as Record<string, unknown>;
  if (options.maxNewTokens !== undefined) decoding.maxNewTokens = numberFlag(options.maxNewTokens, '--max-new-tokens');
  const raw = {
    ...fromFile,
    ...(options.trainingJob ? { trainingJobName: options.trainingJob } : {}),
    ...(options.model ? { modelUri: options.model } : {}),
    ...(options.dataset ? { datasetUri: options.dataset } : {}),
    ...(options.baseModel ? { baseModelId: options.baseModel } : {}),
    ...(options.twin ? { twin: options.twin } : {}),
    ...(options.targetEndpoint ? { targetEndpoint: options.targetEndpoint } : {}),
    ...(options.maxSamples !== undefined ? { maxSamples: numberFlag(options.maxSamples, '--max-samples') } : {}),
    ...(options.force ? { force: true } : {}),
    ...(Object.keys(gate).length > 0 ? { gate } : {}),
    ...(Object.keys(approval).length > 0 ? { approval } : {}),
    ...(Object.keys(decoding).length > 0 ? { decoding } : {}),
  };
  if (!raw.trainingJobName && !raw.modelUri) {
    throw new UsageError(
      'name the model to evaluate: --training-job <name> (what fine-tune printed), or --model, --dataset and --base-model',
    );
  }
  return checkedInput(EvaluateInputSchema, raw, 'evaluate input', { flags: FLAGS });
}

function format(value: number | null | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(Number(value.toPrecision(4))) : '-';
}

/** twin vs base per metric, with which side is better. */
export function metricLines(twin: ModelMetrics, base: ModelMetrics): string[] {
  return GATE_METRICS.filter((name) => twin[name] !== undefined || base[name] !== undefined).map((name) => {
    const [ours, theirs] = [twin[name], base[name]];
    const better =
      typeof ours === 'number' && typeof theirs === 'number'
        ? (isLowerBetter(name) ? ours < theirs : ours > theirs)
          ? 'twin better'
          : 'base better'
        : '';
    return `  ${name.padEnd(26)} twin ${format(ours).padStart(9)}   base ${format(theirs).padStart(9)}   ${isLowerBetter(name) ? '(lower is better)' : '(higher is better)'} ${better}`;
  });
}

export function verdictLines(result: EvaluateResult): string[] {
  return [
    `verdict       ${result.decision.toUpperCase()}${result.reused ? '  (this exact evaluation ran before: its report was reused)' : ''}`,
    ...result.reasons.map((reason) => `  because     ${reason}`),
    `model version ${result.modelVersion.groupName} v${result.modelVersion.version}: ${result.modelVersion.status}`,
    `              ${result.modelVersion.arn}`,
    ...(result.manualDecision
      ? [`decided by    ${result.manualDecision.by} (${result.manualDecision.via}): ${result.manualDecision.reason}`]
      : []),
    `champion      ${result.champion ? `v${result.champion.version} (${result.champion.source})` : 'none (nothing Approved to beat)'}`,
    `metrics       ${result.samplesScored} held-out samples, twin vs base ${result.baseModelId}:`,
    ...metricLines(result.metrics.twin, result.metrics.base),
    `report        ${result.reportUri}`,
    `evaluation    ${result.evaluationUri}`,
    `job           ${result.jobName} (log: ${result.logs})`,
  ];
}

function watch(context: CliContext, handle: WorkflowHandle<EvaluateWorkflow>) {
  let toldAboutApproval = false;
  return awaitRun(context, handle, {
    intervalMs: 2_000,
    view: async (heartbeats) => {
      const status = await handle.query(evaluateStatusQuery);
      if (status.phase === 'awaiting-approval' && !toldAboutApproval && status.modelVersion) {
        toldAboutApproval = true;
        notice(
          `waiting for a decision until ${status.awaiting?.deadline ?? '?'} (then: ${status.awaiting?.onTimeout ?? 'reject'}):\n` +
            `  llmtwin models approve ${status.modelVersion.arn} --reason "..."   (or: llmtwin models reject ...)`,
        );
      }
      return progressView(status, heartbeats);
    },
  });
}

function progressView(status: EvaluateStatus, heartbeats: unknown[]): RunView {
  const poll = heartbeats.find(
    (details): details is { status: string; polls: number } => typeof (details as { polls?: unknown })?.polls === 'number',
  );
  const parts: string[] = [status.phase];
  if (status.jobName) parts.push(status.jobName);
  if (poll) parts.push(poll.status);
  if (status.gate) parts.push(`gate ${status.gate.decision}`);
  if (status.modelVersion) parts.push(`v${status.modelVersion.version} ${status.modelVersion.status}`);
  return { line: parts.join('  ') };
}
