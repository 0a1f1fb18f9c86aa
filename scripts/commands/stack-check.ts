import type { Command } from 'commander';
import { STACK_CHECK_WORKFLOW_TYPE, StackCheckInputSchema, type StackCheckWorkflow } from '../../common/stack-check/contract';
import { checkedInput } from '../cli-input';
import { defaultWorkflowId, type CliContext } from '../cli-context';
import { printFields, printJson } from '../cli-output';
import { awaitRun } from '../run-follower';

export function registerStackCheck(command: Command, context: CliContext): void {
  command
    .option('-m, --message <text>', 'what to write (1 to 10,000 characters)', 'hello from llmtwin')
    .option('--delay <duration>', 'wait this long first, e.g. "10s" (a durable timer)')
    .option('--workflow-id <id>', 'workflow id (default: stack-check-<time>-<random>)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nNeeds a worker on the control queue (`npm run worker`, or `npm start`).')
    .action(async (options: { message: string; delay?: string; workflowId?: string; json?: boolean }) => {
      const input = checkedInput(StackCheckInputSchema, { message: options.message, delay: options.delay }, 'stack-check input', {
        flags: { message: '--message', delay: '--delay' },
      });
      const client = await context.temporal();
      const workflowId = options.workflowId ?? defaultWorkflowId('stack-check');
      const handle = await client.workflow.start<StackCheckWorkflow>(STACK_CHECK_WORKFLOW_TYPE, {
        taskQueue: context.controlQueue,
        workflowId,
        args: [input],
      });
      context.announce(workflowId);
      const result = await awaitRun(context, handle);
      if (options.json) printJson(result);
      else
        printFields({
          wrote: result.uri,
          bytes: result.bytes,
          sha256: result.sha256,
          waited: `${result.waitedMs / 1000} s`,
          workflow: result.workflowId,
        });
    });
}
