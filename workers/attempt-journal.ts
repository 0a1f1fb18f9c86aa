import { mkdirSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ActivityNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { z } from 'zod';
import { readJsonIfExists, writeJsonAtomically } from '../activities/local/job-folder';
import { isRunning, linuxProcessTable, ownIdentity, type ProcessIdentity, type ProcessTable } from '../activities/local/process-identity';

/**
 * The activity attempts each worker process on this machine is running, one small file per attempt
 * under `<worker.attemptsDir>/<pid namespace>-<pid>-<start ticks>-<boot id>/`, written when the attempt starts and
 * removed when it ends.
 *
 * Why: Temporal learns that a worker died only when an attempt's heartbeat timeout passes (20 s for an
 * AWS call, 30 s for a wait, a minute for a data build, whose synchronous stretches rule out less). A
 * worker that starts on the same machine (the usual restart: `npm run worker` again, systemd; not a
 * restarted container, which is a new PID namespace) or already runs beside the dead one reads the journals of processes
 * that no longer run and fails each attempt through its task token, retryable, with a one-second
 * next-retry delay: the server schedules the retry at once, its last heartbeat details kept, so a wait
 * resumes where it was and a data build from its checkpoint. The task token names the attempt: an
 * entry for an attempt that already ended (timed out and retried, or finished) is refused by the
 * server (NotFound) and never fails a live one. A worker on another machine still finds out by the
 * heartbeat timeout.
 */

/** The failure type a dead worker's attempt ends with; it is retried like any transient failure. */
export const WORKER_LOST_FAILURE_TYPE = 'WorkerLost';

/** How soon the server runs the attempt again once told: a dead worker is not an overloaded service. */
const RETRY_AFTER_LOST_ATTEMPT = '1s';

/** A claimed entry older than this belongs to a reporter that died itself while reporting: litter. */
const STALE_CLAIM_MS = 10 * 60_000;

/**
 * A dead worker's entry for another server that no worker of that server reported within this long
 * (a test's server long gone, a cluster this machine no longer serves): its attempt was retried after
 * its heartbeat timeout (a minute at most) long ago, so the entry could only be refused now. It goes.
 */
const UNCLAIMED_ENTRY_MS = 24 * 60 * 60_000;

/** The Temporal server and namespace an attempt belongs to: its token means nothing to another. */
export interface TemporalTarget {
  address: string;
  namespace: string;
}

const AttemptEntrySchema = z.strictObject({
  /** Base64 of the attempt's task token. */
  taskToken: z.string().min(1),
  address: z.string().min(1),
  namespace: z.string().min(1),
  taskQueue: z.string(),
  workflowId: z.string().optional(),
  runId: z.string().optional(),
  activityType: z.string(),
  activityId: z.string(),
  attempt: z.number().int().min(1),
  startedAt: z.string(),
});
type AttemptEntry = z.infer<typeof AttemptEntrySchema>;

const ENTRY = /^\d+\.json$/;

/** Entries are numbered per process: every journal of this process (one per buildWorkers call) shares the folder. */
let entriesWritten = 0;
let warnedUnwritable = false;

/**
 * A journal's folder names its process: pid, start time and boot id (activities/local/process-identity.ts),
 * and first the PID namespace, because a pid means something only inside its own: two containers
 * sharing this folder would each see the other's worker as a dead process of their own.
 */
export function journalFolderName(identity: ProcessIdentity, pidNamespace = ownPidNamespace()): string {
  return `${pidNamespace}-${identity.pid}-${identity.startTicks}-${identity.bootId}`;
}

function ownerOf(folder: string): (ProcessIdentity & { pidNamespace: string }) | undefined {
  const match = /^(\d+)-(\d+)-(\d+)-([0-9a-f-]+)$/.exec(folder);
  return match ? { pidNamespace: match[1]!, pid: Number(match[2]), startTicks: Number(match[3]), bootId: match[4]! } : undefined;
}

/** The inode of this process's PID namespace, as `readlink /proc/self/ns/pid` shows it (`pid:[4026531836]`). */
function ownPidNamespace(): string {
  return /\d+/.exec(readlinkSync('/proc/self/ns/pid'))![0];
}

/**
 * This process's journal. Writing an entry is a few hundred bytes and a rename, before the attempt
 * runs; a journal that cannot be written (a full or read-only disk) costs only the fast recovery, so
 * the attempt runs anyway, and the first such attempt's log says why.
 */
export function attemptJournal(root: string, target: TemporalTarget, table: ProcessTable = linuxProcessTable): ActivityInterceptorsFactory {
  let folder: string;
  try {
    folder = join(root, journalFolderName(ownIdentity(table)));
  } catch {
    return () => ({}); // no /proc (not Linux): nothing could tell this process's death from a live one
  }
  return (context) => ({
    inbound: {
      async execute(input, run) {
        const { info } = context;
        // A local activity runs inside a workflow task, which the server hands to another worker on its own.
        if (info.isLocal) return run(input);
        const path = join(folder, `${(entriesWritten += 1)}.json`);
        let written = false;
        try {
          mkdirSync(folder, { recursive: true });
          writeJsonAtomically(path, {
            taskToken: Buffer.from(info.taskToken).toString('base64'),
            address: target.address,
            namespace: target.namespace,
            taskQueue: info.taskQueue,
            workflowId: info.workflowExecution?.workflowId,
            runId: info.workflowExecution?.runId,
            activityType: info.activityType,
            activityId: info.activityId,
            attempt: info.attempt,
            startedAt: new Date().toISOString(),
          } satisfies AttemptEntry);
          written = true;
        } catch (error) {
          // Once per process: a read-only folder would otherwise say it with every attempt.
          if (!warnedUnwritable) {
            warnedUnwritable = true;
            context.log.warn(
              'cannot journal activity attempts: if this worker dies, its attempts wait for their heartbeat timeouts; set worker.attemptsDir (LLMTWIN_WORKER_ATTEMPTS_DIR) to a folder this worker can write',
              { path, error: (error as Error).message },
            );
          }
        }
        try {
          return await run(input);
        } finally {
          if (written) rmSync(path, { force: true });
        }
      },
    },
  });
}

export interface LostAttempt {
  workflowId?: string;
  activityType: string;
  attempt: number;
  /** The worker process that died with it. */
  deadWorkerPid: number;
  /** `retried`: the server took the failure and runs the attempt again; `already-over`: it had ended. */
  outcome: 'retried' | 'already-over';
}

/**
 * Reads the journals of worker processes on this machine that no longer run and fails their attempts
 * on `target` (entries for another server stay a day for a worker of that one). Several workers may scan at
 * once: an entry is claimed by a rename, so each attempt is reported once. An entry whose report the
 * server did not take (unreachable) is put back for the next scan.
 */
export async function reportLostAttempts(
  root: string,
  target: TemporalTarget,
  client: AttemptReporter,
  table: ProcessTable = linuxProcessTable,
): Promise<LostAttempt[]> {
  const found: LostAttempt[] = [];
  const pidNamespace = ownPidNamespace();
  for (const folder of listFolder(root)) {
    const owner = ownerOf(folder);
    // Another PID namespace's processes (another container's) cannot be looked up from this one.
    if (!owner || owner.pidNamespace !== pidNamespace || isRunning(owner, table)) continue;
    const dir = join(root, folder);
    for (const name of listFolder(dir)) {
      const path = join(dir, name);
      if (!ENTRY.test(name)) {
        removeIfOlder(path, STALE_CLAIM_MS);
        continue;
      }
      const entry = readEntry(path);
      if (!entry) continue;
      if (entry.address !== target.address || entry.namespace !== target.namespace) {
        removeIfOlder(path, UNCLAIMED_ENTRY_MS);
        continue;
      }
      const claimed = `${path}.claimed`;
      try {
        renameSync(path, claimed);
      } catch {
        continue; // another worker's scan took it
      }
      const outcome = await failAttempt(client, entry, owner.pid, target.namespace).catch((error: unknown) => {
        renameSync(claimed, path);
        throw error;
      });
      rmSync(claimed, { force: true });
      found.push({
        workflowId: entry.workflowId,
        activityType: entry.activityType,
        attempt: entry.attempt,
        deadWorkerPid: owner.pid,
        outcome,
      });
    }
    try {
      rmdirSync(dir); // only when empty: entries for another server stay
    } catch {
      // not empty, or another scan removed it
    }
  }
  return found;
}

/** What a report needs of a Temporal client. */
export type AttemptReporter = Pick<Client, 'activity' | 'workflowService'>;

async function failAttempt(client: AttemptReporter, entry: AttemptEntry, pid: number, namespace: string): Promise<LostAttempt['outcome']> {
  if (entry.workflowId) {
    // The dead worker most likely held the workflow in its cache, and the server would send the task
    // that takes this attempt's result to that worker's sticky queue, where it waits out the sticky
    // timeout (10 s) before any other worker may have it. Best effort: it only saves those seconds.
    await client.workflowService
      .resetStickyTaskQueue({ namespace, execution: { workflowId: entry.workflowId, runId: entry.runId } })
      .catch(() => undefined);
  }
  const failure = ApplicationFailure.create({
    type: WORKER_LOST_FAILURE_TYPE,
    message: `the worker running this attempt (pid ${pid}) stopped without finishing it; a worker on the same machine found its journal and reported it, so the retry starts now instead of after the heartbeat timeout`,
    nextRetryDelay: RETRY_AFTER_LOST_ATTEMPT,
  });
  try {
    await client.activity.fail(Buffer.from(entry.taskToken, 'base64'), failure);
    return 'retried';
  } catch (error) {
    if (error instanceof ActivityNotFoundError) return 'already-over';
    throw error;
  }
}

/** An entry that cannot be read (written by another release, or damaged) cannot be reported: it goes. */
function readEntry(path: string): AttemptEntry | undefined {
  try {
    return readJsonIfExists(path, AttemptEntrySchema);
  } catch {
    rmSync(path, { force: true });
    return undefined;
  }
}

function listFolder(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
}

function removeIfOlder(path: string, ageMs: number): void {
  try {
    if (Date.now() - statSync(path).mtimeMs > ageMs) rmSync(path, { force: true });
  } catch {
    // gone already
  }
}
