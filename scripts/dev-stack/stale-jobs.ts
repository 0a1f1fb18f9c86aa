import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopLocalJob } from '../../activities/local/local-jobs';
import { isAlive } from '../../platform/local-endpoints';

/**
 * moto keeps its state in memory: when the dev stack starts a fresh moto, the S3 objects and SageMaker
 * records that local jobs made against the previous one are gone, while the jobs' folders remain and
 * say Completed. A stage would then "reuse" a training job whose model is nowhere. So a fresh moto
 * retires the local jobs folder (moved aside, never deleted), unless a job in it still runs.
 */

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);
const isPid = (pid: unknown): boolean => typeof pid === 'number' && isAlive(pid);

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Jobs whose supervisor still runs (a training job, a local endpoint's server). */
export function runningLocalJobs(jobsDir: string): string[] {
  if (!existsSync(jobsDir)) return [];
  return readdirSync(jobsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .filter((entry) => {
      const status = readJson(join(jobsDir, entry.name, 'state.json'))?.status;
      return !TERMINAL.has(String(status)) && isPid(readJson(join(jobsDir, entry.name, 'supervisor.json'))?.pid);
    })
    .map((entry) => entry.name);
}

/** Moves the jobs folder aside (`<dir>-before-<time>`); says what it did, or why it did not. */
export function retireLocalJobs(jobsDir: string, now = new Date()): string | undefined {
  if (!existsSync(jobsDir) || readdirSync(jobsDir).length === 0) return undefined;
  const running = runningLocalJobs(jobsDir);
  if (running.length > 0) {
    return `moto started fresh, but local jobs still run (${running.join(', ')}): ${jobsDir} is kept; their earlier outputs are not in this moto`;
  }
  const aside = `${jobsDir}-before-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(jobsDir, aside);
  return `moto started fresh (its state is in memory), so the local jobs made against the previous one were moved to ${aside}: stages run again`;
}

/**
 * Stops the local jobs that still run (a local endpoint's server above all, which otherwise serves on
 * for its 28-day limit, its endpoint gone with moto's memory); waits until their supervisors have
 * recorded them Stopped, or `timeoutMs`. Answers the jobs it stopped.
 */
export async function stopLocalJobs(jobsDir: string, timeoutMs = 30_000): Promise<string[]> {
  const running = runningLocalJobs(jobsDir);
  for (const name of running) stopLocalJob(jobsDir, name);
  const deadline = Date.now() + timeoutMs;
  while (runningLocalJobs(jobsDir).length > 0 && Date.now() < deadline) await sleep(200);
  return running;
}
