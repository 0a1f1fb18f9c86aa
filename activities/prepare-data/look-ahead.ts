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

export async function* openedInOrder(
  entries: readonly SourceEntry[],
  source: SourceAccess,
  scratchDir: string,
  signal?: AbortSignal,
): AsyncGenerator<OpenedFile> {
  const open = async (entry: SourceEntry): Promise<OpenedFile> => {
    const fetched = await source.fetch(entry, scratchDir, signal);
    try {
      return { entry, fetched, inspection: await inspectFile(fetched.localPath, entry.path, signal, entry.size) };
    } catch (error) {
      await fetched.release();
      throw error;
    }
  };
  const queue: Array<Promise<OpenedFile>> = [];
  let next = 0;
  const fill = () => {
    while (queue.length < LOOK_AHEAD && next < entries.length) {
      const opening = open(entries[next++]!);
      // Awaited in its turn; until then a failure must not count as unhandled.
      opening.catch(() => undefined);
      queue.push(opening);
    }
  };
  try {
    fill();
    while (queue.length > 0) {
      const opened = await queue.shift()!;
      fill();
      yield opened;
    }
  } finally {
    // Stopped early (a failure, a cancellation): what was opened ahead is let go.
    for (const opening of queue.splice(0)) void opening.then((opened) => opened.fetched.release()).catch(() => undefined);
  }
}
