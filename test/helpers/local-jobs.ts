import { mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_STATUSES, type LocalJobSpec } from '../../activities/local/job-folder';
import { describeLocalJob, type LocalJobView } from '../../activities/local/local-jobs';
import { isRunning, linuxProcessTable, type ProcessIdentity } from '../../activities/local/process-identity';

/** A fresh jobs folder for one test. */
export function scratchJobsDir(): string {
  return mkdtempSync(join(realpathSync(tmpdir()), 'llmtwin-jobs-'));
}

/** A local job that runs `command args` with no S3 inputs or outputs: the runner alone, no AWS needed. */
export function programSpec(name: string, command: string, args: string[], overrides: Partial<LocalJobSpec> = {}): LocalJobSpec {
  return {
    name,
    request: { TrainingJobName: name },
    aws: { target: 'local', region: 'us-east-1', endpointUrl: 'http://127.0.0.1:9', maxAttempts: 1 },
    inputs: [],
    files: [{ path: 'input/config/hyperparameters.json', content: '{}' }],
    program: { command, args, cwd: '.', env: {}, secretEnv: [] },
    outputs: [],
    metricDefinitions: [{ Name: 'train:loss', Regex: 'loss=([0-9.]+)' }],
    progressRegex: 'step=([0-9]+) total=([0-9]+)',
    maxRuntimeSeconds: 600,
    stopGraceSeconds: 2,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Polls the job's folder until it has ended (or the time is up). */
export async function waitForEnd(jobsDir: string, name: string, timeoutMs = 60_000): Promise<LocalJobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = describeLocalJob(jobsDir, name);
    if (view && TERMINAL_STATUSES.has(view.state.status)) return view;
    if (Date.now() > deadline) throw new Error(`job ${name} did not end within ${timeoutMs} ms: ${JSON.stringify(view?.state)}`);
    await sleep(200);
  }
}

/** Polls until `check` holds for the job's view. */
export async function waitFor(
  jobsDir: string,
  name: string,
  check: (view: LocalJobView) => boolean,
  timeoutMs = 30_000,
): Promise<LocalJobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = describeLocalJob(jobsDir, name);
    if (view && check(view)) return view;
    if (Date.now() > deadline) throw new Error(`job ${name}: condition not met within ${timeoutMs} ms: ${JSON.stringify(view?.state)}`);
    await sleep(100);
  }
}

/** Every process a local job of the jobs folder started (its supervisor and its program) that still runs. */
export function liveJobProcesses(jobsDir: string): string[] {
  return readdirSync(jobsDir, { withFileTypes: true }).flatMap((entry) => {
    if (!entry.isDirectory()) return [];
    const live: string[] = [];
    const supervisorFile = join(jobsDir, entry.name, 'supervisor.json');
    try {
      if (isRunning(JSON.parse(readFileSync(supervisorFile, 'utf8')) as ProcessIdentity, linuxProcessTable))
        live.push(`${entry.name} supervisor`);
    } catch {
      // Not claimed yet: nothing of it runs.
    }
    const program = describeLocalJob(jobsDir, entry.name)?.state.program;
    if (program && isRunning(program, linuxProcessTable)) live.push(`${entry.name} program`);
    return live;
  });
}

/** Whether a job whose name starts with `prefix` has its program running (or ran it). */
export const jobProgramStarted = (jobsDir: string, prefix: string) =>
  readdirSync(jobsDir).some((name) => name.startsWith(prefix) && describeLocalJob(jobsDir, name)?.state.program !== undefined);
