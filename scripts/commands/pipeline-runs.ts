import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { cancelPipeline, decideApproval, getProgress, listRuns } from '../../client/pipeline';
import { ApprovalDecisionSchema } from '../../common/evaluate/contract';
import { PIPELINE_WORKFLOW_TYPE, type PipelineResult, type PipelineWorkflow } from '../../common/pipeline/contract';
import type { CliContext } from '../cli-context';
import { CliError, EXIT_CODES } from '../cli-errors';
import { checkedInput } from '../cli-input';
import { notice, printResult } from '../cli-output';
import { awaitRun, describeRunOf } from '../run-follower';
import { consoleLines, progressLine, resultLines } from './pipeline';

/**
 * The pipeline's runs from the command line, on the typed client library (client/pipeline.ts):
 * `status <id>`, `watch <id>`, `cancel <id>`, `runs`, `approve|reject <id>`.
 */

export function registerStatus(command: Command, context: CliContext): void {
  command
    .argument('<workflowId>', 'the pipeline run (llmtwin run printed its id; llmtwin runs lists them)')
    .option('--json', 'print the progress as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      const { status } = await describeRunOf(context, workflowId, PIPELINE_WORKFLOW_TYPE);
      const progress = await getProgress(await context.temporal(), workflowId);
      printResult({ workflowId, status, ...progress }, Boolean(options.json), () => [
        `${workflowId}: ${status}`,
        ...progress.stages.flatMap((entry) => [
          `  ${entry.stage.padEnd(13)} ${entry.status.padEnd(9)} ${entry.summary ?? entry.error ?? ''}`,
          ...consoleLines(entry, ' '.repeat(26)),
        ]),
      ]);
    });
}

export function registerWatch(command: Command, context: CliContext): void {
  command
    .argument('<workflowId>', 'the pipeline run to follow until it ends')
    .option('--json', 'print the result as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      await describeRunOf(context, workflowId, PIPELINE_WORKFLOW_TYPE);
      const client = await context.temporal();
      const handle = client.workflow.getHandle<PipelineWorkflow>(workflowId);
      const result: PipelineResult = await awaitRun(context, handle, {
        intervalMs: 2_000,
        view: async () => ({ line: progressLine(await getProgress(client, workflowId)) }),
      });
      printResult(result, Boolean(options.json), () => resultLines(result));
    });
}

export function registerCancel(command: Command, context: CliContext): void {
  command
    .argument('<workflowId>', 'the pipeline run to cancel (its running stage cleans up: its job stopped, its deployment undone)')
    .option('--json', 'print the outcome as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      const before = await describeRunOf(context, workflowId, PIPELINE_WORKFLOW_TYPE);
      if (before.status !== 'RUNNING') {
        printResult({ workflowId, status: before.status, cancelled: false }, Boolean(options.json), () => [
          `${workflowId} already ended (${before.status}); nothing to cancel`,
        ]);
        return;
      }
      const client = await context.temporal();
      await cancelPipeline(client, workflowId);
      notice(`cancellation requested for ${workflowId}; waiting for its running stage to clean up...`);
      await client.workflow
        .getHandle(workflowId)
        .result()
        .catch(() => undefined);
      const { status } = await client.workflow.getHandle(workflowId).describe();
      printResult({ workflowId, status: status.name, cancelled: status.name === 'CANCELLED' }, Boolean(options.json), () => [
        `${workflowId}: ${status.name}`,
      ]);
    });
}

export function registerRuns(command: Command, context: CliContext): void {
  command
    .option('--limit <n>', 'at most this many, newest first', '20')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string; json?: boolean }) => {
      const runs = await listRuns(await context.temporal(), Math.max(1, Number(options.limit) || 20));
      printResult(runs, Boolean(options.json), () =>
        runs.length === 0
          ? ['no pipeline runs yet (llmtwin run --source ... --twin ...)']
          : runs.map((run) => `${run.workflowId.padEnd(48)} ${run.status.padEnd(11)} ${run.startTime}`),
      );
    });
}

export function registerDecision(action: 'approve' | 'reject') {
  return (command: Command, context: CliContext): void => {
    command
      .argument('<workflowId>', 'the pipeline run whose evaluate stage waits for a decision')
      .requiredOption('--reason <text>', 'why: recorded on the model version and in the run')
      .option('--by <name>', 'who decides (default: your user name)')
      .option('--json', 'print the outcome as JSON')
      .action(async (workflowId: string, options: { reason: string; by?: string; json?: boolean }) => {
        await describeRunOf(context, workflowId, PIPELINE_WORKFLOW_TYPE);
        const decision = checkedInput(
          ApprovalDecisionSchema,
          { by: options.by ?? userInfo().username, reason: options.reason },
          'decision',
          {
            flags: { by: '--by', reason: '--reason' },
          },
        );
        let status;
        try {
          status = await decideApproval(await context.temporal(), workflowId, action, decision);
        } catch (error) {
          const cause = (error as { cause?: Error }).cause ?? (error as Error);
          throw new CliError(`${action}: ${workflowId}'s evaluate stage took no decision: ${cause.message}`, EXIT_CODES.usage);
        }
        printResult({ workflowId, action, modelVersion: status.modelVersion ?? null }, Boolean(options.json), () => [
          `${action === 'approve' ? 'approved' : 'rejected'}: ${status.modelVersion ? `version ${status.modelVersion.version}` : 'the model'} of ${workflowId}`,
        ]);
      });
  };
}
