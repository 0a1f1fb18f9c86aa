import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobFolder } from '../../../activities/local/job-folder';
import { launchLocalJob, stopLocalJob, supervisorCommand } from '../../../activities/local/local-jobs';
import { afterSeconds } from '../../../activities/local/supervisor';
import { programSpec, scratchJobsDir, waitFor, waitForEnd } from '../../helpers/local-jobs';

// The real supervisor (spawned detached through tsx, as a worker running from source spawns it) running
// real programs. No S3: these jobs have no inputs or outputs, so only the runner itself is under test.
const node = process.execPath;

describe('local job supervisor', () => {
  it('runs a job once when two workers start it together: one claims it, the other is told it exists', async () => {
    const jobsDir = scratchJobsDir();
    const marker = join(jobsDir, 'runs.txt');
    const spec = programSpec('twice', node, [
      '-e',
      `require('fs').appendFileSync(${JSON.stringify(marker)}, 'ran\\n'); console.log('loss=0.5 step=3 total=3')`,
    ]);
    const answers = await Promise.all([launchLocalJob(jobsDir, spec, {}), launchLocalJob(jobsDir, spec, {})]);
    expect(answers.sort()).toEqual(['created', 'exists']);
    const view = await waitForEnd(jobsDir, 'twice');
    expect(view.state.status).toBe('Completed');
    expect(readFileSync(marker, 'utf8')).toBe('ran\n');
    // The log was scraped as SageMaker scrapes it: the metric and the step counter.
    expect(view.state.metrics).toEqual({ 'train:loss': 0.5 });
    expect(view.state.progress).toEqual({ step: 3, total: 3 });
    expect(view.state.transitions.map((t) => t.phase)).toEqual(['Starting', 'Downloading', 'Training', 'Completed']);
    // A third start, after it ended, creates nothing either.
    await expect(launchLocalJob(jobsDir, spec, {})).resolves.toBe('exists');
  });

  it('fails a crashed program with the last line of its traceback, and passes secrets only through the environment', async () => {
    const jobsDir = scratchJobsDir();
    const script = 'import os\nprint("token length", len(os.environ["HF_TOKEN"]))\nraise RuntimeError("the GPU caught fire")';
    const spec = programSpec('crash', 'python3', ['-c', script]);
    spec.program.secretEnv = ['HF_TOKEN'];
    // As the training spec sets it: the traceback (stderr) and the prints (stdout) reach the log in order.
    spec.program.env = { PYTHONUNBUFFERED: '1' };
    await launchLocalJob(jobsDir, spec, { HF_TOKEN: 'hf_secret_value' });
    const view = await waitForEnd(jobsDir, 'crash');
    expect(view.state.status).toBe('Failed');
    expect(view.state.failureReason).toBe('AlgorithmError: ExitCode 1: RuntimeError: the GPU caught fire');
    expect(readFileSync(view.logPath, 'utf8')).toContain('token length 15');
    // The token reached the program and nothing on disk.
    const folder = jobFolder(jobsDir, 'crash');
    for (const file of [folder.spec, folder.state, folder.log]) expect(readFileSync(file, 'utf8')).not.toContain('hf_secret_value');
  });

  it("keeps the worker's own secrets from the program: it sees a training container's environment", async () => {
    const jobsDir = scratchJobsDir();
    const script = `console.log(JSON.stringify({ temporal: process.env.TEMPORAL_API_KEY ?? null, aws: process.env.AWS_SECRET_ACCESS_KEY ?? null, hf: process.env.HF_HOME ?? null, path: Boolean(process.env.PATH) }))`;
    // Given to the supervisor's environment (as the worker's own would be), not named for the program.
    await launchLocalJob(jobsDir, programSpec('env', node, ['-e', script]), {
      TEMPORAL_API_KEY: 'temporal-key',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      HF_HOME: '/cache/hf',
    });
    const view = await waitForEnd(jobsDir, 'env');
    const seen = JSON.parse(
      readFileSync(view.logPath, 'utf8')
        .split('\n')
        .find((line) => line.startsWith('{')) as string,
    ) as object;
    expect(seen).toEqual({ temporal: null, aws: null, hf: '/cache/hf', path: true });
  });

  it('goes on when the worker that launched it is gone before reading its answer (a broken pipe)', async () => {
    const jobsDir = scratchJobsDir();
    const specPath = join(jobsDir, 'spec.json');
    writeFileSync(specPath, JSON.stringify(programSpec('orphan', node, ['-e', 'setTimeout(() => {}, 300)'])));
    const [command, args] = supervisorCommand();
    const supervisor = spawn(command, [...args, specPath, jobsDir], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    supervisor.stdout.destroy();
    supervisor.unref();
    expect((await waitForEnd(jobsDir, 'orphan')).state.status).toBe('Completed');
  });

  it('prefers the reason the program wrote to output/failure, as SageMaker does', async () => {
    const jobsDir = scratchJobsDir();
    const script = `require('fs').mkdirSync('output', {recursive: true}); require('fs').writeFileSync('output/failure', 'DataError: train.jsonl:3: not valid JSON'); process.exit(2)`;
    await launchLocalJob(jobsDir, programSpec('wrote-failure', node, ['-e', script]), {});
    expect((await waitForEnd(jobsDir, 'wrote-failure')).state.failureReason).toBe(
      'AlgorithmError: DataError: train.jsonl:3: not valid JSON',
    );
  });

  it('stops on request: SIGTERM, then SIGKILL after the grace when the program ignores it; the job ends Stopped', async () => {
    const jobsDir = scratchJobsDir();
    const ignoresTerm = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('step=1 total=100'); setInterval(() => {}, 1000)`;
    await launchLocalJob(jobsDir, programSpec('stubborn', node, ['-e', ignoresTerm], { stopGraceSeconds: 1 }), {});
    await waitFor(jobsDir, 'stubborn', (view) => view.state.progress?.step === 1);
    const asked = Date.now();
    expect(stopLocalJob(jobsDir, 'stubborn')).toBe('signalled');
    const view = await waitForEnd(jobsDir, 'stubborn', 20_000);
    expect(view.state.status).toBe('Stopped');
    expect(Date.now() - asked).toBeLessThan(10_000);
    const log = readFileSync(view.logPath, 'utf8');
    expect(log).toContain('ignoring SIGTERM');
    expect(log).toContain('did not end within 1 s of SIGTERM: SIGKILL');
    expect(stopLocalJob(jobsDir, 'stubborn')).toBe('ended');
  });

  it('stops a job that runs past MaxRuntimeInSeconds, with the secondary status SageMaker uses', async () => {
    const jobsDir = scratchJobsDir();
    await launchLocalJob(jobsDir, programSpec('too-long', node, ['-e', 'setInterval(() => {}, 1000)'], { maxRuntimeSeconds: 1 }), {});
    const view = await waitForEnd(jobsDir, 'too-long', 20_000);
    expect(view.state).toMatchObject({ status: 'Stopped', phase: 'MaxRuntimeExceeded' });
  });

  it('keeps a max runtime longer than setTimeout can wait (28 days > 24.8): it fires when due, not at once', () => {
    jest.useFakeTimers();
    try {
      const fired = jest.fn();
      afterSeconds(28 * 86_400, fired);
      jest.advanceTimersByTime(1000);
      expect(fired).not.toHaveBeenCalled();
      jest.advanceTimersByTime(27 * 86_400_000);
      expect(fired).not.toHaveBeenCalled();
      jest.advanceTimersByTime(86_400_000);
      expect(fired).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
