import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { jobFolder, writeJsonAtomically, type LocalJobState } from '../../../activities/local/job-folder';
import { describeLocalJob, stopLocalJob } from '../../../activities/local/local-jobs';
import { isRunning, type ProcessIdentity, type ProcessTable } from '../../../activities/local/process-identity';
import { programSpec, scratchJobsDir } from '../../helpers/local-jobs';

// The runner's state machine on a scripted process table: which process a job's record means, what
// becomes of a job whose process is gone, and what a stop may signal.

const BOOT = 'boot-1';
const SUPERVISOR: ProcessIdentity = { pid: 4242, startTicks: 1000, bootId: BOOT };
const PROGRAM: ProcessIdentity = { pid: 4250, startTicks: 1010, bootId: BOOT };

class FakeProcessTable implements ProcessTable {
  readonly live = new Map<number, ProcessIdentity>();
  readonly signals: Array<[number, NodeJS.Signals]> = [];
  /** Runs inside identityOf, to stage what happens between two reads. */
  onLookup?: () => void;

  identityOf(pid: number) {
    this.onLookup?.();
    return this.live.get(pid);
  }
  signal(pid: number, signal: NodeJS.Signals) {
    this.signals.push([pid, signal]);
    return this.live.has(Math.abs(pid));
  }
}

function runningState(overrides: Partial<LocalJobState> = {}): LocalJobState {
  return {
    status: 'InProgress',
    phase: 'Training',
    transitions: [{ phase: 'Training', startTime: '2026-12-02T10:00:00.000Z', message: 'Training in progress' }],
    startedAt: '2026-12-02T10:00:00.000Z',
    program: PROGRAM,
    metrics: {},
    firstMetrics: {},
    uploaded: {},
    ...overrides,
  };
}

/** A job folder as the supervisor leaves it while it trains. */
function jobInProgress(jobsDir: string, name = 'job', state = runningState()) {
  const folder = jobFolder(jobsDir, name);
  mkdirSync(folder.ml, { recursive: true });
  writeFileSync(folder.spec, JSON.stringify(programSpec(name, 'python3', ['train.py'])));
  writeFileSync(folder.supervisor, JSON.stringify(SUPERVISOR));
  writeJsonAtomically(folder.state, state);
  writeFileSync(folder.log, 'llmtwin-metric train:loss=1.5 step=10\nepoch 2 of 3\n');
  return folder;
}

describe('local jobs: adopt, vanished process, reused pid, claim', () => {
  it('adopts a job whose supervisor is alive: it reads as running and nothing is signalled or rewritten', () => {
    const jobsDir = scratchJobsDir();
    const folder = jobInProgress(jobsDir);
    const before = readFileSync(folder.state, 'utf8');
    const table = new FakeProcessTable();
    table.live.set(SUPERVISOR.pid, SUPERVISOR).set(PROGRAM.pid, PROGRAM);
    const view = describeLocalJob(jobsDir, 'job', table);
    expect(view?.state).toMatchObject({ status: 'InProgress', phase: 'Training' });
    expect(table.signals).toEqual([]);
    expect(readFileSync(folder.state, 'utf8')).toBe(before);
  });

  it('records a job whose supervisor vanished (a reboot, a kill) as Failed with the phase and the log, and kills its orphaned program', () => {
    const jobsDir = scratchJobsDir();
    const folder = jobInProgress(jobsDir);
    const table = new FakeProcessTable();
    table.live.set(PROGRAM.pid, PROGRAM); // the program outlived its supervisor
    const view = describeLocalJob(jobsDir, 'job', table);
    expect(view?.state.status).toBe('Failed');
    expect(view?.state.failureReason).toMatch(
      /^InternalServerError: the local job was lost: its process \(pid 4242\) is gone while Training: .*the log ends: llmtwin-metric train:loss=1\.5 step=10 \| epoch 2 of 3\. Train again with force: true$/,
    );
    expect(table.signals).toEqual([[-PROGRAM.pid, 'SIGKILL']]);
    // Recorded, so every later reader (and a retried activity) sees the same end.
    expect(JSON.parse(readFileSync(folder.state, 'utf8'))).toMatchObject({ status: 'Failed' });
    expect(describeLocalJob(jobsDir, 'job', new FakeProcessTable())?.state.status).toBe('Failed');
  });

  it('does not mistake a reused pid (same number, another start time or boot) for the job', () => {
    const jobsDir = scratchJobsDir();
    jobInProgress(jobsDir);
    const stranger = { ...SUPERVISOR, startTicks: 999_999 };
    const afterReboot = { ...SUPERVISOR, bootId: 'boot-2' };
    expect(isRunning(SUPERVISOR, { identityOf: () => stranger, signal: () => true })).toBe(false);
    expect(isRunning(SUPERVISOR, { identityOf: () => afterReboot, signal: () => true })).toBe(false);
    const table = new FakeProcessTable();
    table.live.set(SUPERVISOR.pid, stranger).set(PROGRAM.pid, { ...PROGRAM, startTicks: 5 });
    expect(describeLocalJob(jobsDir, 'job', table)?.state.status).toBe('Failed');
    // Neither stranger was signalled: not the supervisor's pid, not the program's.
    expect(table.signals).toEqual([]);
  });

  it('takes the final state written just before the supervisor exited, rather than calling the job lost', () => {
    const jobsDir = scratchJobsDir();
    const folder = jobInProgress(jobsDir);
    const table = new FakeProcessTable();
    // Between the first read of state.json and the liveness check, the job completes and its supervisor exits.
    table.onLookup = () => writeJsonAtomically(folder.state, runningState({ status: 'Completed', phase: 'Completed' }));
    expect(describeLocalJob(jobsDir, 'job', table)?.state.status).toBe('Completed');
  });

  it('treats a claimed folder without a supervisor record as starting, then as abandoned after 30 s', () => {
    const jobsDir = scratchJobsDir();
    const folder = jobFolder(jobsDir, 'claimed');
    mkdirSync(folder.root);
    expect(describeLocalJob(jobsDir, 'claimed', new FakeProcessTable())?.state).toMatchObject({ status: 'InProgress', phase: 'Starting' });
    const old = new Date(Date.now() - 60_000);
    utimesSync(folder.root, old, old);
    expect(describeLocalJob(jobsDir, 'claimed', new FakeProcessTable())?.state.failureReason).toMatch(
      /its supervisor stopped before the job started/,
    );
  });

  it('stops only what is still the job: SIGTERM to a live supervisor, nothing to a vanished one', () => {
    const jobsDir = scratchJobsDir();
    jobInProgress(jobsDir, 'alive');
    jobInProgress(jobsDir, 'gone');
    const table = new FakeProcessTable();
    table.live.set(SUPERVISOR.pid, SUPERVISOR);
    expect(stopLocalJob(jobsDir, 'alive', table)).toBe('signalled');
    expect(table.signals).toEqual([[SUPERVISOR.pid, 'SIGTERM']]);
    const empty = new FakeProcessTable();
    expect(stopLocalJob(jobsDir, 'gone', empty)).toBe('ended');
    expect(empty.signals).toEqual([]);
    expect(stopLocalJob(jobsDir, 'never-made', empty)).toBe('missing');
    expect(describeLocalJob(jobsDir, 'never-made', empty)).toBeUndefined();
  });
});
