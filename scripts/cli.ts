import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { PROJECT_ROOT } from '../platform/paths';
import { CliContext } from './cli-context';
import { CliError, EXIT_CODES, UsageError } from './cli-errors';
import { printError } from './cli-output';
import type * as stackCheckModule from './commands/stack-check';
import type * as prepareDataModule from './commands/prepare-data';
import type * as idleModule from './commands/idle';
import type * as fineTuneModule from './commands/fine-tune';
import type * as configModule from './commands/config';
import type * as jobsModule from './commands/jobs';
import type * as evaluateModule from './commands/evaluate';
import type * as modelsModule from './commands/models';
import type * as deployModule from './commands/deploy';
import type * as invokeModule from './commands/invoke';
import type * as pipelineModule from './commands/pipeline';
import type * as scheduleModule from './commands/schedule';
import type * as pipelineRunsModule from './commands/pipeline-runs';
import type * as iamModule from './commands/iam';
import type * as codecServerModule from './commands/codec-server';

// The AWS SDK's notice that versions from January 2027 on need Node 22 is for whoever upgrades the pinned
// SDK (see package.json), not for each run; set the variable to "false" to see it again.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * `llmtwin`: the command line for people and scripts. Each command lives in scripts/commands/ and is
 * loaded only when it runs, so `llmtwin --help` and `llmtwin config` start in a fraction of a second
 * (the Temporal client and the AWS SDK are loaded by the commands that use them, when they use them).
 */
type Register = (command: Command, context: CliContext) => void;

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: a command's code loads only when it runs */
const COMMANDS: ReadonlyArray<{ name: string; summary: string; load: () => Register }> = [
  {
    name: 'config',
    summary: 'validate and print the resolved configuration (secrets masked)',
    load: () => (require('./commands/config') as typeof configModule).registerConfig,
  },
  {
    name: 'stack-check',
    summary: 'run the stack check workflow: a worker writes one object to S3',
    load: () => (require('./commands/stack-check') as typeof stackCheckModule).registerStackCheck,
  },
  {
    name: 'run',
    summary:
      'the whole pipeline (twinPipeline): prepare data, fine-tune, evaluate, deploy, watch; `run --source <folder|s3> --twin <name>`',
    load: () => (require('./commands/pipeline') as typeof pipelineModule).registerRun,
  },
  {
    name: 'status',
    summary: "a pipeline run's progress: each stage's status and what it made",
    load: () => (require('./commands/pipeline-runs') as typeof pipelineRunsModule).registerStatus,
  },
  {
    name: 'watch',
    summary: 'follow a pipeline run until it ends, one line per change',
    load: () => (require('./commands/pipeline-runs') as typeof pipelineRunsModule).registerWatch,
  },
  {
    name: 'cancel',
    summary: 'cancel a pipeline run; its running stage cleans up',
    load: () => (require('./commands/pipeline-runs') as typeof pipelineRunsModule).registerCancel,
  },
  {
    name: 'runs',
    summary: 'the pipeline runs, newest first',
    load: () => (require('./commands/pipeline-runs') as typeof pipelineRunsModule).registerRuns,
  },
  {
    name: 'approve',
    summary: "approve the model a pipeline run's evaluate stage waits on (`--reason`)",
    load: () => (require('./commands/pipeline-runs') as typeof pipelineRunsModule).registerDecision('approve'),
  },
  {
    name: 'reject',
    summary: "reject the model a pipeline run's evaluate stage waits on (`--reason`)",
    load: () => (require('./commands/pipeline-runs') as typeof pipelineRunsModule).registerDecision('reject'),
  },
  {
    name: 'schedule',
    summary:
      'scheduled retraining: `schedule create <id> (--every 7d | --cron ...) --source ... --twin ...`, list, describe, pause, unpause, trigger, backfill, delete',
    load: () => (require('./commands/schedule') as typeof scheduleModule).registerSchedule,
  },
  {
    name: 'prepare-data',
    summary: "turn an author's writing (a folder or an S3 prefix) into a versioned instruct dataset in S3",
    load: () => (require('./commands/prepare-data') as typeof prepareDataModule).registerPrepareData,
  },
  {
    name: 'fine-tune',
    summary: 'fine-tune the base model on a prepared dataset (a SageMaker training job, or a local one); `fine-tune cancel <id>` stops one',
    load: () => (require('./commands/fine-tune') as typeof fineTuneModule).registerFineTune,
  },
  {
    name: 'evaluate',
    summary: 'score a fine-tuned model against its base model, gate it, and register it as a version in the model registry',
    load: () => (require('./commands/evaluate') as typeof evaluateModule).registerEvaluate,
  },
  {
    name: 'models',
    summary: "the twin's versions in the model registry: `models list|show <v> [--open]|approve <v>|reject <v>`",
    load: () => (require('./commands/models') as typeof modelsModule).registerModels,
  },
  {
    name: 'deploy',
    summary:
      'serve a twin as an endpoint (a registry version, a fine-tune job or a model.tar.gz): create or blue/green update, autoscale, smoke-test, watch',
    load: () => (require('./commands/deploy') as typeof deployModule).registerDeploy,
  },
  {
    name: 'invoke',
    summary: 'ask a deployed twin: `invoke <endpoint> "prompt"` streams the answer (--json for the whole of it)',
    load: () => (require('./commands/invoke') as typeof invokeModule).registerInvoke,
  },
  {
    name: 'rollback',
    summary: 'put the endpoint config the last deployment replaced back: `rollback <endpoint> [--to <config>]`',
    load: () => (require('./commands/deploy') as typeof deployModule).registerRollback,
  },
  {
    name: 'jobs',
    summary: "local compute jobs: `jobs logs <job> [--follow]` prints a job's log",
    load: () => (require('./commands/jobs') as typeof jobsModule).registerJobs,
  },
  {
    name: 'endpoints',
    summary: 'SageMaker endpoints: the fleet report, idle monitors, the idle sweep schedule',
    load: () => (require('./commands/idle') as typeof idleModule).registerEndpoints,
  },
  {
    name: 'iam',
    summary: 'the least-privilege IAM policy for a role, scoped to this config: `iam worker|operator|execution-role --account <id>`',
    load: () => (require('./commands/iam') as typeof iamModule).registerIam,
  },
  {
    name: 'codec-server',
    summary: 'decode encrypted payloads (temporal.encryption) for the Temporal Web UI: `codec-server [--port 8888] [--origin <ui>]`',
    load: () => (require('./commands/codec-server') as typeof codecServerModule).registerCodecServer,
  },
];
/* eslint-enable @typescript-eslint/no-require-imports */

const VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const program = new Command('llmtwin')
  .description(
    "LLM twin pipeline: turn a person's writing into a dataset, fine-tune and evaluate a model on it, serve it as an endpoint, and watch endpoints so idle ones stop billing",
  )
  .version(VERSION, '-V, --version', 'print the version')
  .option('-c, --config <file>', 'JSON config file (default: $LLMTWIN_CONFIG); environment variables override it')
  .addHelpText(
    'after',
    '\nExit codes: 0 success, 1 the run failed, 2 usage or validation error, 3 not found, 130 interrupted (the run goes on).\n' +
      'Commands that start a run need a worker (`npm run worker`, or `npm start`); `--json` prints one JSON document on stdout.',
  )
  .showHelpAfterError()
  .exitOverride();

const context = new CliContext(() => program.opts<{ config?: string }>().config);
// Only the command being run (or asked for help) is loaded; the others are listed by name for --help.
const wanted = new Set(
  process.argv
    .slice(2)
    .filter((arg) => !arg.startsWith('-'))
    .slice(0, 2),
);
for (const spec of COMMANDS) {
  const command = program.command(spec.name).description(spec.summary);
  if (wanted.has(spec.name)) {
    command.exitOverride();
    spec.load()(command, context);
  }
}

const asJson = process.argv.includes('--json');

program
  .parseAsync()
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      // --help and --version end this way too, with code 0; commander has printed what it had to.
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return;
      process.exitCode = EXIT_CODES.usage;
      if (asJson) printError(new UsageError(error.message.replace(/^error: /, '')), true);
      return;
    }
    const failure =
      error instanceof CliError ? error : new CliError(error instanceof Error ? error.message : String(error), EXIT_CODES.runFailed);
    process.exitCode = failure.exitCode;
    printError(failure, asJson);
  })
  .finally(() => context.close());
