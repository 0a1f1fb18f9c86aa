import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../platform/aws-clients';
import { readFrom } from './log-file';
import { failureReason, LogScanner } from './log-scan';
import {
  jobFolder,
  LocalJobSpecSchema,
  writeJsonAtomically,
  type JobFolder,
  type LocalJobSpec,
  type LocalJobState,
  type LocalJobStatus,
} from './job-folder';
import { linuxProcessTable, ownIdentity } from './process-identity';
import { downloadPrefix, uploadFolder } from './s3-transfer';

/**
 * The detached process that is a local job, as a SageMaker instance is one: it claims the job's folder,
 * downloads the inputs, runs the program, scrapes its log, uploads the outputs and records every step in
 * state.json. It outlives the worker that started it; workers only read its folder and send it SIGTERM.
 * Run as `node supervisor-main.js <spec file> <jobs dir>`; it prints `claimed` or `exists` and nothing else.
 */

const SCAN_INTERVAL_MS = 1000;
/** Log bytes kept for the failure reason. */
const TAIL_BYTES = 16 * 1024;

type StopReason = 'StopTrainingJob' | 'MaxRuntimeExceeded';

export async function superviseJob(specPath: string, jobsDir: string, say: (line: string) => void): Promise<void> {
  // From the first moment: a stop that arrives while the job is being claimed is honoured once it runs.
  let early: StopReason | undefined;
  const onEarlyStop = () => (early = 'StopTrainingJob');
  process.on('SIGTERM', onEarlyStop);
  const spec = LocalJobSpecSchema.parse(JSON.parse(readFileSync(specPath, 'utf8')));
  const folder = jobFolder(jobsDir, spec.name);
  try {
    mkdirSync(folder.root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    rmSync(specPath, { force: true });
    say('exists');
    return;
  }
  renameSync(specPath, folder.spec);
  writeJsonAtomically(folder.supervisor, ownIdentity());
  const job = new SupervisedJob(spec, folder);
  process.off('SIGTERM', onEarlyStop);
  process.on('SIGTERM', () => job.requestStop('StopTrainingJob'));
  if (early) job.requestStop(early);
  say('claimed');
  await job.run();
}

class SupervisedJob {
  private state: LocalJobState;
  private stopReason: StopReason | undefined;
  private readonly stopped = new AbortController();
  private program: ReturnType<typeof spawn> | undefined;
  private readonly s3: S3Client;

  constructor(
    private readonly spec: LocalJobSpec,
    private readonly folder: JobFolder,
  ) {
    const now = new Date().toISOString();
    this.state = {
      status: 'InProgress',
      phase: 'Starting',
      transitions: [{ phase: 'Starting', startTime: now, message: 'Preparing the job folder' }],
      startedAt: now,
      metrics: {},
      firstMetrics: {},
      uploaded: {},
    };
    this.save();
    this.s3 = createS3Client(spec.aws);
  }

  async run(): Promise<void> {
    const deadline = afterSeconds(this.spec.maxRuntimeSeconds, () => this.requestStop('MaxRuntimeExceeded'));
    let end: { status: LocalJobStatus; reason?: string };
    try {
      end = await this.download();
      if (end.status === 'InProgress') end = await this.execute();
    } catch (error) {
      end = { status: 'Failed', reason: `ClientError: ${(error as Error).message}` };
      // Whatever went wrong here, the program must not outlive the job's record of it.
      if (this.program?.pid) killQuietly(-this.program.pid, 'SIGKILL');
    } finally {
      deadline.cancel();
    }
    await this.finish(end.status as Exclude<LocalJobStatus, 'InProgress' | 'Stopping'>, end.reason);
    this.s3.destroy();
  }

  private async download(): Promise<{ status: LocalJobStatus; reason?: string }> {
    this.enter('Downloading', 'Downloading input data');
    for (const file of this.spec.files) {
      const path = join(this.folder.ml, file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.content);
    }
    for (const dir of ['model', 'output/data', 'checkpoints']) mkdirSync(join(this.folder.ml, dir), { recursive: true });
    for (const input of this.spec.inputs) {
      if (this.stopReason) return { status: 'Stopped' };
      this.log(`downloading ${input.s3Uri} to ${input.dir}`);
      try {
        await downloadPrefix(this.s3, input.s3Uri, join(this.folder.ml, input.dir), input, this.stopped.signal);
      } catch (error) {
        if (this.stopReason) return { status: 'Stopped' };
        return { status: 'Failed', reason: `ClientError: cannot download ${input.s3Uri}: ${(error as Error).message}` };
      }
    }
    return { status: this.stopReason ? 'Stopped' : 'InProgress' };
  }

  private async execute(): Promise<{ status: LocalJobStatus; reason?: string }> {
    this.enter('Training', 'Training in progress');
    const { program } = this.spec;
    // Built first: a metric regex JavaScript cannot read fails the job before anything runs.
    const scanner = new LogScanner(this.spec.metricDefinitions, this.spec.progressRegex);
    const logFd = openSync(this.folder.log, 'a');
    const secrets = Object.fromEntries(program.secretEnv.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
    // Its own process group, so a stop reaches the program's children (data loader workers) too.
    const child = spawn(program.command, program.args, {
      cwd: join(this.folder.ml, program.cwd),
      env: { ...programEnvironment(process.env), ...program.env, ...secrets },
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    closeSync(logFd);
    this.program = child;
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const identity = child.pid ? linuxProcessTable.identityOf(child.pid) : undefined;
    this.update({ programStartedAt: new Date().toISOString(), ...(identity ? { program: identity } : {}) });
    // A stop that arrived while downloading, or before the program existed, reaches it now.
    if (this.stopReason) this.signalProgram();

    let offset = 0;
    const scan = () => {
      const { text, next } = readFrom(this.folder.log, offset);
      offset = next;
      if (scanner.feed(text)) this.update(findingsOf(scanner));
    };
    const scanning = setInterval(scan, SCAN_INTERVAL_MS);
    const result = await exit;
    // Anything it left behind in its group (data loader workers) goes with it.
    if (child.pid) killQuietly(-child.pid, 'SIGKILL');
    clearInterval(scanning);
    scan();
    if (scanner.finish()) this.update(findingsOf(scanner));
    this.program = undefined;
    this.update({ programEndedAt: new Date().toISOString(), exitCode: result.code });

    if (this.stopReason) return { status: 'Stopped' };
    if (result.error) return { status: 'Failed', reason: `AlgorithmError: cannot start ${program.command}: ${result.error.message}` };
    if (result.code === 0) return { status: 'Completed' };
    const exitDescription = result.signal ? `killed by ${result.signal}` : `ExitCode ${result.code}`;
    return {
      status: 'Failed',
      reason: failureReason(exitDescription, readIfPresent(join(this.folder.ml, 'output', 'failure')), this.logTail()),
    };
  }

  requestStop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.log(
      reason === 'MaxRuntimeExceeded'
        ? `the job ran past MaxRuntimeInSeconds (${this.spec.maxRuntimeSeconds}): stopping it`
        : 'stop requested',
    );
    this.update({ status: 'Stopping' });
    this.enter(reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeExceeded' : 'Stopping', 'Stopping the training job');
    this.stopped.abort();
    if (this.program) this.signalProgram();
  }

  /** SIGTERM to the program's group, then SIGKILL after the grace: what StopTrainingJob does to a container. */
  private signalProgram(): void {
    const child = this.program;
    if (!child?.pid) return;
    const group = -child.pid;
    killQuietly(group, 'SIGTERM');
    const kill = setTimeout(() => {
      // Only while it has not exited: once it has, its group id may belong to someone else.
      if (child.exitCode !== null || child.signalCode !== null) return;
      this.log(`the program did not end within ${this.spec.stopGraceSeconds} s of SIGTERM: SIGKILL`);
      killQuietly(group, 'SIGKILL');
    }, this.spec.stopGraceSeconds * 1000);
    child.once('exit', () => clearTimeout(kill));
  }

  private async finish(status: 'Completed' | 'Failed' | 'Stopped', reason: string | undefined): Promise<void> {
    let end = status;
    let why = reason;
    const outputs = this.spec.outputs.filter((output) => output.when.includes(status));
    if (outputs.length > 0) {
      this.enter('Uploading', status === 'Completed' ? 'Uploading generated training model' : 'Uploading what the job left');
      for (const output of outputs) {
        try {
          const uri = await uploadFolder(this.s3, join(this.folder.ml, output.dir), output.s3Uri, output.as, output.kmsKeyId);
          if (uri) this.update({ uploaded: { ...this.state.uploaded, [output.dir]: uri } });
        } catch (error) {
          end = 'Failed';
          why = `ClientError: cannot upload ${output.dir} to ${output.s3Uri}: ${(error as Error).message}`;
          break;
        }
      }
    }
    const now = new Date().toISOString();
    if (why) this.log(why);
    this.log(`job ${end.toLowerCase()}`);
    this.enter(end === 'Stopped' && this.stopReason === 'MaxRuntimeExceeded' ? 'MaxRuntimeExceeded' : end, messageFor(end));
    this.update({ status: end, endedAt: now, ...(why ? { failureReason: why } : {}) });
  }

  private enter(phase: string, message: string): void {
    const now = new Date().toISOString();
    const transitions = this.state.transitions.map((transition, index, all) =>
      index === all.length - 1 && !transition.endTime ? { ...transition, endTime: now } : transition,
    );
    this.update({ phase, transitions: [...transitions, { phase, startTime: now, message }] });
  }

  private update(change: Partial<LocalJobState>): void {
    this.state = { ...this.state, ...change };
    this.save();
  }

  private save(): void {
    writeJsonAtomically(this.folder.state, this.state);
  }

  private log(line: string): void {
    appendFileSync(this.folder.log, `llmtwin-local: ${line}\n`);
  }

  private logTail(): string {
    return readFrom(this.folder.log, -TAIL_BYTES).text;
  }
}

/**
 * What the program sees of the supervisor's environment: what a training container would have (paths,
 * locale, proxies, CA bundles, and the Hugging Face, PyTorch, CUDA and thread settings), never the
 * worker's own secrets (AWS credentials, the Temporal API key). Its own variables and secrets are added on top.
 */
const PROGRAM_ENV =
  /^(PATH|HOME|USER|LANG|LANGUAGE|TZ|TMPDIR|TERM|LC_\w+|HF_\w+|HUGGINGFACE_\w+|TRANSFORMERS_\w+|TOKENIZERS_\w+|TORCH_\w+|PYTORCH_\w+|CUDA_\w+|NVIDIA_\w+|NCCL_\w+|OMP_\w+|MKL_\w+|XDG_CACHE_HOME|SSL_CERT_\w+|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy)$/;

export function programEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => PROGRAM_ENV.test(entry[0]) && entry[1] !== undefined),
  );
}

/** setTimeout caps delays at about 24.8 days; SageMaker's runtimes go to 28. Re-armed until the time has come. */
export function afterSeconds(seconds: number, action: () => void): { cancel(): void } {
  const due = Date.now() + seconds * 1000;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = due - Date.now();
    timer = left <= 0 ? setTimeout(action, 0) : setTimeout(() => (Date.now() >= due ? action() : arm()), Math.min(left, 2 ** 31 - 1));
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}

function findingsOf(scanner: LogScanner): Partial<LocalJobState> {
  const { metrics, firstMetrics, progress } = scanner.findings;
  return { metrics: { ...metrics }, firstMetrics: { ...firstMetrics }, ...(progress ? { progress: { ...progress } } : {}) };
}

function messageFor(status: 'Completed' | 'Failed' | 'Stopped'): string {
  return { Completed: 'Training job completed', Failed: 'Training job failed', Stopped: 'Training job stopped' }[status];
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
