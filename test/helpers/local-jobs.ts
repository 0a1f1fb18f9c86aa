import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_STATUSES, type LocalJobSpec } from '../../activities/local/job-folder';
import { describeLocalJob, type LocalJobView } from '../../activities/local/local-jobs';

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
