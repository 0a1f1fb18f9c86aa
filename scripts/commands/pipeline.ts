import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import {
  PIPELINE_WORKFLOW_TYPE,
  PipelineInputSchema,
  progressQuery,
  type PipelineInput,
  type PipelineProgress,
  type PipelineResult,
  type PipelineWorkflow,
  type StageProgress,
} from '../../common/pipeline/contract';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { checkedInput, readInputFile } from '../cli-input';
import { printResult } from '../cli-output';
import { awaitRun, startRun, type RunView } from '../run-follower';
import { sourceFrom } from './prepare-data';

/**
 * `llmtwin run`: the whole pipeline (twinPipeline) from a source to a served, watched twin, with one
 * progress line per change: each stage's status, and what it made.
 */
interface RunOptions {
  source?: string;
  twin?: string;
  input?: string;
  author?: string;
  manual?: boolean;
  /** commander's --no-deploy: false when given. */
  deploy?: boolean;
  idleWindow?: string;
  workflowId?: string;
  detach?: boolean;
  json?: boolean;
}

const FLAGS: Readonly<Record<string, string>> = {
  source: '--source',
  twin: '--twin',
  'prepareData.author.name': '--author',
  'deploy.monitor.window': '--idle-window',
};

export function registerRun(command: Command, context: CliContext): void {
  command
    .option('--source <folder|s3uri>', "the author's writing: a folder on the data worker, or an S3 prefix")
    .option('--twin <name>', "the twin's name (its registry group and endpoint), e.g. wren")
    .option('--input <file>', 'a JSON pipeline input (like examples/pipeline.json); the flags override it')
    .option('--author <name>', 'the author, to phrase the instructions ("As Wren, ...")')
    .option('--manual', 'a model that passes the gate waits for `llmtwin models approve|reject` before it deploys')
    .option('--no-deploy', 'stop at the registry: evaluate and register, serve nothing')
    .option('--idle-window <duration>', "the endpoint's idle monitor deletes it after this long without calls (default: idle.window)")
    .option(
      '--workflow-id <id>',
      'workflow id, also the idempotency key: starting it again follows the run that has it (running or ended), never a second (default: pipeline-<time>-<random>)',
    )
    .option('--detach', 'start the pipeline and return (prints its id)')
    .option('--json', 'print the result as JSON (progress goes to stderr)')
    .addHelpText(
      'after',
      '\nNeeds workers on the control and data queues, and the idle queue for the monitor (`npm run worker`, or `npm start`).',
    )
    .action(async (options: RunOptions) => {
      const handle = await startRun<PipelineWorkflow>(context, PIPELINE_WORKFLOW_TYPE, buildInput(options), {
        ...options,
        idPrefix: 'pipeline',
        reuseRunning: true,
      });
      if (!handle) return;
      const result = await follow(context, handle);
      printResult(result, Boolean(options.json), () => resultLines(result));
    });
}

function buildInput(options: RunOptions): PipelineInput {
  const fromFile = options.input ? readInputFile(options.input) : {};
  const section = (key: string) => ({ ...((fromFile[key] as object | undefined) ?? {}) }) as Record<string, unknown>;
  const prepareData = section('prepareData');
  if (options.author) prepareData.author = { ...(prepareData.author ?? {}), name: options.author };
  const evaluate = section('evaluate');
  if (options.manual) evaluate.approval = { ...(evaluate.approval ?? {}), mode: 'manual' };
  const deploy = section('deploy');
  if (options.deploy === false) deploy.enabled = false;
  if (options.idleWindow) deploy.monitor = { ...(deploy.monitor ?? {}), window: options.idleWindow };
  const raw = {
    ...fromFile,
    ...(options.source ? { source: sourceFrom(options.source) } : {}),
    ...(options.twin ? { twin: options.twin } : {}),
    ...(Object.keys(prepareData).length > 0 ? { prepareData } : {}),
    ...(Object.keys(evaluate).length > 0 ? { evaluate } : {}),
    ...(Object.keys(deploy).length > 0 ? { deploy } : {}),
  };
  if (raw.source === undefined) throw new UsageError('--source is required: a folder on the data worker, or an S3 prefix');
  if (raw.twin === undefined) throw new UsageError('--twin is required: the twin\'s name, such as "wren"');
  return checkedInput(PipelineInputSchema, raw, 'pipeline input', { flags: FLAGS });
}

/** One line: each stage and its status, the running one with what it is doing. */
export function progressLine(progress: PipelineProgress): string {
  return progress.stages.map((entry) => `${entry.stage} ${entry.status}${entry.status === 'running' ? '...' : ''}`).join('  |  ');
}

function follow(context: CliContext, handle: WorkflowHandle<PipelineWorkflow>) {
  return awaitRun(context, handle, {
    intervalMs: 2_000,
    view: async (): Promise<RunView> => ({ line: progressLine(await handle.query(progressQuery)) }),
  });
}

/** A stage's AWS console link, on a line of its own under the stage, where it has one. */
export function consoleLines(entry: StageProgress, indent: string): string[] {
  return entry.links?.console ? [`${indent}console: ${entry.links.console}`] : [];
}

export function resultLines(result: PipelineResult): string[] {
  return [
    `outcome       ${result.outcome.toUpperCase()}${result.reasons.length > 0 ? `: ${result.reasons.join('; ')}` : ''}`,
    ...result.stages.flatMap((entry) => [
      `${entry.stage.padEnd(13)} ${entry.status.padEnd(8)} ${entry.summary ?? ''}  (${entry.workflowId})`,
      ...consoleLines(entry, ' '.repeat(23)),
    ]),
    ...(result.deployment ? [`invoke        llmtwin invoke ${result.deployment.endpointName} "What do you write about?"`] : []),
  ];
}
