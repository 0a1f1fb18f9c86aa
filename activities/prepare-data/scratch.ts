import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A build stages its dataset in a scratch folder on the data worker's disk; a worker killed mid-build
 * leaves it behind, and its retry may run on another machine. So a live build touches a marker in its
 * folder every few seconds, and each build, before it starts, removes the folders whose marker (or,
 * without one, the folder itself) has been still for longer than `idleMs`.
 */

const ALIVE_FILE = '.alive';

/** Touches the folder's marker now and every `everyMs` until the returned stop is called. */
export function keepScratchAlive(dir: string, everyMs: number): () => void {
  const touch = () => {
    try {
      // Never recreates the folder: once its build removed it, it stays removed.
      if (!existsSync(dir)) return;
      const marker = join(dir, ALIVE_FILE);
      const now = new Date();
      try {
        utimesSync(marker, now, now);
      } catch {
        writeFileSync(marker, '');
      }
    } catch {
      // The folder is being replaced or removed by its own build right now: the next touch sees which.
    }
  };
  touch();
  const timer = setInterval(touch, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Removes the dead builds' folders under `root` (never `keep`); answers their names. */
export async function sweepDeadScratch(root: string, idleMs: number, keep: string, now = Date.now()): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const dir = join(root, name);
    if (dir === keep) continue;
    const lastSign = await stat(join(dir, ALIVE_FILE))
      .catch(() => stat(dir))
      .then((info) => info.mtimeMs)
      .catch(() => undefined);
    if (lastSign === undefined || now - lastSign < idleMs) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
