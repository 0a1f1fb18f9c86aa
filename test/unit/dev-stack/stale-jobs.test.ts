import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeLocalJob, launchLocalJob } from '../../../activities/local/local-jobs';
import { retireLocalJobs, stopLocalJobs } from '../../../scripts/dev-stack/stale-jobs';
import { isRunning, linuxProcessTable } from '../../../activities/local/process-identity';
import { programSpec, scratchJobsDir, waitFor } from '../../helpers/local-jobs';

function job(jobsDir: string, name: string, status: string, pid: number): void {
  mkdirSync(join(jobsDir, name), { recursive: true });
  writeFileSync(join(jobsDir, name, 'state.json'), JSON.stringify({ status }));
  writeFileSync(join(jobsDir, name, 'supervisor.json'), JSON.stringify({ pid }));
}

describe('local jobs when a fresh moto starts', () => {
  it('moves ended jobs aside, since their outputs lived in the old moto', () => {
    const root = mkdtempSync(join(tmpdir(), 'stale-'));
    const jobsDir = join(root, 'jobs');
    job(jobsDir, 'llmtwin-train-a', 'Completed', 999_999_999);
    const notice = retireLocalJobs(jobsDir, new Date('2026-12-02T10:00:00Z'));

    expect(notice).toMatch(/moved to .*jobs-before-2026-12-02T10-00-00-000Z: stages run again/);
    expect(existsSync(jobsDir)).toBe(false);
    expect(readdirSync(join(root, 'jobs-before-2026-12-02T10-00-00-000Z'))).toEqual(['llmtwin-train-a']);
  });

  it('keeps the folder while a job in it still runs, and says so', () => {
    const jobsDir = join(mkdtempSync(join(tmpdir(), 'stale-')), 'jobs');
    job(jobsDir, 'llmtwin-train-a', 'Completed', 999_999_999);
    job(jobsDir, 'llmtwin-serve-b', 'InProgress', process.pid);

    expect(retireLocalJobs(jobsDir)).toMatch(/local jobs still run \(llmtwin-serve-b\)/);
    expect(readdirSync(jobsDir).sort()).toEqual(['llmtwin-serve-b', 'llmtwin-train-a']);
  });

  it('does nothing without jobs', () => {
    expect(retireLocalJobs(join(tmpdir(), 'no-such-jobs-dir'))).toBeUndefined();
  });
});

describe('local jobs when the stack stops', () => {
  it('stops the ones still running (a local endpoint serves on otherwise) and leaves ended ones be', async () => {
    const jobsDir = scratchJobsDir();
    job(jobsDir, 'llmtwin-train-a', 'Completed', 999_999_999);
    await launchLocalJob(jobsDir, programSpec('llmtwin-serve-b', process.execPath, ['-e', 'setInterval(() => {}, 1000)']), {});
    await waitFor(
      jobsDir,
      'llmtwin-serve-b',
      (view) => view.state.status === 'InProgress' && existsSync(join(jobsDir, 'llmtwin-serve-b', 'supervisor.json')),
    );

    expect(await stopLocalJobs(jobsDir)).toEqual(['llmtwin-serve-b']);
    const stopped = describeLocalJob(jobsDir, 'llmtwin-serve-b')?.state;
    expect(stopped?.status).toBe('Stopped');
    expect(stopped?.program && isRunning(stopped.program, linuxProcessTable)).toBe(false);
    expect(await stopLocalJobs(jobsDir)).toEqual([]);
  });
});
