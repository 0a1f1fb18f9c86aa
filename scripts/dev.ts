import { Command } from 'commander';
import { DEFAULT_STACK, stackInfo, stackStatus, startStack, stopStack } from './dev-stack/stack';

/**
 * `npm run dev -- start|stop|status`: the local stack (Temporal dev server with Web UI, moto).
 * History survives restarts (SQLite file in .llmtwin/dev); moto's state lives in memory.
 */
const program = new Command('dev').description('start and stop the embedded dev stack (Temporal dev server + moto)');

program
  .command('start')
  .description('start the stack (idempotent) and wait until it is healthy')
  .action(async () => {
    const info = await startStack(DEFAULT_STACK);
    console.log(`Temporal   ${info.temporalAddress}`);
    console.log(`moto (AWS) ${info.motoUrl}`);
    console.log(`Web UI     ${info.uiUrl}`);
    console.log(`data+logs  ${info.dataDir}`);
    for (const notice of info.notices) console.log(`note       ${notice}`);
  });

program
  .command('stop')
  .description('stop what `start` started, and nothing else')
  .action(async () => {
    const stopped = await stopStack(DEFAULT_STACK);
    console.log(stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'nothing of ours was running');
  });

program
  .command('status')
  .description('show which parts of the stack are running')
  .action(() => {
    for (const service of stackStatus(DEFAULT_STACK)) {
      console.log(`${service.service.padEnd(9)} ${service.running ? `running (pid ${service.pid})` : 'stopped'}  port ${service.port}`);
    }
    const info = stackInfo(DEFAULT_STACK);
    console.log(`Web UI    ${info.uiUrl}`);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
