import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeLocalJob } from '../../activities/local/local-jobs';
import { isRunning, linuxProcessTable, type ProcessIdentity } from '../../activities/local/process-identity';
import { cliEnv } from '../helpers/cli';
import { scratchJobsDir } from '../helpers/local-jobs';
import { prepareExampleDataset, startFineTune, trainingJobAtStep } from '../helpers/local-training';
import { testConfig } from '../helpers/stack';
import { useStackWorkers } from '../helpers/stack-workers';
import { spawnWorker } from '../helpers/worker-process';

// The control worker as its own process (`node --import tsx workers/main.ts --queues control`), killed
// with SIGKILL while the job trains, then started again: the job's process outlives it, the new worker
// adopts that same process by the job's name, and the workflow completes. One process, one job.
jest.setTimeout(420_000);

const jobsDir = scratchJobsDir();
const config = testConfig({ LLMTWIN_LOCAL_JOBS_DIR: jobsDir });
// Only the data worker runs in this process; the control queue is served by the worker process below.
const stack = useStackWorkers({ roles: ['data'], config: () => config });

function controlWorker() {
  const env = cliEnv(config, { LLMTWIN_LOCAL_JOBS_DIR: jobsDir, LLMTWIN_LOG_LEVEL: 'info' });
  return spawnWorker(process.execPath, ['--import', 'tsx', 'workers/main.ts', '--queues', 'control'], env);
}

describe('local compute survives its worker', () => {
  let worker: ChildProcess | undefined;
  afterAll(() => worker?.kill('SIGKILL'));

  it('a worker killed mid-training is replaced; the new one adopts the same process and the run completes', async () => {
    const first = controlWorker();
    worker = first.child;
    await first.started;
    const datasetUri = await prepareExampleDataset(stack.client, stack.queues.control);
    const handle = await startFineTune(stack.client, stack.queues.control, { datasetUri, hyperparameters: { epochs: 12 } });
    const jobName = await trainingJobAtStep(handle, jobsDir, 5);
    const supervisor = JSON.parse(readFileSync(join(jobsDir, jobName, 'supervisor.json'), 'utf8')) as ProcessIdentity;

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    // The job is not the worker's child in any way that matters: it goes on training.
    expect(isRunning(supervisor, linuxProcessTable)).toBe(true);
    const stepAtKill = describeLocalJob(jobsDir, jobName)?.state.progress?.step ?? 0;

    const second = controlWorker();
    worker = second.child;
    await second.started;
    const result = await handle.result();
    expect(result).toMatchObject({ jobName, compute: 'local', reused: false });
    expect(result.finalMetrics['eval:loss']).toBeLessThan(result.firstMetrics?.['eval:loss'] as number);

    // One job folder, one supervisor (the one recorded before the kill), one training phase.
    expect(readdirSync(jobsDir).filter((name) => !name.startsWith('.') && name !== 'supervisors.log')).toEqual([jobName]);
    expect(JSON.parse(readFileSync(join(jobsDir, jobName, 'supervisor.json'), 'utf8'))).toEqual(supervisor);
    const state = describeLocalJob(jobsDir, jobName)?.state;
    expect(state?.status).toBe('Completed');
    expect(state?.transitions.filter((transition) => transition.phase === 'Training')).toHaveLength(1);
    expect(state?.progress?.step).toBeGreaterThan(stepAtKill);
  });
});
