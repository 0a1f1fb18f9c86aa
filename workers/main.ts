import { Command, Option } from 'commander';
import { WORKER_ROLES, type WorkerRole } from '../common/shared/task-queues';
import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { runWorkers } from './run-workers';

// The AWS SDK's notice that versions from January 2027 on need Node 22 is for whoever upgrades the pinned
// SDK (see package.json), not for each run; set the variable to "false" to see it again.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `npm run worker -- [--queues control,data]`: serves the project's task queues until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const options = new Command('llmtwin-worker')
    .addOption(
      new Option('--queues <roles>', `comma-separated worker roles to run (${WORKER_ROLES.join(', ')})`)
        .default([...WORKER_ROLES], WORKER_ROLES.join(','))
        .argParser(parseRoles),
    )
    .parse()
    .opts<{ queues: WorkerRole[] }>();
  const config = loadConfig();
  const logger = createLogger(config.log.level, 'llmtwin-worker');
  await runWorkers({ config, roles: options.queues, logger });
}

function parseRoles(value: string): WorkerRole[] {
  const roles = value.split(',').map((role) => role.trim());
  const unknown = roles.filter((role) => !WORKER_ROLES.includes(role as WorkerRole));
  if (unknown.length > 0) throw new Error(`--queues: unknown role(s) ${unknown.join(', ')}; use ${WORKER_ROLES.join(', ')}`);
  return roles as WorkerRole[];
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
