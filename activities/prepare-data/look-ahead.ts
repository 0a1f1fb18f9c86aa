import type { SourceAccess, SourceEntry, FetchedFile } from './source';
import { inspectFile, type FileInspection } from './inspect';

/**
 * Source files fetched and inspected a few ahead of their turn, yielded in listing order. Each file
 * costs several round trips to the file system's thread pool (or a download from S3); started early,
 * they overlap the CPU work on the files before them instead of adding to it.
 */

export interface OpenedFile {
  entry: SourceEntry;
  fetched: FetchedFile;
  inspection: FileInspection;
}

/** Files in flight at once: enough to hide the latency, few enough that their contents stay small. */
export const LOOK_AHEAD = 4;
/** No more listed bytes than this ahead (S3 downloads wait on scratch disk), unless it is the next file alone. */
const LOOK_AHEAD_BYTES = 64 * 1024 * 1024;

export async function* openedInOrder(
  entries: readonly SourceEntry[],
  source: SourceAccess,
  scratchDir: string,
  signal?: AbortSignal,
): AsyncGenerator<OpenedFile> {
  // Its own signal, so that what was started ahead stops when the caller stops (a failure, a break).
  const ahead = new AbortController();
  const stop = () => ahead.abort(signal?.reason);
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();
  const open = async (entry: SourceEntry): Promise<OpenedFile> => {
    const fetched = await source.fetch(entry, scratchDir, ahead.signal);
    try {
      return { entry, fetched, inspection: await inspectFile(fetched.localPath, entry.path, ahead.signal) };
    } catch (error) {
      await fetched.release();
      throw error;
    }
  };
  const queue: Array<{ opening: Promise<OpenedFile>; size: number }> = [];
  let bytesAhead = 0;
  let next = 0;
  const fill = () => {
    while (
      next < entries.length &&
      queue.length < LOOK_AHEAD &&
      (queue.length === 0 || bytesAhead + entries[next]!.size <= LOOK_AHEAD_BYTES)
    ) {
      const entry = entries[next++]!;
      const opening = open(entry);
      // Awaited in its turn; until then a failure must not count as unhandled.
      opening.catch(() => undefined);
      queue.push({ opening, size: entry.size });
      bytesAhead += entry.size;
    }
  };
  try {
    fill();
    while (queue.length > 0) {
      const { opening, size } = queue.shift()!;
      bytesAhead -= size;
      const opened = await opening;
      fill();
      yield opened;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    // Stopped early: what was started ahead is stopped, waited for and let go, before the caller
    // goes on (and perhaps removes the scratch folder it writes to).
    if (queue.length > 0) {
      ahead.abort(new Error('stopped before its turn'));
      const settled = await Promise.allSettled(queue.splice(0).map((item) => item.opening));
      await Promise.all(settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.fetched.release()] : [])));
    }
  }
}
