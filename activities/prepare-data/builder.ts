import type { Manifest, PrepareDataSettings, QualityReport, TokenStats } from '../../common/prepare-data/contract';
import { DATASET_TOKENIZER } from '../../common/prepare-data/contract';
import type { Genre } from '../../common/prepare-data/text/genre';
import type { SplitName } from '../../common/prepare-data/text/split';
import type { CorpusPlan } from './corpus';
import type { DocumentBuild } from './document-build';

/**
 * The second pass's totals: each kept document is built on its own (document-build.ts, here or on a
 * helper thread), in reading order, and its figures are added up here: counts, the token histogram, the
 * quality report's figures, and the paragraphs each split holds (for the train/test overlap count).
 */

const MAX_BOILERPLATE_EXAMPLES = 20;

export class DatasetBuilder {
  readonly counts = { keptDocuments: 0, shortChunksDropped: 0, repeatedParagraphsRemoved: 0, boilerplateBlocksRemoved: 0 };
  private readonly histogram: Uint32Array;
  private tokenTotal = 0;
  private chunkCount = 0;
  private readonly quality = {
    recordsWithBalancedFences: 0,
    recordsStartingInsideBlock: 0,
    recordsEndingInsideBlock: 0,
    recordsEndingOnHeading: 0,
    blocksSplit: 0,
  };
  private readonly genres = new Map<Genre, number>();
  private readonly boilerplateSamples = new Map<number, string>();
  /** Hashes of the substantial paragraphs each split's records hold, for the overlap count. */
  private readonly paragraphs: Record<SplitName, HashList> = { train: new HashList(), test: new HashList() };

  constructor(
    private readonly settings: PrepareDataSettings,
    private readonly plan: CorpusPlan,
  ) {
    this.histogram = new Uint32Array(settings.chunk.maxTokens + 2);
  }

  /** Adds one document's build (in reading order). */
  add(build: DocumentBuild): void {
    this.counts.shortChunksDropped += build.shortChunksDropped;
    this.counts.repeatedParagraphsRemoved += build.repeatedParagraphsRemoved;
    this.counts.boilerplateBlocksRemoved += build.boilerplateBlocksRemoved;
    for (const [hash, text] of build.boilerplateSamples) if (!this.boilerplateSamples.has(hash)) this.boilerplateSamples.set(hash, text);
    if (!build.genre) return;
    this.counts.keptDocuments += 1;
    this.genres.set(build.genre, (this.genres.get(build.genre) ?? 0) + 1);
    this.quality.blocksSplit += build.blocksSplit;
    for (const measure of build.measures) {
      const bucket = Math.min(measure.tokens, this.histogram.length - 1);
      this.histogram[bucket] = this.histogram[bucket]! + 1;
      this.tokenTotal += measure.tokens;
      this.chunkCount += 1;
      if (measure.balanced) this.quality.recordsWithBalancedFences += 1;
      if (measure.startsInside) this.quality.recordsStartingInsideBlock += 1;
      if (measure.endsInside) this.quality.recordsEndingInsideBlock += 1;
      if (measure.endsOnHeading) this.quality.recordsEndingOnHeading += 1;
    }
    if (build.split) for (const hash of build.paragraphs) this.paragraphs[build.split].push(hash);
  }

  qualityReport(): QualityReport {
    const overlap = sharedCount(this.paragraphs.train.sortedUnique(), this.paragraphs.test.sortedUnique());
    return {
      records: this.chunkCount,
      tokens: this.tokenTotal,
      ...this.quality,
      balancedFencesShare:
        this.chunkCount === 0 ? 1 : Math.round((this.quality.recordsWithBalancedFences / this.chunkCount) * 10_000) / 10_000,
      trainTestParagraphOverlap: overlap,
      genres: Object.fromEntries([...this.genres.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
    };
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
      method: `exact (the same blocks)${dedup.near ? ' + MinHash LSH (one-permutation hashing) over word shingles' : ''}${dedup.paragraphs ? ' + paragraph-level exact (containment, repeated paragraphs)' : ''}`,
      threshold: dedup.threshold,
      shingleWords: dedup.shingleWords,
      permutations: dedup.permutations,
      bands: this.plan.lsh.bands,
      rows: this.plan.lsh.rows,
      keep: dedup.keep,
      pairs: this.plan.pairs,
    };
  }

  boilerplateReport(): Manifest['boilerplate'] {
    const { boilerplate, boilerplateMinFiles } = this.plan;
    return {
      minFiles: boilerplateMinFiles,
      distinct: boilerplate.size,
      removed: this.counts.boilerplateBlocksRemoved,
      examples: [...boilerplate]
        .map(([hash, files]) => ({ text: this.boilerplateSamples.get(hash) ?? '', files }))
        .sort((a, b) => b.files - a.files || (a.text < b.text ? -1 : 1))
        .slice(0, MAX_BOILERPLATE_EXAMPLES),
    };
  }
}

/** A growing list of hashes in a typed array (8 bytes each, nothing for the collector to trace). */
class HashList {
  private values = new Float64Array(1024);
  private length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = value;
    this.length += 1;
  }

  /** The distinct values, ascending. */
  sortedUnique(): Float64Array {
    const sorted = this.values.slice(0, this.length).sort();
    let unique = 0;
    for (let index = 0; index < sorted.length; index += 1)
      if (index === 0 || sorted[index] !== sorted[index - 1]) sorted[unique++] = sorted[index]!;
    return sorted.subarray(0, unique);
  }
}

/** How many values two ascending lists of distinct values share. */
function sharedCount(a: Float64Array, b: Float64Array): number {
  let shared = 0;
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    if (a[i] === b[j]) {
      shared += 1;
      i += 1;
      j += 1;
    } else if (a[i]! < b[j]!) i += 1;
    else j += 1;
  }
  return shared;
}
