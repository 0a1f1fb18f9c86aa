import type { Command } from 'commander';
import { STACK_CHECK_WORKFLOW_TYPE, StackCheckInputSchema, type StackCheckWorkflow } from '../../common/stack-check/contract';
import { checkedInput } from '../cli-input';
import { printResult, type CliContext } from '../cli-context';

export function registerStackCheck(program: Command, context: CliContext): void {
  program
    .command('stack-check')
    .description('run the stack check workflow: a worker writes one object to S3 (needs `npm run worker` or `npm start`)')
    .option('-m, --message <text>', 'what to write', 'hello from llmtwin')
    .option('--delay <duration>', 'wait this long first, e.g. "10s" (a durable timer)')
    .option('--workflow-id <id>', 'workflow id (default: stack-check-<timestamp>)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { message: string; delay?: string; workflowId?: string; json?: boolean }) => {
      const input = checkedInput(StackCheckInputSchema, { message: options.message, delay: options.delay }, 'option');
      const client = await context.temporal();
      const workflowId = options.workflowId ?? `stack-check-${Date.now()}`;
      const handle = await client.workflow.start<StackCheckWorkflow>(STACK_CHECK_WORKFLOW_TYPE, {
        taskQueue: context.controlQueue,
        workflowId,
        args: [input],
      });
      if (!options.json) context.announce(workflowId);
      const result = await handle.result();
      printResult({ ...result }, Boolean(options.json));
    });
}
