import { launchLocalJob } from '../../activities/local/local-jobs';
import { cliEnv, runCli } from '../helpers/cli';
import { programSpec, scratchJobsDir, waitFor } from '../helpers/local-jobs';
import { testConfig } from '../helpers/stack';

// `llmtwin jobs logs` as a user runs it, on a real local job (a small program, no training needed).
const config = testConfig();

describe('llmtwin jobs logs', () => {
  it("prints a local job's log, follows it until the job ends, and explains what it cannot show", async () => {
    const jobsDir = scratchJobsDir();
    const env = cliEnv(config, { LLMTWIN_LOCAL_JOBS_DIR: jobsDir });
    const script = "console.log('step=1 total=2 first line'); setTimeout(() => console.log('step=2 total=2 last line'), 1500)";
    await launchLocalJob(jobsDir, programSpec('logged', process.execPath, ['-e', script]), {});
    await waitFor(jobsDir, 'logged', (view) => view.state.progress?.step === 1);

    // --follow returns once the job has ended, with the line printed after it started following.
    const followed = await runCli(['jobs', 'logs', 'logged', '--follow'], env);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('first line');
    expect(followed.stdout).toContain('last line');
    expect(followed.stdout).toContain('llmtwin-local: job completed');

    const missing = await runCli(['jobs', 'logs', 'nope'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`no local job nope in ${jobsDir} (compute.local.jobsDir)`);

    const onSageMaker = await runCli(['jobs', 'logs', 'logged'], { ...env, LLMTWIN_COMPUTE_BACKEND: 'sagemaker' });
    expect(onSageMaker.code).toBe(2);
    expect(onSageMaker.stderr).toContain('jobs on SageMaker log to CloudWatch');
  });
});
