import type { DatasetRecord, PrepareDataSettings } from '../../common/prepare-data/contract';
import { fencesBalanced, holdsNestedFence, NestedFenceTracker, type Block } from '../../common/prepare-data/text/blocks';
import { chunkBlocks } from '../../common/prepare-data/text/chunk';
import { plainText } from '../../common/prepare-data/text/clean';
import type { Genre } from '../../common/prepare-data/text/genre';
import { templateInstruction, type InstructContext } from '../../common/prepare-data/text/instruct';
import { assignSplit, type SplitName } from '../../common/prepare-data/text/split';
import type { TokenCounting } from '../../common/prepare-data/text/chunk';
import { blockFingerprintText, identityAt, isSubstantial, mayBeBoilerplate, type PreparedDocument } from './documents';

/**
 * The second pass for one document, on its own (so a helper thread can run it): drop what the corpus
 * plan said to drop (boilerplate, paragraphs another kept document keeps), chunk what is left, assign
 * the split by document, phrase template instructions, and measure the records for the quality report
 * (their fences, where they start and end, the paragraphs they hold). DatasetBuilder adds the results up.
 */

export interface PreparedRecord {
  split: SplitName;
  record: Omit<DatasetRecord, 'instruction'>;
  context: InstructContext;
}

/** A built record: its context only when the instruction is still to be phrased (by a generator). */
export type BuiltRecord = Omit<PreparedRecord, 'context'> & { context?: InstructContext };

/** What the second pass needs of the corpus plan for one document. */
export interface BuildPlan {
  settings: PrepareDataSettings;
  /** Boilerplate block hashes (removed everywhere). */
  boilerplate: ReadonlySet<number>;
}

export interface DocumentBuild {
  /** The document's split (by document: every record of it is in the same one); none when nothing was kept. */
  split?: SplitName;
  records: BuiltRecord[];
  /** The template instruction of each record, when asked for (then the records carry no context). */
  instructions?: string[];
  genre?: Genre;
  shortChunksDropped: number;
  repeatedParagraphsRemoved: number;
  boilerplateBlocksRemoved: number;
  /** The first text of each boilerplate block met, for the report. */
  boilerplateSamples: Array<[number, string]>;
  blocksSplit: number;
  /** Per record: its tokens, and whether its fences balance, it starts or ends inside a block, it ends on a heading. */
  measures: Array<{ tokens: number; balanced: boolean; startsInside: boolean; endsInside: boolean; endsOnHeading: boolean }>;
  /** Hashes of the substantial paragraphs its records hold (for the train/test overlap count). */
  paragraphs: number[];
}

/**
 * Builds one kept document. `foreign` holds the hashes of its paragraphs that another kept document
 * keeps (they are dropped here); `templated` phrases the template instructions here too.
 */
export function buildDocument(
  document: PreparedDocument,
  foreign: ReadonlySet<number>,
  plan: BuildPlan,
  tokens: TokenCounting,
  templated: boolean,
): DocumentBuild {
  const { settings } = plan;
  const build: DocumentBuild = {
    records: [],
    shortChunksDropped: 0,
    repeatedParagraphsRemoved: 0,
    boilerplateBlocksRemoved: 0,
    boilerplateSamples: [],
    blocksSplit: 0,
    measures: [],
    paragraphs: [],
  };
  const { blocks, substantialHashes } = keptBlocks(document, foreign, plan, build);
  if (blocks.length === 0) return build;
  build.genre = document.genre;

  const { chunks, droppedShort, blocksSplit } = chunkBlocks(blocks, tokens, settings.chunk);
  build.shortChunksDropped = droppedShort;
  build.blocksSplit = blocksSplit;
  const split = assignSplit(document.key, settings.split.testRatio, settings.split.seed);
  build.split = split;
  const sections = sectionsOf(blocks, document.previous?.heading);
  let previousBlocks = new Set<number>();
  // A continuation's first part goes on from the document cut off before it.
  let previous: InstructContext['previous'] = document.previous;
  chunks.forEach((chunk, position) => {
    const id = `${document.key.slice(0, 16)}-${position}`;
    const last = chunk.blocks[chunk.blocks.length - 1]!;
    build.measures.push({
      tokens: chunk.tokens,
      balanced: fencesBalanced(chunk.text),
      startsInside: chunk.startsInside,
      endsInside: chunk.endsInside,
      endsOnHeading: blocks[last]!.kind === 'heading',
    });
    for (const blockIndex of chunk.blocks) {
      const hash = substantialHashes[blockIndex]!;
      if (hash >= 0) build.paragraphs.push(hash);
    }
    // What the chunk adds: the blocks the part before did not hold (overlap repeats a few of them).
    // A block cut into pieces goes on from the part before: its next piece is new text too.
    const fresh = chunk.blocks.filter((blockIndex, at) => !previousBlocks.has(blockIndex) || (at === 0 && chunk.startsInside));
    const added = (fresh.length > 0 ? fresh : chunk.blocks).map((blockIndex) => blocks[blockIndex]!);
    const prose = added
      .filter((block) => block.kind !== 'code' && block.kind !== 'table')
      .map((block) => withoutNestedCode(block.text))
      .join('\n\n');
    const heading = added
      .filter((block) => block.kind === 'heading')
      .map((block) => plainText(block.text))
      .find(Boolean);
    const first = fresh[0] ?? chunk.blocks[0]!;
    // The section the new text starts in, unless the new text starts by opening one.
    const section = blocks[first]!.kind === 'heading' ? undefined : sections[first];
    build.records.push({
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
        genre: document.genre,
        ...(document.title ? { title: document.title } : {}),
        text: chunk.text,
        prose,
        ...(heading ? { heading } : {}),
        ...(section ? { section } : {}),
        ...(previous ? { previous } : {}),
        chunkIndex: document.continuation ? position + 1 : position,
        hasCode: added.some(
          (block) => block.kind === 'code' || ((block.kind === 'list' || block.kind === 'quote') && holdsNestedFence(block.text)),
        ),
        author: settings.author,
      },
    });
    const endedIn = sections[last];
    previous = endedIn ? { heading: endedIn } : { prose };
    previousBlocks = new Set(chunk.blocks);
  });
  if (templated) {
    // Phrased here; the context (most of a record's size) need not travel any further.
    build.instructions = build.records.map((record) => templateInstruction(record.context!));
    build.records = build.records.map(({ split, record }) => ({ split, record }));
  }
  return build;
}

/** The document's blocks less boilerplate and the paragraphs another kept document keeps; per kept block, its hash if substantial (else -1). */
function keptBlocks(
  document: PreparedDocument,
  foreign: ReadonlySet<number>,
  plan: BuildPlan,
  build: DocumentBuild,
): { blocks: Block[]; substantialHashes: number[] } {
  const { boilerplate, settings } = plan;
  const kept: Array<{ block: Block; hash: number }> = [];
  const samples = new Set<number>();
  document.blocks.forEach((block, position) => {
    let hash = -1;
    if (block.kind !== 'heading' && block.kind !== 'rule') {
      const identity = identityAt(document, position);
      const substantial = isSubstantial(block, identity);
      if (substantial || mayBeBoilerplate(block, identity)) {
        if (boilerplate.has(identity.hash)) {
          build.boilerplateBlocksRemoved += 1;
          // The report shows each one's text, taken when first met (the first pass keeps no text).
          if (!samples.has(identity.hash)) {
            samples.add(identity.hash);
            build.boilerplateSamples.push([identity.hash, blockFingerprintText(block).slice(0, 160)]);
          }
          return;
        }
        if (substantial && settings.dedup.paragraphs && foreign.has(identity.hash)) {
          build.repeatedParagraphsRemoved += 1;
          return;
        }
      }
      if (substantial) hash = identity.hash;
    }
    kept.push({ block, hash });
  });
  const headed = withoutEmptySections(kept);
  return { blocks: headed.map((item) => item.block), substantialHashes: headed.map((item) => item.hash) };
}

/** For each block, the plain text of the last heading at or before it (the section it is in). */
/** A list's or a quote's text less the fenced code nested in it: topic words come from prose only. */
function withoutNestedCode(text: string): string {
  if (!holdsNestedFence(text)) return text;
  const fences = new NestedFenceTracker();
  return text
    .split('\n')
    .filter((line) => !fences.push(line))
    .join('\n');
}

/** Per block, the section it is in: its last heading, or for a continuation, the section the part before ended in. */
function sectionsOf(blocks: readonly Block[], inherited?: string): Array<string | undefined> {
  let current = inherited;
  return blocks.map((block) => {
    if (block.kind === 'heading') current = plainText(block.text) || current;
    return current;
  });
}

/**
 * Headings whose sections are left empty (their text was boilerplate or is kept by another document)
 * head nothing: a heading stays only when some text follows it before the next heading of its level
 * or higher (`## Sponsors` followed by `## License` goes).
 */
function withoutEmptySections<T extends { block: Block }>(items: readonly T[]): T[] {
  const keep = new Array<boolean>(items.length).fill(true);
  // Walking back, for each level, whether text appears before the next heading at that level or above.
  const textBelow = new Array<boolean>(8).fill(false);
  for (let index = items.length - 1; index >= 0; index -= 1) {
    const { block } = items[index]!;
    if (block.kind !== 'heading') {
      textBelow.fill(true);
      continue;
    }
    const level = block.level ?? 1;
    keep[index] = textBelow[level]!;
    // This heading closes the sections of its level and the deeper ones above it.
    for (let deeper = level; deeper < textBelow.length; deeper += 1) textBelow[deeper] = false;
  }
  return items.filter((_, index) => keep[index]);
}
