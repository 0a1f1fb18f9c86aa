import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, writeCheckpoint, type ProcessCheckpoint } from '../../../activities/prepare-data/checkpoint';
import { templateInstructor } from '../../../activities/prepare-data/generator';
import {
  processSource,
  STAGED_DOCUMENTS_FILE,
  StaleCheckpointError,
  type ProcessOutcome,
  type ProcessRequest,
} from '../../../activities/prepare-data/process';
import { localSource, type SourceAccess } from '../../../activities/prepare-data/source';
import { PrepareDataInputSchema, type PrepareDataProgress } from '../../../common/prepare-data/contract';
import { processFolder } from '../../helpers/process-folder';

// A build interrupted in its first pass resumes from its checkpoint: it reads only the files after it,
// and stages the same bytes as a build that was never interrupted.

const CORPUS = join(__dirname, '../../../examples/corpus');
const INPUT = { author: { name: 'Maren Holt' } };
const HASH = 'dataset-hash-of-this-test';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtwin-checkpoint-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

class Interrupted extends Error {}

/** The corpus's source, with the paths it was asked to fetch. */
function countedSource(): { source: SourceAccess; fetched: string[]; settings: ProcessRequest['settings'] } {
  const settings = PrepareDataInputSchema.parse({ source: { kind: 'local', path: CORPUS }, ...INPUT });
  const inner = localSource(CORPUS, settings);
  const fetched: string[] = [];
  const source: SourceAccess = {
    list: (signal) => inner.list(signal),
    fetch: (entry, scratchDir, signal) => {
      fetched.push(entry.path);
      return inner.fetch(entry, scratchDir, signal);
    },
  };
  return { source, fetched, settings };
}

async function build(scratchDir: string, options: Partial<ProcessRequest> & { stopAfterFiles?: number } = {}) {
  const { source, fetched, settings } = countedSource();
  const listing = await source.list();
  const { stopAfterFiles, ...rest } = options;
  const outcome = processSource({
    settings,
    source,
    listing,
    scratchDir,
    instructor: templateInstructor,
    checkpoints: { path: join(scratchDir, 'checkpoint.json'), datasetHash: HASH, everyMs: 0 },
    onProgress: (progress: PrepareDataProgress) => {
      // Stopped as a kill would stop it: after the file's documents were staged, before its checkpoint.
      if (stopAfterFiles !== undefined && progress.filesDone >= stopAfterFiles) throw new Interrupted();
    },
    ...rest,
  });
  return { outcome, fetched, listing };
}

function sameDataset(resumed: ProcessOutcome, whole: ProcessOutcome): void {
  expect(resumed.train).toMatchObject({ sha256: whole.train.sha256, bytes: whole.train.bytes, records: whole.train.records });
  expect(resumed.test).toMatchObject({ sha256: whole.test.sha256, bytes: whole.test.bytes, records: whole.test.records });
  expect({ ...resumed, train: undefined, test: undefined }).toEqual({ ...whole, train: undefined, test: undefined });
}

describe.each([1, 2])('a build with %i thread(s) stopped in its first pass', (threads) => {
  it('resumes from its checkpoint: only the files after it are read, and the dataset is the same, byte for byte', async () => {
    const whole = await processFolder(CORPUS, INPUT, mkdtempSync(join(dir, 'whole-')), { threads, helperMinBytes: 0 });

    const scratch = mkdtempSync(join(dir, 'scratch-'));
    const first = await build(scratch, { threads, helperMinBytes: 0, stopAfterFiles: 12 });
    await expect(first.outcome).rejects.toBeInstanceOf(Interrupted);
    const checkpoint = readCheckpoint(join(scratch, 'checkpoint.json'), HASH);
    expect(checkpoint).toMatchObject({ filesDone: 11 });
    // The interrupted attempt had staged past its checkpoint; the resumed one cuts that off first.
    expect(statSync(join(scratch, STAGED_DOCUMENTS_FILE)).size).toBeGreaterThanOrEqual(checkpoint!.stagedBytes);

    const heartbeats: PrepareDataProgress[] = [];
    const resumed = await build(scratch, {
      threads,
      helperMinBytes: 0,
      checkpoints: { path: join(scratch, 'checkpoint.json'), datasetHash: HASH, everyMs: 0, resume: checkpoint! },
      onProgress: (progress) => heartbeats.push(progress),
    });
    sameDataset(await resumed.outcome, whole);
    expect(resumed.fetched).toEqual(resumed.listing.entries.slice(11).map((entry) => entry.path));
    expect(heartbeats[0]).toMatchObject({ phase: 'process', filesDone: 12, resumedFrom: 11 });
  });
});

it('a build stopped after its first pass resumes with nothing left to read', async () => {
  const whole = await processFolder(CORPUS, INPUT, mkdtempSync(join(dir, 'whole-')));
  const scratch = mkdtempSync(join(dir, 'scratch-'));
  const listing = await countedSource().source.list();
  // Stopped in the second pass, at its first batch of records.
  const first = await build(scratch, {
    onProgress: (progress) => {
      if (progress.records !== undefined && progress.records > 0) throw new Interrupted();
    },
  });
  await expect(first.outcome).rejects.toBeInstanceOf(Interrupted);
  const checkpoint = readCheckpoint(join(scratch, 'checkpoint.json'), HASH);
  expect(checkpoint?.filesDone).toBe(listing.entries.length);
  const resumed = await build(scratch, {
    checkpoints: { path: join(scratch, 'checkpoint.json'), datasetHash: HASH, everyMs: 0, resume: checkpoint! },
  });
  sameDataset(await resumed.outcome, whole);
  expect(resumed.fetched).toEqual([]);
});

it('a checkpoint whose staged documents are not all there is refused as stale, not built on', async () => {
  const scratch = mkdtempSync(join(dir, 'scratch-'));
  const first = await build(scratch, { stopAfterFiles: 8 });
  await expect(first.outcome).rejects.toBeInstanceOf(Interrupted);
  const checkpoint = readCheckpoint(join(scratch, 'checkpoint.json'), HASH)!;
  const resumeWith = (resume: ProcessCheckpoint) =>
    build(scratch, { checkpoints: { path: join(scratch, 'x.json'), datasetHash: HASH, everyMs: 0, resume } });

  // More documents recorded than the staged bytes hold.
  await expect((await resumeWith({ ...checkpoint, documents: checkpoint.documents + 1 })).outcome).rejects.toBeInstanceOf(
    StaleCheckpointError,
  );
  // The staged file cut shorter than the checkpoint says.
  truncateSync(join(scratch, STAGED_DOCUMENTS_FILE), Math.max(0, checkpoint.stagedBytes - 1));
  await expect((await resumeWith(checkpoint)).outcome).rejects.toThrow(/holds \d+ bytes; the checkpoint recorded/);
});

it('reads a checkpoint only for its own dataset, and nothing it cannot parse strictly', async () => {
  const path = join(dir, 'checkpoint.json');
  expect(readCheckpoint(path, HASH)).toBeUndefined();
  const checkpoint: ProcessCheckpoint = {
    datasetHash: HASH,
    filesDone: 1,
    bytesDone: 10,
    stagedBytes: 100,
    fingerprints: [{ path: 'a.md', size: 10, digest: 'd' }],
    skippedFiles: [],
    skippedRecords: [],
    skippedRecordCount: 0,
    filesRead: 1,
    bytesRead: 10,
    documents: 1,
    emptyDocuments: 0,
  };
  writeCheckpoint(path, checkpoint);
  expect(readCheckpoint(path, HASH)).toEqual(checkpoint);
  expect(readCheckpoint(path, 'another-dataset')).toBeUndefined();
  writeFileSync(path, JSON.stringify({ ...checkpoint, extra: true }));
  expect(readCheckpoint(path, HASH)).toBeUndefined();
  writeFileSync(path, readFileSync(path, 'utf8').slice(0, 20));
  expect(readCheckpoint(path, HASH)).toBeUndefined();
});
