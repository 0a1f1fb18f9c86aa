import { readFileSync } from 'node:fs';

/**
 * Which process a job's record means. A pid alone is not enough: after the process ends the kernel
 * hands the number to another one, and after a reboot every number starts over. So a job records its
 * process's pid, its start time (clock ticks after boot, /proc/<pid>/stat field 22) and the boot id,
 * and a process is the job's only when all three match.
 */
export interface ProcessIdentity {
  pid: number;
  startTicks: number;
  bootId: string;
}

/** How the runner sees the machine's processes; tests pass a scripted one. */
export interface ProcessTable {
  /** The identity of the live process with this pid, or undefined when there is none (or only a zombie). */
  identityOf(pid: number): ProcessIdentity | undefined;
  /** Sends a signal to a process group (negative pid) or process; false when it no longer exists. */
  signal(pid: number, signal: NodeJS.Signals): boolean;
}

export function isRunning(recorded: ProcessIdentity, table: ProcessTable): boolean {
  const live = table.identityOf(recorded.pid);
  return live !== undefined && live.startTicks === recorded.startTicks && live.bootId === recorded.bootId;
}

/** Signals the recorded process (or its group) only if it is still that process: never a reused pid. */
export function signalIfRunning(recorded: ProcessIdentity, table: ProcessTable, signal: NodeJS.Signals, group = false): boolean {
  if (!isRunning(recorded, table)) return false;
  return table.signal(group ? -recorded.pid : recorded.pid, signal);
}

/** The machine's process table, read from Linux's /proc. */
export const linuxProcessTable: ProcessTable = {
  identityOf(pid) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // The command name (field 2) is in parentheses and may hold spaces or ")": fields resume after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so field 22 (start time) is fields[19].
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return { pid, startTicks: Number(fields[19]), bootId: bootId() };
  },
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw error;
    }
  },
};

let cachedBootId: string | undefined;
function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}

/** This process's own identity, which a supervisor records as the job's. */
export function ownIdentity(table: ProcessTable = linuxProcessTable): ProcessIdentity {
  const identity = table.identityOf(process.pid);
  if (!identity) throw new Error(`cannot read /proc/${process.pid}/stat: local compute needs Linux's /proc`);
  return identity;
}
