import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list } from 'tar';
import { packTrainingCode, TRAINING_CODE_DIR } from '../../../activities/fine-tune/training-code';
import { observe } from '../../../activities/fine-tune/training-wait';
import type { TrainingProgress } from '../../../common/fine-tune/contract';

function entries(tarGz: Buffer): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'llmtwin-tar-')), 'sourcedir.tar.gz');
  writeFileSync(file, tarGz);
  const names: string[] = [];
  list({ file, sync: true, onReadEntry: (entry) => names.push(entry.path) });
  return names.sort();
}

describe('packTrainingCode', () => {
  it('packs jobs/train for script mode: train.py at the root, no tests or caches', async () => {
    const packed = await packTrainingCode(TRAINING_CODE_DIR);
    const names = entries(packed.tarGz);
    expect(names).toContain('train.py');
    expect(names).toContain('requirements.txt');
    expect(names).toContain('llmtwin_train/run.py');
    expect(names.filter((name) => /tests\/|__pycache__|\.pyc$/.test(name))).toEqual([]);
    expect(packed.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes content, not time: same files give the same hash, any edit a new one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtwin-code-'));
    writeFileSync(join(dir, 'train.py'), 'print("hi")\n');
    mkdirSync(join(dir, 'pkg'));
    writeFileSync(join(dir, 'pkg', 'a.py'), 'x = 1\n');
    const first = await packTrainingCode(dir);
    writeFileSync(join(dir, 'pkg', 'a.py'), 'x = 1\n'); // rewritten, same content, new mtime
    expect((await packTrainingCode(dir)).sha256).toBe(first.sha256);
    writeFileSync(join(dir, 'pkg', 'a.py'), 'x = 2\n');
    expect((await packTrainingCode(dir)).sha256).not.toBe(first.sha256);
  });

  it('refuses a directory without the entry point', async () => {
    await expect(packTrainingCode(mkdtempSync(join(tmpdir(), 'llmtwin-empty-')))).rejects.toThrow(/has no train\.py/);
  });
});

describe('polling backoff (observe)', () => {
  const polling = { initialMs: 15_000, maxMs: 60_000 };
  const start: TrainingProgress = {
    jobName: 'j',
    status: 'InProgress',
    secondaryStatus: 'Training',
    transitions: [],
    polls: 3,
    throttledPolls: 0,
    intervalMs: 15_000,
  };

  it('grows from 15 s to 60 s while nothing changes, and resets when the secondary status moves', () => {
    let progress = start;
    const intervals: number[] = [];
    for (let poll = 0; poll < 6; poll += 1) {
      progress = observe(progress, { TrainingJobStatus: 'InProgress', SecondaryStatus: 'Training' }, polling);
      intervals.push(progress.intervalMs);
    }
    expect(intervals).toEqual([22_500, 33_750, 50_625, 60_000, 60_000, 60_000]);
    const moved = observe(progress, { TrainingJobStatus: 'InProgress', SecondaryStatus: 'Uploading', BillableTimeInSeconds: 900 }, polling);
    expect(moved).toMatchObject({ intervalMs: 15_000, secondaryStatus: 'Uploading', billableSeconds: 900, polls: 10 });
  });
});
