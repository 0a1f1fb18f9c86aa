import { randomUUID } from 'node:crypto';
import { taskQueuesFor } from '../common/task-queues';
import { loadConfig } from '../platform/config';
import { createLogger } from '../platform/logger';
import { connectClient } from '../platform/temporal';
import { runWorkers } from '../workers/run-workers';
import { stackCheck } from '../workflows/stack-check';
import { DEFAULT_STACK, stackInfo } from './dev-stack/stack';

/**
 * The README's main command, after setup and `dev start`: runs the workers in this process and drives
 * the most complete path that exists through them, printing where everything landed. Each stage that
 * lands extends this path.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(process.env.LLMTWIN_LOG_LEVEL ?? 'warn', 'llmtwin-demo');
  const ui = stackInfo(DEFAULT_STACK).uiUrl;
  let stopWorkers!: () => void;
  const workersDone = runWorkers({ config, roles: ['control', 'data'], logger, until: new Promise<void>((done) => (stopWorkers = done)) });
  const client = await connectClient(config);
  try {
    const workflowId = `stack-check-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 4)}`;
    console.log(`\n== stack check: ${ui}/namespaces/${config.temporal.namespace}/workflows/${workflowId}`);
    const result = await client.workflow.execute(stackCheck, {
      taskQueue: taskQueuesFor(config.temporal.taskQueue).control,
      workflowId,
      args: [{ message: 'hello from the llmtwin demo', delay: '2s' }],
    });
    console.log(`   wrote ${result.uri} (${result.bytes} bytes, sha256 ${result.sha256.slice(0, 12)}...) after a ${result.waitedMs / 1000} s durable timer`);
    console.log(`\nTemporal Web UI: ${ui}   (stack keeps running; stop it with: npm run dev -- stop)`);
  } finally {
    stopWorkers();
    await workersDone;
    await client.connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
