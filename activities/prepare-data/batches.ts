import type { PrepareDataSettings } from '../../common/prepare-data/contract';
import type { Genre } from '../../common/prepare-data/text/genre';
import type { SplitName } from '../../common/prepare-data/text/split';
import type { TokenCounting } from '../../common/prepare-data/text/chunk';
import { documentEntry, type DocumentEntry } from './corpus';
import { buildDocument, type BuildPlan, type DocumentBuild } from './document-build';
import { decodeStagedRecords, stageDocument } from './document-stage';
import { prepareDocument } from './documents';
import type { CleanOptions } from '../../common/prepare-data/text/clean';
import type { SourceDocument } from './sections';
import { ByteSink, jsonLine } from './staging';

/**
 * The work of both passes in batches, the same function on a helper thread or on the main thread.
 * A batch comes back mostly as bytes, ready to append: the staged records of the first pass, the JSONL
 * lines of the second. So the main thread, which does the reading, the corpus decisions and the
 * writing for every thread, neither encodes nor decodes a document, and a batch crosses between
 * threads as one block of memory rather than as thousands of small objects to copy.
 */

export interface PreparedBatch {
  /** Per source document, in order: what the registry keeps of it, or undefined when cleaning left nothing. */
  entries: Array<DocumentEntry | undefined>;
  /** The staged records (document-stage.ts) of the documents that have an entry, in order. */
  staged: Uint8Array;
}

export function prepareBatch(documents: readonly SourceDocument[], settings: PrepareDataSettings, clean: CleanOptions): PreparedBatch {
  const staged = new ByteSink();
  const entries = documents.map((source) => {
    const document = prepareDocument(source, settings, clean);
    if (!document) return undefined;
    stageDocument(document, staged);
    return documentEntry(document, settings);
  });
  return { entries, staged: staged.take() };
}

/** One kept document of a second-pass batch: the paragraphs another kept document keeps, and its genre when a part before it set it. */
export interface BuildItem {
  foreign: number[];
  genre?: Genre;
}

export interface BuildBatch {
  /** The staged records of the batch's documents, one per item, in order. */
  staged: Uint8Array;
  items: BuildItem[];
}

export interface BuiltBatch {
  /** Per document, its build; with template instructions its records are in `lines` instead (and `records` is empty). */
  builds: DocumentBuild[];
  lines?: Record<SplitName, { bytes: Uint8Array; records: number }>;
}

export function buildBatch(batch: BuildBatch, plan: BuildPlan, tokens: TokenCounting, templated: boolean): BuiltBatch {
  const documents = decodeStagedRecords(batch.staged);
  const builds = documents.map((document, index) => {
    const { foreign, genre } = batch.items[index]!;
    if (genre) document.genre = genre;
    return buildDocument(document, new Set(foreign), plan, tokens, templated);
  });
  if (!templated) return { builds };
  // Phrased already: the records go out as the JSONL lines the sinks would have written for them.
  const sinks = { train: new ByteSink(), test: new ByteSink() };
  const counts = { train: 0, test: 0 };
  for (const build of builds) {
    build.records.forEach(({ split, record }, index) => {
      sinks[split].putText(
        jsonLine({
          id: record.id,
          instruction: build.instructions![index],
          output: record.output,
          source: record.source,
          title: record.title,
          tokens: record.tokens,
        }),
      );
      counts[split] += 1;
    });
    build.records = [];
    delete build.instructions;
  }
  return {
    builds,
    lines: {
      train: { bytes: sinks.train.take(), records: counts.train },
      test: { bytes: sinks.test.take(), records: counts.test },
    },
  };
}
