import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { effectiveComputeBackend } from '../../common/config';
import { jobFolder, TERMINAL_STATUSES } from '../../activities/local/job-folder';
import { readFrom } from '../../activities/local/log-file';
import { describeLocalJob } from '../../activities/local/local-jobs';
import { projectPath } from '../../platform/paths';
import type { CliContext } from '../cli-context';
import { CliError, EXIT_CODES } from '../cli-errors';

const FOLLOW_INTERVAL_MS = 1000;

/**
 * `llmtwin jobs logs <job>`: a local job's log (training's stdout and stderr, with the runner's own
 * `llmtwin-local:` lines), whole or followed until the job ends. Jobs on SageMaker log to CloudWatch.
 */
export function registerJobs(command: Command, context: CliContext): void {
  command
    .command('logs')
    .description("print a local job's log; --follow keeps printing until the job ends")
    .argument('<job>', 'the job name, as fine-tune prints it (training job ...)')
    .option('-f, --follow', 'keep printing new lines until the job has ended')
    .action(async (name: string, options: { follow?: boolean }) => {
      const { config } = context;
      if (effectiveComputeBackend(config) === 'sagemaker') {
        throw new CliError(
          `jobs on SageMaker log to CloudWatch: group /aws/sagemaker/TrainingJobs, streams ${name}/algo-1-* (compute.backend is sagemaker)`,
          EXIT_CODES.usage,
        );
      }
      const jobsDir = projectPath(config.compute.local.jobsDir);
      if (!describeLocalJob(jobsDir, name)) {
        throw new CliError(`no local job ${name} in ${jobsDir} (compute.local.jobsDir)`, EXIT_CODES.notFound);
      }
      const log = jobFolder(jobsDir, name).log;
      let offset = 0;
      for (;;) {
        const ended = TERMINAL_STATUSES.has(describeLocalJob(jobsDir, name)?.state.status ?? 'Failed');
        const { text, next } = readFrom(log, offset);
        offset = next;
        process.stdout.write(text);
        if (!options.follow || ended) return;
        await sleep(FOLLOW_INTERVAL_MS);
      }
    });
}
