import { join } from 'node:path';
import type { Manifest, PrepareDataProgress, PrepareDataSettings, SkippedItem, TokenStats } from '../../common/prepare-data/contract';
import { DatasetBuilder, type DuplicateEvent, type PreparedRecord } from './builder';
import { skippedFingerprints, type FileFingerprint } from './fingerprint';
import type { Instructor } from './generator';
import { inspectFile } from './inspect';
import { readDocuments } from './readers';
import type { SourceAccess, SourceListing } from './source';
import { JsonlSink, type StagedFile } from './staging';

/**
 * The imperative shell around the pure text core: for each source file in sorted order, fetch it
 * (S3: to a scratch file), inspect it (fingerprint, binary, UTF-8), read its documents, run them
 * through the builder and write the records to train/test JSONL on local disk. Used by the activity
 * (which then uploads) and by the benchmark, so the benchmark measures exactly this path.
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
  onDuplicate?: (event: DuplicateEvent) => void;
  signal?: AbortSignal;
}

export interface ProcessOutcome {
  fingerprints: FileFingerprint[];
  train: StagedFile;
  test: StagedFile;
  counts: Omit<Manifest['counts'], 'trainRecords' | 'testRecords'>;
  tokens: TokenStats;
  dedup: Manifest['dedup'];
  skippedFiles: SkippedItem[];
  skippedRecords: SkippedItem[];
  warnings: string[];
}

const MAX_REPORTED_RECORD_SKIPS = 1000;

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
  for (const entry of listing.entries) {
    if (listing.kind === 's3') {
      fingerprints.push({ path: entry.path, size: entry.size, digest: entry.etag ?? '' });
    } else {
      const fetched = await source.fetch(entry, scratchDir, signal);
      const inspection = await inspectFile(fetched.localPath, entry.path, signal);
      fingerprints.push({ path: entry.path, size: inspection.bytes, digest: inspection.md5 });
    }
    progress.filesDone += 1;
    progress.bytesDone += entry.size;
    onProgress?.({ ...progress });
  }
  return fingerprints;
}

export async function processSource(request: ProcessRequest): Promise<ProcessOutcome> {
  const { settings, source, listing, signal } = request;
  const builder = new DatasetBuilder(settings, request.onDuplicate);
  const sinks = {
    train: new JsonlSink(join(request.scratchDir, 'train.jsonl')),
    test: new JsonlSink(join(request.scratchDir, 'test.jsonl')),
  };
  const fingerprints: FileFingerprint[] = skippedFingerprints(listing);
  const skippedFiles: SkippedItem[] = listing.skipped.map(({ source: path, reason }) => ({ source: path, reason }));
  const skippedRecords: SkippedItem[] = [];
  let skippedRecordCount = 0;
  let filesRead = 0;
  let bytesRead = 0;
  const progress: PrepareDataProgress = {
    phase: 'process',
    filesDone: 0,
    filesTotal: listing.entries.length,
    bytesDone: 0,
    bytesTotal: listing.entries.reduce((sum, entry) => sum + entry.size, 0),
    documents: 0,
    duplicates: 0,
    records: 0,
  };
  let pending: PreparedRecord[] = [];

  const writePending = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const instructions = await request.instructor.instruct(batch, signal);
    for (let index = 0; index < batch.length; index += 1) {
      const { split, record } = batch[index] as PreparedRecord;
      await sinks[split].write({
        id: record.id,
        instruction: instructions[index],
        output: record.output,
        source: record.source,
        title: record.title,
        tokens: record.tokens,
      });
    }
    progress.records = (progress.records ?? 0) + batch.length;
  };

  try {
    for (const entry of listing.entries) {
      signal?.throwIfAborted();
      const fetched = await source.fetch(entry, request.scratchDir, signal);
      try {
        const inspection = await inspectFile(fetched.localPath, entry.path, signal);
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
            { localPath: fetched.localPath, path: entry.path, format: entry.format, bytes: inspection.bytes },
            settings,
            signal,
          );
          for await (const item of read) {
            if ('skipped' in item) {
              skippedRecordCount += 1;
              if (skippedRecords.length < MAX_REPORTED_RECORD_SKIPS) skippedRecords.push(item.skipped);
              continue;
            }
            const records = builder.add(item.document);
            for (const record of records) pending.push(record);
            if (pending.length >= request.instructor.batchSize) {
              await writePending();
              signal?.throwIfAborted();
              report(progress, builder, request.onProgress);
            }
          }
        }
      } finally {
        await fetched.release();
      }
      progress.filesDone += 1;
      progress.bytesDone += entry.size;
      report(progress, builder, request.onProgress);
    }
    await writePending();
    const [train, test] = [await sinks.train.close(), await sinks.test.close()];
    const warnings: string[] = [];
    if (test.records === 0 && train.records > 0)
      warnings.push(`the test split is empty: too few documents for split.testRatio ${settings.split.testRatio}`);
    if (skippedRecordCount > skippedRecords.length)
      warnings.push(`${skippedRecordCount} records were skipped; the first ${skippedRecords.length} are listed`);
    skippedFiles.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    return {
      fingerprints,
      train,
      test,
      counts: { filesRead, filesSkipped: skippedFiles.length, bytesRead, skippedRecords: skippedRecordCount, ...builder.counts },
      tokens: builder.tokenStats(),
      dedup: builder.dedupReport(),
      skippedFiles,
      skippedRecords,
      warnings,
    };
  } catch (error) {
    sinks.train.destroy();
    sinks.test.destroy();
    throw error;
  }
}

function report(progress: PrepareDataProgress, builder: DatasetBuilder, onProgress?: (progress: PrepareDataProgress) => void): void {
  if (!onProgress) return;
  progress.documents = builder.counts.documents;
  progress.duplicates = builder.counts.exactDuplicates + builder.counts.nearDuplicates;
  onProgress({ ...progress });
}
