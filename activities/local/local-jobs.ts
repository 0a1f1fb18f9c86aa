import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../common/shared/errors';
import type { LlmtwinConfig } from '../../common/config';
import { durationToMs } from '../../common/shared/durations';
import { validationFailure } from '../../common/shared/validation';
import { awsConnectionOf, type AwsConnection } from '../../platform/aws-clients';
import { projectPath } from '../../platform/paths';
import {
  IdentitySchema,
  jobFolder,
  LocalJobSpecSchema,
  LocalJobStateSchema,
  readJsonIfExists,
  TERMINAL_STATUSES,
  writeJsonAtomically,
  type LocalJobSpec,
  type LocalJobState,
} from './job-folder';
import { isRunning, linuxProcessTable, signalIfRunning, type ProcessTable } from './process-identity';
import { readFrom } from './log-file';
import { readLocalJobTags } from './job-tags';

/**
 * The worker's side of local jobs: start one (a detached supervisor that claims it), read where it is,
 * stop it. Reading is also where a job whose supervisor is gone (the machine rebooted, someone killed
 * it) is found and recorded as Failed, so a wait never hangs on a job nobody runs.
 */

/** A claimed folder may lack its files for this long (the supervisor is writing them) before it counts as abandoned. */
const STARTING_GRACE_MS = 30_000;
const CLAIM_TIMEOUT_MS = 60_000;

export interface LocalJobView {
  spec?: LocalJobSpec;
  state: LocalJobState;
  logPath: string;
}

/**
 * Starts the job unless a job of that name exists: `created` when this call's supervisor claimed it,
 * `exists` when another did (an earlier attempt, another worker). Secret variables reach the program
 * through the supervisor's environment and are never written to the job's folder.
 */
export async function launchLocalJob(
  jobsDir: string,
  spec: LocalJobSpec,
  secretEnv: Record<string, string>,
): Promise<'created' | 'exists'> {
  const incoming = join(jobsDir, '.incoming');
  mkdirSync(incoming, { recursive: true });
  const specPath = join(incoming, `${spec.name}-${randomUUID().slice(0, 8)}.json`);
  writeFileSync(specPath, JSON.stringify(LocalJobSpecSchema.parse(spec)));
  const errors = openSync(join(jobsDir, 'supervisors.log'), 'a');
  const [command, args] = supervisorCommand();
  const supervisor = spawn(command, [...args, specPath, jobsDir], {
    // Its own session: it outlives the worker, and a Ctrl-C in the worker's terminal does not reach it.
    detached: true,
    stdio: ['ignore', 'pipe', errors],
    env: { ...process.env, ...secretEnv },
  });
  closeSync(errors);
  try {
    const word = await firstLine(supervisor);
    if (word === 'claimed') return 'created';
    if (word === 'exists') return 'exists';
    throw new Error(`the local job supervisor for ${spec.name} ended without claiming the job (see ${join(jobsDir, 'supervisors.log')})`);
  } finally {
    supervisor.stdout?.destroy();
    supervisor.unref();
  }
}

/** How to run supervisor-main: compiled JavaScript as it is, TypeScript sources through tsx (as the worker itself runs). */
export function supervisorCommand(): [string, string[]] {
  if (__filename.endsWith('.ts')) {
    return [process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, join(__dirname, 'supervisor-main.ts')]];
  }
  return [process.execPath, [join(__dirname, 'supervisor-main.js')]];
}

function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('the local job supervisor did not answer within 60 s')), CLAIM_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.slice(0, text.indexOf('\n')).trim());
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(text.trim());
    });
  });
}

/** What every stage's local compute needs: where jobs live, the Python that runs them, their cache, the stop grace, S3. */
export interface LocalComputeOptions {
  jobsDir: string;
  python: string;
  cacheDir: string;
  stopGraceSeconds: number;
  aws: AwsConnection;
}

/** The local compute settings from config, relative paths made absolute at the project root. */
/** Local jobs run in the jobs venv; without it nothing can run, so say how to get it before anything starts. */
export function requireJobsPython(python: string, job: string): void {
  if (existsSync(python)) return;
  throw validationFailure(
    `compute.local.python: ${python} does not exist, so local compute cannot run ${job}. Install the jobs venv with "bash scripts/setup.sh --jobs" (npm start does it), set LLMTWIN_LOCAL_PYTHON, or use compute.backend sagemaker`,
  );
}

export function localComputeOptionsFor(config: LlmtwinConfig): LocalComputeOptions {
  const local = config.compute.local;
  return {
    jobsDir: projectPath(local.jobsDir),
    python: projectPath(local.python),
    cacheDir: projectPath(local.cacheDir),
    stopGraceSeconds: durationToMs(local.stopGrace) / 1000,
    aws: awsConnectionOf(config),
  };
}

/**
 * describeLocalJob for a stage's compute port. A job folder this worker cannot read (permissions, or a
 * state file it cannot parse, as a supervisor of another version might write) is final, so a wait fails
 * saying why instead of polling for 30 days; anything else (too many open files, say) is thrown as it
 * is, for the caller's classifier to retry.
 */
/**
 * ListTags for a local job of either stage: its create request's tags and those added since;
 * undefined when there is no such job.
 */
export function localJobTags(jobsDir: string, name: string): Promise<Map<string, string> | undefined> {
  return Promise.resolve().then(() => {
    const view = readLocalJob(jobsDir, name);
    if (!view) return undefined;
    const request = view.spec?.request as { Tags?: Array<{ Key?: string; Value?: string }> } | undefined;
    return readLocalJobTags(jobsDir, name, request?.Tags ?? []);
  });
}

export function readLocalJob(jobsDir: string, name: string): LocalJobView | undefined {
  try {
    return describeLocalJob(jobsDir, name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof ApplicationFailure || code === 'EACCES' || code === 'EPERM' || error instanceof SyntaxError) {
      throw ApplicationFailure.create({
        type: ERROR_TYPES.validation,
        nonRetryable: true,
        message: `cannot read local job ${name} in ${jobsDir}: ${(error as Error).message}`,
        ...(error instanceof Error ? { cause: error } : {}),
      });
    }
    throw error;
  }
}

/** Where the job is; undefined when no job has that name. A job nobody runs any more is recorded as Failed here. */
export function describeLocalJob(jobsDir: string, name: string, table: ProcessTable = linuxProcessTable): LocalJobView | undefined {
  const folder = jobFolder(jobsDir, name);
  let claimedAt: number;
  try {
    claimedAt = statSync(folder.root).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const spec = readJsonIfExists(folder.spec, LocalJobSpecSchema);
  const supervisor = readJsonIfExists(folder.supervisor, IdentitySchema);
  const state = readJsonIfExists(folder.state, LocalJobStateSchema);
  const view = (current: LocalJobState): LocalJobView => ({ ...(spec ? { spec } : {}), state: current, logPath: folder.log });

  if (state && TERMINAL_STATUSES.has(state.status)) return view(state);
  if (!supervisor || !state) {
    const started = new Date(claimedAt).toISOString();
    if (Date.now() - claimedAt < STARTING_GRACE_MS) {
      return view({
        status: 'InProgress',
        phase: 'Starting',
        transitions: [],
        startedAt: started,
        metrics: {},
        firstMetrics: {},
        uploaded: {},
      });
    }
    return view(recordVanished(folder.state, state, started, 'its supervisor stopped before the job started'));
  }
  if (isRunning(supervisor, table)) return view(state);
  // Gone. It writes its final state before it exits, so read once more before calling it lost.
  const latest = readJsonIfExists(folder.state, LocalJobStateSchema) ?? state;
  if (TERMINAL_STATUSES.has(latest.status)) return view(latest);
  // Its program may have outlived it (only the supervisor was killed): nobody would upload what it makes.
  if (latest.program) signalIfRunning(latest.program, table, 'SIGKILL', true);
  const tail = lastLines(folder.log);
  return view(
    recordVanished(
      folder.state,
      latest,
      latest.startedAt,
      `its process (pid ${supervisor.pid}) is gone while ${latest.phase}: the machine restarted or the process was killed${tail ? `; the log ends: ${tail}` : ''}`,
    ),
  );
}

function recordVanished(path: string, state: LocalJobState | undefined, startedAt: string, why: string): LocalJobState {
  const now = new Date().toISOString();
  const failed: LocalJobState = {
    ...(state ?? { transitions: [], metrics: {}, firstMetrics: {}, uploaded: {}, startedAt }),
    status: 'Failed',
    phase: 'Failed',
    endedAt: now,
    failureReason: `InternalServerError: the local job was lost: ${why}. Train again with force: true`,
  };
  failed.transitions = [...failed.transitions, { phase: 'Failed', startTime: now, message: 'The job process vanished' }];
  writeJsonAtomically(path, failed);
  return failed;
}

function lastLines(logPath: string): string {
  return readFrom(logPath, -2048)
    .text.split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-2)
    .join(' | ');
}

/**
 * Asks the job's supervisor to stop (SIGTERM; it gives its program the grace, then SIGKILL). Returns
 * what the job was: `signalled`, `ended` (nothing to stop) or `missing`.
 */
export function stopLocalJob(jobsDir: string, name: string, table: ProcessTable = linuxProcessTable): 'signalled' | 'ended' | 'missing' {
  const view = describeLocalJob(jobsDir, name, table);
  if (!view) return 'missing';
  if (TERMINAL_STATUSES.has(view.state.status)) return 'ended';
  const supervisor = readJsonIfExists(jobFolder(jobsDir, name).supervisor, IdentitySchema);
  // Still starting: the caller polls and asks again once the supervisor has recorded itself.
  if (!supervisor) return 'signalled';
  return signalIfRunning(supervisor, table, 'SIGTERM') ? 'signalled' : 'ended';
}
