import type { Command } from 'commander';
import { effectiveAwsEndpoint, maskSecrets } from '../../common/config';
import { taskQueuesFor } from '../../common/shared/task-queues';
import type { CliContext } from '../cli-context';
import { printJson } from '../cli-output';

export function registerConfig(command: Command, context: CliContext): void {
  command
    .option('--json', 'the same JSON (it is always JSON; accepted so every command takes --json)')
    .addHelpText(
      'after',
      '\nSecrets (temporal.apiKey, generator.apiKey) are shown as "<set>". A bad value or an unknown key exits 2 naming it.',
    )
    .action(() => {
      const config = maskSecrets(context.config);
      printJson({
        ...config,
        temporal: { ...config.temporal, taskQueues: taskQueuesFor(config.temporal.taskQueue) },
        aws: { ...config.aws, effectiveEndpoint: effectiveAwsEndpoint(config) ?? '(AWS default endpoints)' },
      });
    });
}
