import { createHash } from 'node:crypto';
import type { DatasetRecord, Manifest, PrepareDataSettings, TokenStats } from '../../common/prepare-data/contract';
import { DATASET_TOKENIZER } from '../../common/prepare-data/contract';
import { chunkText } from '../../common/prepare-data/text/chunk';
import { cleanText, type CleanOptions } from '../../common/prepare-data/text/clean';
import type { InstructContext } from '../../common/prepare-data/text/instruct';
import { NearDuplicateIndex } from '../../common/prepare-data/text/lsh';
import { stripMarkdownNoise } from '../../common/prepare-data/text/markdown';
import { minhashSignature } from '../../common/prepare-data/text/minhash';
import { assignSplit, type SplitName } from '../../common/prepare-data/text/split';
import { TokenCounter } from '../../common/prepare-data/text/tokens';
import type { SourceDocument } from './sections';

/**
 * The per-document pipeline, synchronous and in memory for one document at a time: clean, drop exact
 * duplicates (sha256 of the cleaned text), drop near duplicates (MinHash LSH), chunk, assign the split.
 * The first occurrence in sorted source order wins, so the outcome is deterministic.
 *
 * What it keeps across the corpus is small and per document, never per byte: a 64-bit content key and
 * the source name per kept document, plus the LSH index (signature and band slots).
 */

export interface PreparedRecord {
  split: SplitName;
  record: Omit<DatasetRecord, 'instruction'>;
  context: InstructContext;
}

export interface DuplicateEvent {
  source: string;
  duplicateOf: string;
  kind: 'exact' | 'near';
  similarity: number;
}

const MAX_EXAMPLES = 50;

export class DatasetBuilder {
  readonly counts = { documents: 0, emptyDocuments: 0, exactDuplicates: 0, nearDuplicates: 0, keptDocuments: 0, shortChunksDropped: 0 };
  readonly examples: DuplicateEvent[] = [];
  private readonly tokens = new TokenCounter();
  private readonly exact = new Map<string, number>();
  private readonly sources: string[] = [];
  private readonly near: NearDuplicateIndex | undefined;
  private readonly nearOwners: number[] = [];
  private readonly cleanOptions: CleanOptions;
  private readonly histogram: Uint32Array;
  private tokenTotal = 0;
  private chunkCount = 0;

  constructor(
    private readonly settings: PrepareDataSettings,
    private readonly onDuplicate?: (event: DuplicateEvent) => void,
  ) {
    this.near = settings.dedup.near ? new NearDuplicateIndex(settings.dedup.permutations, settings.dedup.threshold) : undefined;
    this.cleanOptions = { stripBoilerplate: settings.clean.stripBoilerplate, boilerplatePatterns: settings.clean.boilerplatePatterns };
    this.histogram = new Uint32Array(settings.chunk.maxTokens + 2);
  }

  get lshParameters() {
    return this.near?.parameters;
  }

  /** The records one document contributes (none when it is empty or a duplicate). */
  add(document: SourceDocument): PreparedRecord[] {
    this.counts.documents += 1;
    const raw = document.format === 'markdown' ? stripMarkdownNoise(document.text) : document.text;
    const text = cleanText(raw, this.cleanOptions);
    if (text.length === 0) {
      this.counts.emptyDocuments += 1;
      return [];
    }
    const documentKey = createHash('sha256').update(text).digest('hex');
    const exactKey = documentKey.slice(0, 16);
    if (this.settings.dedup.exact) {
      const first = this.exact.get(exactKey);
      if (first !== undefined) {
        this.counts.exactDuplicates += 1;
        this.report({ source: document.source, duplicateOf: this.sources[first] as string, kind: 'exact', similarity: 1 });
        return [];
      }
    }
    if (this.near) {
      const signature = minhashSignature(text, {
        shingleWords: this.settings.dedup.shingleWords,
        permutations: this.settings.dedup.permutations,
      });
      if (signature) {
        const match = this.near.findDuplicate(signature);
        if (match) {
          this.counts.nearDuplicates += 1;
          const owner = this.nearOwners[match.index] as number;
          this.report({ source: document.source, duplicateOf: this.sources[owner] as string, kind: 'near', similarity: match.similarity });
          return [];
        }
        this.near.add(signature);
        this.nearOwners.push(this.sources.length);
      }
    }
    this.exact.set(exactKey, this.sources.length);
    this.sources.push(document.source);
    this.counts.keptDocuments += 1;

    const { chunks, droppedShort } = chunkText(text, this.tokens, this.settings.chunk);
    this.counts.shortChunksDropped += droppedShort;
    const split = assignSplit(documentKey, this.settings.split.testRatio, this.settings.split.seed);
    return chunks.map((chunk, index) => {
      const id = `${documentKey.slice(0, 16)}-${index}`;
      const bucket = Math.min(chunk.tokens, this.histogram.length - 1);
      this.histogram[bucket] = (this.histogram[bucket] as number) + 1;
      this.tokenTotal += chunk.tokens;
      this.chunkCount += 1;
      return {
        split,
        record: {
          id,
          output: chunk.text,
          source: document.source,
          ...(document.title ? { title: document.title } : {}),
          tokens: chunk.tokens,
        },
        context: {
          id,
          title: document.title,
          text: chunk.text,
          chunkIndex: document.continuation ? index + 1 : index,
          author: this.settings.author,
        },
      };
    });
  }

  tokenStats(): TokenStats {
    const stats: TokenStats = { tokenizer: DATASET_TOKENIZER, total: this.tokenTotal, min: 0, max: 0, mean: 0, p50: 0, p95: 0 };
    if (this.chunkCount === 0) return stats;
    const percentile = (share: number) => {
      const target = Math.ceil(share * this.chunkCount);
      let seen = 0;
      for (let tokens = 0; tokens < this.histogram.length; tokens += 1) {
        seen += this.histogram[tokens] as number;
        if (seen >= target) return tokens;
      }
      return this.histogram.length - 1;
    };
    stats.min = this.histogram.findIndex((value) => value > 0);
    stats.max = this.histogram.length - 1 - [...this.histogram].reverse().findIndex((value) => value > 0);
    stats.mean = Math.round((this.tokenTotal / this.chunkCount) * 10) / 10;
    stats.p50 = percentile(0.5);
    stats.p95 = percentile(0.95);
    return stats;
  }

  dedupReport(): Manifest['dedup'] {
    const { dedup } = this.settings;
    return {
      method: `sha256 exact${dedup.near ? ' + MinHash LSH (one-permutation hashing) over word shingles' : ''}`,
      threshold: dedup.threshold,
      shingleWords: dedup.shingleWords,
      permutations: dedup.permutations,
      bands: this.near?.parameters.bands ?? 0,
      rows: this.near?.parameters.rows ?? 0,
      examples: this.examples,
    };
  }

  private report(event: DuplicateEvent): void {
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ ...event, similarity: Math.round(event.similarity * 1000) / 1000 });
    this.onDuplicate?.(event);
  }
}
