import type { Command } from 'commander';
import { effectiveAwsEndpoint } from '../../common/config';
import { taskQueuesFor } from '../../common/shared/task-queues';
import type { CliContext } from '../cli-context';

export function registerConfig(program: Command, context: CliContext): void {
  program
    .command('config')
    .description('validate and print the resolved configuration (environment + LLMTWIN_CONFIG file)')
    .action(() => {
      const { config } = context;
      const shown = {
        ...config,
        temporal: {
          ...config.temporal,
          apiKey: config.temporal.apiKey ? '<set>' : undefined,
          taskQueues: taskQueuesFor(config.temporal.taskQueue),
        },
        aws: { ...config.aws, effectiveEndpoint: effectiveAwsEndpoint(config) ?? '(AWS default endpoints)' },
      };
      console.log(JSON.stringify(shown, null, 2));
    });
}
