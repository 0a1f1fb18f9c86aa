import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrepareDataInputSchema } from '../../../common/prepare-data/contract';
import { LOOK_AHEAD, openedInOrder } from '../../../activities/prepare-data/look-ahead';
import { localSource, type SourceAccess } from '../../../activities/prepare-data/source';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtwin-look-ahead-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A local source over `count` files that records what it fetched and released, failing on `failOn`. */
async function countingSource(count: number, failOn?: string) {
  for (let index = 0; index < count; index += 1) writeFileSync(join(dir, `post-${String(index).padStart(2, '0')}.md`), `Post ${index}.`);
  const inner = localSource(dir, PrepareDataInputSchema.parse({ source: { kind: 'local', path: dir } }));
  const listing = await inner.list();
  const open = new Set<string>();
  const source: SourceAccess = {
    list: () => inner.list(),
    async fetch(entry, scratch, signal) {
      if (entry.path === failOn) throw new Error(`cannot fetch ${entry.path}`);
      const fetched = await inner.fetch(entry, scratch, signal);
      open.add(entry.path);
      return { ...fetched, release: async () => void open.delete(entry.path) };
    },
  };
  return { source, listing, open };
}

describe('openedInOrder', () => {
  it('yields every file in listing order with its inspection and its bytes', async () => {
    const { source, listing, open } = await countingSource(10);
    const seen: string[] = [];
    for await (const { entry, fetched, inspection } of openedInOrder(listing.entries, source, dir)) {
      expect(inspection.content?.toString()).toBe(`Post ${Number(entry.path.slice(5, 7))}.`);
      seen.push(entry.path);
      await fetched.release();
    }
    expect(seen).toEqual(listing.entries.map((entry) => entry.path));
    expect(open.size).toBe(0);
  });

  it("fails in the failing file's turn, not before, and lets go of what it opened ahead", async () => {
    const { source, listing, open } = await countingSource(10, 'post-05.md');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const seen: string[] = [];
    try {
      await expect(
        (async () => {
          for await (const { entry, fetched } of openedInOrder(listing.entries, source, dir)) {
            seen.push(entry.path);
            await fetched.release();
          }
        })(),
      ).rejects.toThrow('cannot fetch post-05.md');
      expect(seen).toEqual(listing.entries.slice(0, 5).map((entry) => entry.path));
      expect(open.size).toBe(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('has stopped and let go of everything it started ahead by the time a failing caller goes on', async () => {
    const { source, listing, open } = await countingSource(10);
    await expect(
      (async () => {
        for await (const { entry, fetched } of openedInOrder(listing.entries, source, dir)) {
          await fetched.release();
          if (entry.path === 'post-02.md') throw new Error('staging failed');
        }
      })(),
    ).rejects.toThrow('staging failed');
    // Nothing still open, nothing opened later (the caller may now remove its scratch folder).
    expect(open.size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(open.size).toBe(0);
  });

  it('opens at most LOOK_AHEAD files ahead of the one in hand', async () => {
    const { source, listing, open } = await countingSource(12);
    let most = 0;
    for await (const { fetched } of openedInOrder(listing.entries, source, dir)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      most = Math.max(most, open.size);
      await fetched.release();
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(LOOK_AHEAD + 1);
  });
});
