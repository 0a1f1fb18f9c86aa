import { Command } from 'commander';
import { CliContext } from './cli-context';
import { registerConfig } from './commands/config';
import { registerEndpoints } from './commands/idle';
import { registerFineTune } from './commands/fine-tune';
import { registerPrepareData } from './commands/prepare-data';
import { registerStackCheck } from './commands/stack-check';

/** `llmtwin`: the command line for people and scripts. Each command lives in scripts/commands/. */
const program = new Command('llmtwin')
  .description('LLM twin pipeline: prepare data, fine-tune, evaluate, deploy and watch idle endpoints')
  .option('-c, --config <file>', 'JSON config file (default: $LLMTWIN_CONFIG); environment variables override it')
  .showHelpAfterError();

const context = new CliContext(() => program.opts<{ config?: string }>().config);
registerConfig(program, context);
registerStackCheck(program, context);
registerPrepareData(program, context);
registerFineTune(program, context);
registerEndpoints(program, context);

program
  .parseAsync()
  .catch((error: unknown) => {
    console.error(`llmtwin: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => context.close());
