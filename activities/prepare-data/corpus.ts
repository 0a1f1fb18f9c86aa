import type { Manifest, PrepareDataSettings } from '../../common/prepare-data/contract';
import { NearDuplicateIndex } from '../../common/prepare-data/text/lsh';
import { minhashSignature } from '../../common/prepare-data/text/minhash';
import { compareForKeep, keepOrder, namedAsCopy } from '../../common/prepare-data/text/keep';
import { identityAt, isSubstantial, mayBeBoilerplate, type PreparedDocument } from './documents';
import { HashTable } from './hash-table';
import type { Genre } from '../../common/prepare-data/text/genre';

/**
 * The corpus-wide decisions, made once every document has been read (the first pass), because each
 * needs the whole corpus: which of two duplicates is the original (the keep rule), which documents are
 * contained in a larger one, which paragraphs repeat across documents, and which prose repeats in so
 * many files that it is boilerplate. What is kept per document is small (its key, its MinHash
 * signature, 52-bit hashes of its paragraphs), never its text: the text waits in a staging file.
 */

export type DuplicatePair = Manifest['dedup']['pairs'][number];

/** What the registry keeps of a document: its entry, less what only the second pass reads, and where it stands. */
type DocumentSummary = Omit<DocumentEntry, 'continuation' | 'genre'> & {
  /** Reading order: the keep rule's last tie-break. */
  position: number;
  /** The source file (a section or record's file), for counting files that share a block. */
  file: number;
};

export interface CorpusPlan {
  /** Dropped documents (by index in reading order) and why. */
  dropped: Map<number, DuplicatePair>;
  /** Prose blocks (by hash) repeated in at least `clean.repeatedBlockMinFiles` files, with that number of files. */
  boilerplate: Map<number, number>;
  /** For each substantial paragraph, the kept document that keeps it; any other drops it. */
  owners: HashTable;
  /** The hashes of a kept document's paragraphs that another kept document keeps (its second pass drops them). */
  foreignParagraphs(index: number): Set<number>;
  counts: { exact: number; near: number; contained: number };
  /** Every pair, up to MAX_PAIRS. */
  pairs: DuplicatePair[];
  lsh: { bands: number; rows: number };
  boilerplateMinFiles: number;
}

const MAX_PAIRS = 10_000;
const NONE: number[] = [];
/** A document is contained when at least this share of its paragraphs are in larger kept documents. */
const CONTAINED_SHARE = 0.9;

export class CorpusRegistry {
  private readonly documents: DocumentSummary[] = [];
  private readonly files = new Map<string, number>();

  constructor(private readonly settings: PrepareDataSettings) {}

  get size(): number {
    return this.documents.length;
  }

  /** Registers a document's entry (documentEntry), in reading order; returns its index. */
  add(entry: DocumentEntry): number {
    const fileName = entry.source.replace(/#.*$/, '');
    let file = this.files.get(fileName);
    if (file === undefined) {
      file = this.files.size;
      this.files.set(fileName, file);
    }
    const { continuation: _continuation, genre: _genre, ...summary } = entry;
    this.documents.push({ ...summary, position: this.documents.length, file });
    return this.documents.length - 1;
  }

  /** The decisions, once: it lets go of the signatures and prose hashes only it needs. */
  decide(): CorpusPlan {
    const { dedup, clean } = this.settings;
    const dropped = new Map<number, DuplicatePair>();
    const pairs: DuplicatePair[] = [];
    const counts = { exact: 0, near: 0, contained: 0 };
    const record = (index: number, pair: DuplicatePair) => {
      dropped.set(index, pair);
      counts[pair.kind] += 1;
      if (pairs.length < MAX_PAIRS) pairs.push(pair);
    };

    // Exact and near duplicates, in the keep rule's order: the first of a group is the one kept.
    // Copy names are read once per document, not once per comparison.
    const candidates = this.documents.map((document) => ({
      source: document.source,
      position: document.position,
      date: document.date,
      copy: namedAsCopy(document.source),
    }));
    const order = this.documents.map((_, index) => index).sort((a, b) => keepOrder(candidates[a]!, candidates[b]!, dedup.keep));
    const exactOwners = new Map<string, number>();
    const near = dedup.near ? new NearDuplicateIndex(dedup.permutations, dedup.threshold) : undefined;
    const nearOwners: number[] = [];
    for (const index of order) {
      const document = this.documents[index]!;
      const exactOwner = dedup.exact ? exactOwners.get(document.exactKey) : undefined;
      if (exactOwner !== undefined) {
        record(index, this.pair(index, exactOwner, 'exact', 1));
        continue;
      }
      if (near && document.signature) {
        const match = near.findDuplicate(document.signature);
        if (match) {
          record(index, this.pair(index, nearOwners[match.index]!, 'near', match.similarity));
          continue;
        }
        near.add(document.signature);
        nearOwners.push(index);
      }
      exactOwners.set(document.exactKey, index);
    }

    // Containment and repeated paragraphs: larger documents first, so a README keeps its paragraphs
    // and the JSONL rows it was also exported as are the ones found contained.
    const owners = new HashTable(16);
    const minFiles = clean.repeatedBlockMinFiles;
    if (dedup.paragraphs) {
      // Paragraphs in many files (a sponsor block, a footer) say nothing about whether one document
      // is another's export: they count neither for nor against containment, unless they are all a
      // document has (then the whole text is what repeats).
      const common = minFiles > 0 ? this.repeatedInFiles(dropped, (document) => document.paragraphs, minFiles) : new Map<number, number>();
      const rank = new Int32Array(order.length);
      order.forEach((index, position) => (rank[index] = position));
      const bySize = this.documents
        .map((_, index) => index)
        .filter((index) => !dropped.has(index))
        .sort((a, b) => this.documents[b]!.chars - this.documents[a]!.chars || rank[a]! - rank[b]!);
      for (const index of bySize) {
        const { paragraphs } = this.documents[index]!;
        // A document's own paragraphs decide; only a document with nothing but common ones (a whole
        // text repeated in several files, an export of one) is judged on all of them.
        let own = 0;
        for (const hash of paragraphs) if (!common.has(hash)) own += 1;
        const judged = own > 0 ? (hash: number) => !common.has(hash) : () => true;
        if (own === 0) own = paragraphs.length;
        const taken = new Map<number, number>();
        for (const hash of paragraphs) {
          if (!judged(hash)) continue;
          const owner = owners.get(hash);
          if (owner !== -1 && owner !== index) taken.set(owner, (taken.get(owner) ?? 0) + 1);
        }
        const takenCount = [...taken.values()].reduce((sum, value) => sum + value, 0);
        if (own > 0 && takenCount >= CONTAINED_SHARE * own) {
          const [container] = [...taken.entries()].sort((a, b) => b[1] - a[1])[0]!;
          record(index, {
            ...this.pair(index, container, 'contained', takenCount / own),
            rule:
              taken.size === 1
                ? 'contained: its paragraphs are in a larger document'
                : `contained: its paragraphs are in ${taken.size} larger documents`,
          });
          continue;
        }
        for (const hash of paragraphs) if (!owners.has(hash)) owners.set(hash, index);
      }
    }

    // Boilerplate: prose in at least `minFiles` files of what is left, counted after the duplicates and
    // contained documents are gone, so a README that also came as a JSONL export and an edited copy is
    // not mistaken for boilerplate of itself.
    const boilerplate = minFiles > 0 ? this.repeatedInFiles(dropped, (document) => document.prose, minFiles) : new Map<number, number>();
    // The second pass needs only the paragraphs (and the names, for the pairs): the rest goes now.
    for (const document of this.documents) {
      document.prose = NONE;
      delete document.signature;
    }

    return {
      dropped,
      boilerplate,
      owners,
      foreignParagraphs: (index) =>
        new Set(
          this.documents[index]!.paragraphs.filter((hash) => {
            const owner = owners.get(hash);
            return owner !== -1 && owner !== index;
          }),
        ),
      counts,
      pairs,
      lsh: near ? near.parameters : { bands: 0, rows: 0 },
      boilerplateMinFiles: minFiles,
    };
  }

  /**
   * The hashes (of `blocksOf` each document not dropped) found in at least `minFiles` files, with
   * their number of files. One entry per (block, file) goes into a typed array; sorted, a run of one
   * hash is the number of files that have it.
   */
  private repeatedInFiles(
    dropped: ReadonlyMap<number, unknown>,
    blocksOf: (document: DocumentSummary) => readonly number[],
    minFiles: number,
  ): Map<number, number> {
    let room = 0;
    this.documents.forEach((document, index) => (room += dropped.has(index) ? 0 : blocksOf(document).length));
    const entries = new Float64Array(room);
    let used = 0;
    let file = -1;
    const inFile = new Set<number>();
    this.documents.forEach((document, index) => {
      if (dropped.has(index)) return;
      // A file's documents are consecutive (reading order): a hash counts once per file.
      if (document.file !== file) {
        file = document.file;
        inFile.clear();
      }
      for (const hash of blocksOf(document)) {
        if (inFile.has(hash)) continue;
        inFile.add(hash);
        entries[used++] = hash;
      }
    });
    const sorted = entries.subarray(0, used).sort();
    const repeated = new Map<number, number>();
    for (let start = 0; start < sorted.length;) {
      let end = start + 1;
      while (end < sorted.length && sorted[end] === sorted[start]) end += 1;
      if (end - start >= minFiles) repeated.set(sorted[start]!, end - start);
      start = end;
    }
    return repeated;
  }

  private pair(index: number, keptIndex: number, kind: DuplicatePair['kind'], similarity: number): DuplicatePair {
    const dropped = this.documents[index]!;
    const kept = this.documents[keptIndex]!;
    return {
      source: dropped.source,
      duplicateOf: kept.source,
      kind,
      similarity: Math.round(similarity * 1000) / 1000,
      rule: compareForKeep(kept, dropped, this.settings.dedup.keep).reason,
    };
  }
}

/**
 * What the corpus decisions (and the second pass's genre of a continued part) need of one document:
 * small, computed with the document (here or on a helper thread), never its text.
 */
export interface DocumentEntry {
  source: string;
  continuation?: boolean;
  genre: Genre;
  date?: number;
  chars: number;
  exactKey: string;
  /** MinHash signature, when near dedup is on. */
  signature?: Uint32Array;
  /** Hashes of its substantial blocks (paragraph dedup, containment). */
  paragraphs: number[];
  /** Hashes of its prose blocks (what boilerplate is counted on). */
  prose: number[];
}

export function documentEntry(document: PreparedDocument, settings: PrepareDataSettings): DocumentEntry {
  const paragraphs: number[] = [];
  const prose: number[] = [];
  for (let index = 0; index < document.blocks.length; index += 1) {
    const block = document.blocks[index]!;
    // Headings and rules are structure: never compared, never boilerplate.
    if (block.kind === 'heading' || block.kind === 'rule') continue;
    const identity = identityAt(document, index);
    const substantial = isSubstantial(block, identity);
    const mayRepeat = mayBeBoilerplate(block, identity);
    if (substantial) paragraphs.push(identity.hash);
    if (mayRepeat) prose.push(identity.hash);
  }
  const signature = documentSignature(document, settings);
  return {
    source: document.source,
    ...(document.continuation ? { continuation: true } : {}),
    genre: document.genre,
    ...(document.date === undefined ? {} : { date: document.date }),
    chars: document.chars,
    exactKey: document.key.slice(0, 16),
    ...(signature ? { signature } : {}),
    paragraphs,
    prose,
  };
}

/** A document's MinHash signature, when near dedup is on. */
function documentSignature(document: PreparedDocument, settings: PrepareDataSettings): Uint32Array | undefined {
  const { dedup } = settings;
  if (!dedup.near) return undefined;
  return minhashSignature(document.blocks.map((block) => block.text).join('\n\n'), {
    shingleWords: dedup.shingleWords,
    permutations: dedup.permutations,
  });
}
