import { rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest, PrepareDataProgress, PrepareDataSettings, SkippedItem, TokenStats } from '../../common/prepare-data/contract';
import { buildBatch, prepareBatch, type BuildBatch, type BuildItem, type BuiltBatch, type PreparedBatch } from './batches';
import { DatasetBuilder } from './builder';
import type { BuiltRecord, PreparedRecord } from './document-build';
import { HelperThreads } from './helper-threads';
import type { Genre } from '../../common/prepare-data/text/genre';
import { TokenCounter } from '../../common/prepare-data/text/tokens';
import type { SourceDocument } from './sections';
import { CorpusRegistry, documentEntry, type DocumentEntry, type DuplicatePair } from './corpus';
import { cleanOptionsOf } from './documents';
import { skippedFingerprints, type FileFingerprint } from './fingerprint';
import { templateInstructor, type Instructor } from './generator';
import { keepHeapNearLive } from './heap';
import { openedInOrder } from './look-ahead';
import { readDocuments } from './readers';
import type { SourceAccess, SourceEntry, SourceListing } from './source';
import { DocumentStageWriter, readStagedDocuments, readStagedRecords } from './document-stage';
import { JsonlSink, type StagedFile } from './staging';
import { writeCheckpoint, type ProcessCheckpoint } from './checkpoint';

/**
 * The imperative shell around the pure text core, in two passes over the corpus. First, for each
 * source file in sorted order: fetch it (S3: to a scratch file), inspect it (fingerprint, binary,
 * UTF-8), read its documents, parse and clean them, register them for the corpus decisions and stage
 * them on disk. Then the decisions (duplicates by the keep rule, containment, repeated paragraphs,
 * boilerplate by frequency), and the second pass: the staged documents to train/test JSONL on local
 * disk. Used by the activity (which then uploads) and by the benchmark, which measures exactly this path.
 */

export interface ProcessRequest {
  settings: PrepareDataSettings;
  source: SourceAccess;
  listing: SourceListing;
  /** Where train.jsonl, test.jsonl and S3 downloads go. */
  scratchDir: string;
  instructor: Instructor;
  /** Called often; the caller throttles. */
  onProgress?: (progress: PrepareDataProgress) => void;
  onDuplicate?: (pair: DuplicatePair) => void;
  signal?: AbortSignal;
  /** Threads to use, this one included (prepareData.threads; 1: no helper thread). */
  threads?: number;
  /** Below this many bytes of source, no helper thread is started (tests lower it). */
  helperMinBytes?: number;
  /** Checkpoints of the first pass (checkpoint.ts), and the one to resume from. */
  checkpoints?: CheckpointPlan;
}

/** The first pass's documents, in the scratch folder, for the second pass (document-stage.ts). */
export const STAGED_DOCUMENTS_FILE = 'documents.staged';

export interface CheckpointPlan {
  path: string;
  datasetHash: string;
  /** At most this often, after a file: each one waits for the helpers' batches in flight. */
  everyMs: number;
  resume?: ProcessCheckpoint;
}

/** A checkpoint whose staged documents are not all there (the staged file was cut or replaced): start over. */
export class StaleCheckpointError extends Error {
  override name = 'StaleCheckpointError';
}

export interface ProcessOutcome {
  fingerprints: FileFingerprint[];
  train: StagedFile;
  test: StagedFile;
  counts: Omit<Manifest['counts'], 'trainRecords' | 'testRecords'>;
  tokens: TokenStats;
  dedup: Manifest['dedup'];
  boilerplate: Manifest['boilerplate'];
  quality: Manifest['quality'];
  skippedFiles: SkippedItem[];
  skippedRecords: SkippedItem[];
  warnings: string[];
}

const MAX_REPORTED_RECORD_SKIPS = 1000;
/** Documents are handed out in batches of about this much text (a batch per message to a helper). */
const BATCH_CHARS = 256 * 1024;
/** Batches each helper thread may hold at once; beyond that the main thread does the next one itself. */
const MAX_IN_FLIGHT = 2;
/** Batches done here that may wait behind a helper's answer (each holds its bytes, a few hundred KiB). */
const MAX_WAITING_HERE = 4;
/** Below this many bytes of source, no helper thread is started. */
const MIN_BYTES_FOR_HELPERS = 4 * 1024 * 1024;
/**
 * A batch holding a document longer than this is done here, not on a helper: a helper's heap is
 * capped (helper-threads.ts) and one long line that no cut could shorten must not exhaust it.
 */
const HELPER_MAX_DOCUMENT_CHARS = 1024 * 1024;

/**
 * The planning pass: every listed file's fingerprint, without reading any document. Local files are
 * hashed (MD5, one streaming read each); S3 objects are named by the ETag from the listing, no download.
 */
export async function fingerprintSource(
  source: SourceAccess,
  listing: SourceListing,
  scratchDir: string,
  signal?: AbortSignal,
  onProgress?: (progress: PrepareDataProgress) => void,
): Promise<FileFingerprint[]> {
  const bytesTotal = listing.entries.reduce((sum, entry) => sum + entry.size, 0);
  const progress: PrepareDataProgress = {
    phase: 'fingerprint',
    filesDone: 0,
    filesTotal: listing.entries.length,
    bytesDone: 0,
    bytesTotal,
  };
  const fingerprints: FileFingerprint[] = skippedFingerprints(listing);
  const done = (entry: SourceEntry) => {
    progress.filesDone += 1;
    progress.bytesDone += entry.size;
    onProgress?.({ ...progress });
  };
  if (listing.kind === 's3') {
    for (const entry of listing.entries) {
      fingerprints.push({ path: entry.path, size: entry.size, digest: entry.etag ?? '' });
      done(entry);
    }
    return fingerprints;
  }
  for await (const { entry, fetched, inspection } of openedInOrder(listing.entries, source, scratchDir, signal)) {
    await fetched.release();
    fingerprints.push({ path: entry.path, size: inspection.bytes, digest: inspection.md5 });
    done(entry);
  }
  return fingerprints;
}

export async function processSource(request: ProcessRequest): Promise<ProcessOutcome> {
  keepHeapNearLive();
  const { settings, source, listing, signal } = request;
  const clean = cleanOptionsOf(settings);
  const registry = new CorpusRegistry(settings);
  const genres = new ContinuedGenres();
  const register = (entry: DocumentEntry) => genres.follow(registry.add(entry), entry);
  const checkpoints = request.checkpoints;
  const resume = checkpoints?.resume;
  const stagedPath = join(request.scratchDir, STAGED_DOCUMENTS_FILE);
  if (resume) await registerStaged(stagedPath, resume, register, settings, signal);
  const staged = new DocumentStageWriter(stagedPath, resume?.stagedBytes);
  const listingFingerprints = skippedFingerprints(listing);
  const fingerprints: FileFingerprint[] = [...listingFingerprints, ...(resume?.fingerprints ?? [])];
  const skippedFiles: SkippedItem[] = [
    ...listing.skipped.map(({ source: path, reason }) => ({ source: path, reason })),
    ...(resume?.skippedFiles ?? []),
  ];
  const skippedRecords: SkippedItem[] = [...(resume?.skippedRecords ?? [])];
  const counts = { documents: resume?.documents ?? 0, emptyDocuments: resume?.emptyDocuments ?? 0 };
  let skippedRecordCount = resume?.skippedRecordCount ?? 0;
  let filesRead = resume?.filesRead ?? 0;
  let bytesRead = resume?.bytesRead ?? 0;
  const progress: PrepareDataProgress = {
    phase: 'process',
    filesDone: resume?.filesDone ?? 0,
    filesTotal: listing.entries.length,
    bytesDone: resume?.bytesDone ?? 0,
    bytesTotal: listing.entries.reduce((sum, entry) => sum + entry.size, 0),
    documents: counts.documents,
    duplicates: 0,
    records: 0,
    ...(resume ? { resumedFrom: resume.filesDone } : {}),
  };
  const sinks = {
    train: new JsonlSink(join(request.scratchDir, 'train.jsonl')),
    test: new JsonlSink(join(request.scratchDir, 'test.jsonl')),
  };
  // Helper threads pay for themselves only on a corpus of some size (each takes ~0.2 s to start).
  const threads = Math.max(1, Math.floor(request.threads ?? 1));
  const helpers =
    threads > 1 && progress.bytesTotal >= (request.helperMinBytes ?? MIN_BYTES_FOR_HELPERS)
      ? HelperThreads.start(threads - 1, settings)
      : undefined;
  const templated = request.instructor === templateInstructor;
  let tokens: TokenCounter | undefined;

  try {
    // First pass: read every document; parse, clean, sign and stage it (here or on a helper); register
    // what the corpus decisions need; keep the cleaned blocks in a staging file (not in memory) for the second pass.
    const prepared = new BatchedWork<SourceDocument, PreparedBatch>(helpers, {
      remote: (threads, documents) => threads.prepare(documents),
      here: (documents) => prepareBatch(documents, settings, clean),
      take: async (batch) => {
        for (const entry of batch.entries) {
          if (entry) register(entry);
          else counts.emptyDocuments += 1;
        }
        await staged.append(batch.staged);
      },
    });
    // A checkpoint waits for every document handed out so far to be staged and flushed: what it
    // records is then all on disk, in order.
    let lastCheckpoint = Date.now();
    const checkpoint = async () => {
      if (!checkpoints) return;
      await prepared.finish();
      const stagedBytes = await staged.flushed();
      writeCheckpoint(checkpoints.path, {
        datasetHash: checkpoints.datasetHash,
        filesDone: progress.filesDone,
        bytesDone: progress.bytesDone,
        stagedBytes,
        fingerprints: fingerprints.slice(listingFingerprints.length),
        skippedFiles: skippedFiles.slice(listing.skipped.length),
        skippedRecords,
        skippedRecordCount,
        filesRead,
        bytesRead,
        documents: counts.documents,
        emptyDocuments: counts.emptyDocuments,
      });
      lastCheckpoint = Date.now();
    };
    const remaining = listing.entries.slice(progress.filesDone);
    for await (const { entry, fetched, inspection } of openedInOrder(remaining, source, request.scratchDir, signal)) {
      try {
        signal?.throwIfAborted();
        fingerprints.push({
          path: entry.path,
          size: inspection.bytes,
          digest: listing.kind === 's3' ? (fetched.etag ?? '') : inspection.md5,
        });
        if (inspection.skipReason) {
          skippedFiles.push({ source: entry.path, reason: inspection.skipReason });
        } else {
          filesRead += 1;
          bytesRead += inspection.bytes;
          const read = readDocuments(
            { localPath: fetched.localPath, path: entry.path, format: entry.format, bytes: inspection.bytes, content: inspection.content },
            settings,
            signal,
          );
          for await (const item of read) {
            if ('skipped' in item) {
              skippedRecordCount += 1;
              if (skippedRecords.length < MAX_REPORTED_RECORD_SKIPS) skippedRecords.push(item.skipped);
              continue;
            }
            counts.documents += 1;
            await prepared.add(item.document, item.document.text.length);
          }
        }
      } finally {
        await fetched.release();
      }
      progress.filesDone += 1;
      progress.bytesDone += entry.size;
      progress.documents = counts.documents;
      request.onProgress?.({ ...progress });
      if (checkpoints && Date.now() - lastCheckpoint >= checkpoints.everyMs) await checkpoint();
    }
    await prepared.finish();
    // The first pass done: a retry after this goes straight to the decisions.
    await checkpoint();
    await staged.close();

    // The corpus-wide decisions: duplicates (keep rule), containment, repeated paragraphs, boilerplate.
    const plan = registry.decide();
    for (const pair of plan.pairs) request.onDuplicate?.(pair);
    progress.duplicates = plan.dropped.size;
    const buildPlan = { settings, boilerplate: new Set(plan.boilerplate.keys()) };
    helpers?.plan(buildPlan.boilerplate, templated);

    // Second pass: the staged documents in reading order, built (here or on a helper) into records.
    const builder = new DatasetBuilder(settings, plan);
    let pending: BuiltRecord[] = [];
    let pendingInstructions: string[] = [];
    const writePending = async () => {
      if (pending.length === 0) return;
      const records = pending;
      const instructions = templated ? pendingInstructions : await request.instructor.instruct(records as PreparedRecord[], signal);
      pending = [];
      pendingInstructions = [];
      for (let index = 0; index < records.length; index += 1) {
        const { split, record } = records[index]!;
        await sinks[split].write({
          id: record.id,
          instruction: instructions[index],
          output: record.output,
          source: record.source,
          title: record.title,
          tokens: record.tokens,
        });
      }
      progress.records = (progress.records ?? 0) + records.length;
    };
    const built = new BatchedWork<StagedItem, BuiltBatch>(helpers, {
      remote: (threads, items) => threads.build(buildBatchOf(items)),
      here: (items) => buildBatch(buildBatchOf(items), buildPlan, (tokens ??= new TokenCounter()), templated),
      take: async (batch) => {
        for (const build of batch.builds) {
          builder.add(build);
          pending.push(...build.records);
          if (build.instructions) pendingInstructions.push(...build.instructions);
        }
        if (batch.lines) {
          // Template instructions: the records came back as their JSONL lines.
          await sinks.train.appendLines(batch.lines.train.bytes, batch.lines.train.records);
          await sinks.test.appendLines(batch.lines.test.bytes, batch.lines.test.records);
          progress.records = (progress.records ?? 0) + batch.lines.train.records + batch.lines.test.records;
        }
        if (batch.lines || pending.length >= request.instructor.batchSize) {
          await writePending();
          signal?.throwIfAborted();
          request.onProgress?.({ ...progress });
        }
      },
    });
    let index = 0;
    for await (const record of readStagedRecords(staged.path, signal)) {
      if (!plan.dropped.has(index)) {
        const genre = genres.of(index);
        const item: BuildItem = { foreign: [...plan.foreignParagraphs(index)], ...(genre ? { genre } : {}) };
        // A copy: the reader reuses its buffer for the next record.
        await built.add({ record: new Uint8Array(record), item }, record.length);
      }
      index += 1;
    }
    await built.finish();
    await writePending();
    await rm(staged.path, { force: true });
    const [train, test] = [await sinks.train.close(), await sinks.test.close()];
    const warnings: string[] = [];
    if (test.records === 0 && train.records > 0)
      warnings.push(`the test split is empty: too few documents for split.testRatio ${settings.split.testRatio}`);
    if (skippedRecordCount > skippedRecords.length)
      warnings.push(`${skippedRecordCount} records were skipped; the first ${skippedRecords.length} are listed`);
    if (helpers?.failure)
      warnings.push(`a helper thread failed (${helpers.failure.message}); the main thread did its work, with the same result`);
    if (plan.dropped.size > plan.pairs.length)
      warnings.push(`${plan.dropped.size} duplicates were dropped; the first ${plan.pairs.length} pairs are listed`);
    skippedFiles.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    return {
      fingerprints,
      train,
      test,
      counts: {
        filesRead,
        filesSkipped: skippedFiles.length,
        bytesRead,
        skippedRecords: skippedRecordCount,
        documents: counts.documents,
        emptyDocuments: counts.emptyDocuments,
        exactDuplicates: plan.counts.exact,
        nearDuplicates: plan.counts.near,
        containedDuplicates: plan.counts.contained,
        ...builder.counts,
      },
      tokens: builder.tokenStats(),
      dedup: builder.dedupReport(),
      boilerplate: builder.boilerplateReport(),
      quality: builder.qualityReport(),
      skippedFiles,
      skippedRecords,
      warnings,
    };
  } catch (error) {
    staged.destroy();
    sinks.train.destroy();
    sinks.test.destroy();
    throw error;
  } finally {
    await helpers?.close();
  }
}

/**
 * A resumed build's first step: the staged file cut back to what its checkpoint recorded, and every
 * document in it registered again, in order, as the interrupted attempt registered it (the registry is
 * a function of the documents and their order; the signature is recomputed from the document).
 */
async function registerStaged(
  path: string,
  resume: ProcessCheckpoint,
  register: (entry: DocumentEntry) => void,
  settings: PrepareDataSettings,
  signal: AbortSignal | undefined,
): Promise<void> {
  const length = await stat(path).then(
    (info) => info.size,
    () => -1,
  );
  if (length < resume.stagedBytes) {
    throw new StaleCheckpointError(`${path} holds ${Math.max(length, 0)} bytes; the checkpoint recorded ${resume.stagedBytes}`);
  }
  await truncate(path, resume.stagedBytes);
  let registered = 0;
  try {
    for await (const document of readStagedDocuments(path, signal)) {
      register(documentEntry(document, settings));
      registered += 1;
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    // Bytes that do not decode (the machine went down before the OS wrote them out): start over.
    throw new StaleCheckpointError(`${path} does not read back: ${error instanceof Error ? error.message : String(error)}`);
  }
  const expected = resume.documents - resume.emptyDocuments;
  if (registered !== expected) {
    throw new StaleCheckpointError(`${path} holds ${registered} documents; the checkpoint recorded ${expected}`);
  }
}

/**
 * A part cut from a long piece is of the piece's genre, whatever its own shape suggests: taken from the
 * part right before it (when that part was not left empty by cleaning), followed as documents are
 * registered, in reading order, and handed to the second pass with each part it changes.
 */
class ContinuedGenres {
  private readonly changed = new Map<number, Genre>();
  private before: { source: string; genre: Genre } | undefined;

  follow(index: number, entry: DocumentEntry): void {
    const inherited = entry.continuation && this.before?.source === partBefore(entry.source) ? this.before?.genre : undefined;
    const genre = inherited ?? entry.genre;
    if (genre !== entry.genre) this.changed.set(index, genre);
    this.before = { source: entry.source, genre };
  }

  /** The genre of a document whose own was replaced by its piece's. */
  of(index: number): Genre | undefined {
    return this.changed.get(index);
  }
}

/** A staged record for the second pass, with what its build needs to know of the corpus plan. */
interface StagedItem {
  record: Uint8Array;
  item: BuildItem;
}

/** A second-pass batch: its records' bytes in one block, and their items. */
function buildBatchOf(items: readonly StagedItem[]): BuildBatch {
  const staged = new Uint8Array(items.reduce((sum, { record }) => sum + record.length, 0));
  let offset = 0;
  for (const { record } of items) {
    staged.set(record, offset);
    offset += record.length;
  }
  return { staged, items: items.map(({ item }) => item) };
}

/** The source of the part a continued part follows: `a.md#3` follows `a.md#2`, `a.md#2` follows `a.md`. */
function partBefore(source: string): string | undefined {
  const match = /^(.*)#(\d+)$/.exec(source);
  if (!match) return undefined;
  const part = Number(match[2]);
  return part === 2 ? match[1] : `${match[1]}#${part - 1}`;
}

/**
 * Work gathered into batches of about BATCH_CHARS, each handed to a helper thread when one has room
 * and done here otherwise, the results taken back in the order the work came.
 */
class BatchedWork<I, R> {
  private batch: I[] = [];
  private chars = 0;
  private largest = 0;
  /** Work handed out, oldest first: done (here, or answered by a helper) or still awaited. */
  private readonly queue: Array<{ done: true; result: R } | { done: false; answer: Promise<R> }> = [];

  constructor(
    private readonly helpers: HelperThreads | undefined,
    private readonly work: {
      remote: (helpers: HelperThreads, batch: I[]) => Promise<R>;
      here: (batch: I[]) => R;
      take: (result: R) => Promise<void>;
    },
  ) {}

  /** `chars`: the item's length, for the batch's size and for keeping long documents off the helpers. */
  async add(item: I, chars: number): Promise<void> {
    this.batch.push(item);
    this.chars += chars;
    this.largest = Math.max(this.largest, chars);
    if (this.chars >= BATCH_CHARS) await this.handOut();
  }

  /** Hands out what is left and takes every result. */
  async finish(): Promise<void> {
    await this.handOut();
    await this.drain(0);
  }

  private async handOut(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    const largest = this.largest;
    this.batch = [];
    this.chars = 0;
    this.largest = 0;
    const room = MAX_IN_FLIGHT * (this.helpers?.size ?? 0);
    const helpers = this.helpers;
    // The helpers' answers arrive as events, which a main thread reading from memory rarely yields to:
    // it saw them all busy and did most batches itself while they sat idle (a third of the time). One
    // turn of the event loop first, to take in the answers that are there.
    if (helpers && helpers.inFlight >= room) await new Promise((resolve) => setImmediate(resolve));
    if (helpers && !helpers.failure && helpers.inFlight < room && largest <= HELPER_MAX_DOCUMENT_CHARS) {
      // A helper that dies fails every answer it owed at once: the work is then done here instead (each
      // piece is a pure function of its input, so the bytes are the same), and the helpers are not used
      // again. Once the run is over (it failed elsewhere, or was cancelled) nothing is redone.
      const answer = this.work.remote(helpers, batch).catch((error: unknown) => {
        if (helpers.closing) throw error;
        helpers.fail(error instanceof Error ? error : new Error(String(error)));
        return this.work.here(batch);
      });
      const entry: { done: false; answer: Promise<R> } = { done: false, answer };
      // Marked done when answered, so that the work after it can be taken without waiting. Answers
      // left waiting when the run fails are never taken: their failure is not unhandled.
      answer.then(
        (result) => Object.assign(entry, { done: true, result }),
        () => undefined,
      );
      this.queue.push(entry);
    } else {
      this.queue.push({ done: true, result: this.work.here(batch) });
    }
    // The main thread waits for a helper only when work is piling up: otherwise it reads and does the
    // next batch itself while the helpers finish theirs (waiting at every turn left it idle a third of the time).
    await this.drain(room + MAX_WAITING_HERE);
  }

  /** Takes finished work, oldest first; waits for unfinished work only while more than `keep` pieces wait. */
  private async drain(keep: number): Promise<void> {
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      if (!head.done && this.queue.length <= keep) return;
      this.queue.shift();
      await this.work.take(head.done ? head.result : await head.answer);
    }
  }
}
