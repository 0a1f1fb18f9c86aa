import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepScratchAlive, sweepDeadScratch } from '../../../activities/prepare-data/scratch';

// The scratch folders of builds that died are removed by the next build; live ones, and its own, stay.
const root = mkdtempSync(join(tmpdir(), 'llmtwin-scratch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, lastTouchedMinutesAgo: number, marker: boolean): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.jsonl'), '{}\n');
  const when = new Date(Date.now() - lastTouchedMinutesAgo * 60_000);
  if (marker) {
    writeFileSync(join(dir, '.alive'), '');
    utimesSync(join(dir, '.alive'), when, when);
  }
  utimesSync(dir, when, when);
  return dir;
}

it('removes the folders untouched for longer than the limit, never a live one or its own', async () => {
  folder('dead-with-marker', 60, true);
  folder('dead-without-marker', 60, false);
  folder('live', 1, true);
  const own = folder('own', 60, true);
  const removed = await sweepDeadScratch(root, 15 * 60_000, own);
  expect(removed.sort()).toEqual(['dead-with-marker', 'dead-without-marker']);
  expect(existsSync(join(root, 'live'))).toBe(true);
  expect(existsSync(own)).toBe(true);
});

it('a live build keeps its marker fresh, and never recreates a folder its build removed', async () => {
  const dir = folder('building', 60, true);
  const stop = keepScratchAlive(dir, 10);
  expect(await sweepDeadScratch(root, 15 * 60_000, 'none')).not.toContain('building');
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => setTimeout(resolve, 50));
  stop();
  expect(existsSync(dir)).toBe(false);
});
