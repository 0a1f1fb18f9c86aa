import { holdsNestedFence, NestedFenceTracker, type Block } from './blocks';

/**
 * Token-bounded chunks of whole blocks (blocks.ts), with overlap. A chunk is cut between blocks; a
 * block is cut only when it alone is longer than a chunk, and then where its structure allows: fenced
 * code between lines, with the fence closed at the end of each piece and reopened (same fence, same
 * language) at the start of the next; a list between its items; a table between rows, each piece with
 * the header repeated; prose between sentences, the original characters kept (line breaks included).
 * Every chunk is at most `maxTokens`, counted exactly: each unit is counted once and each join adds
 * its exact cost, so whole chunks are never recounted.
 *
 * Overlap repeats whole trailing units of a chunk (up to `overlapTokens`) verbatim at the start of the
 * next. A heading never ends a chunk: it moves to the next one, with the text it heads. The train/test
 * split is by document, so overlap never leaks text from train into test.
 */

export interface ChunkOptions {
  maxTokens: number;
  overlapTokens: number;
  minTokens: number;
}

export interface Chunk {
  text: string;
  tokens: number;
  /** Indexes of the document's blocks the chunk holds (whole or a piece). */
  blocks: number[];
  /** The chunk begins with a later piece of a block that alone was longer than a chunk. */
  startsInside: boolean;
  /** The chunk ends with a piece of such a block that is not its last. */
  endsInside: boolean;
}

export interface ChunkResult {
  chunks: Chunk[];
  /** Chunks below minTokens that were dropped (a trailing scrap, or a document that is too short). */
  droppedShort: number;
  /** Blocks that alone were longer than a chunk and were cut into pieces. */
  blocksSplit: number;
}

/** Exact token counting: whole texts, and the extra tokens a join adds (see tokens.ts). */
export interface TokenCounting {
  count(text: string): number;
  joinCost(a: string, joiner: string, b: string): number;
}

interface Unit {
  text: string;
  tokens: number;
  block: number;
  /** 0-based piece of its block, and how many pieces the block was cut into (1: whole). */
  piece: number;
  pieces: number;
  heading: boolean;
}

const JOINER = '\n\n';
const segmenter = new Intl.Segmenter('und', { granularity: 'sentence' });

/** Sentences of a text as slices of it (UAX #29 via Intl.Segmenter): joined again, they are the text. */
export function sentenceSlices(text: string): string[] {
  return [...segmenter.segment(text)].map(({ segment }) => segment);
}

export function chunkBlocks(blocks: readonly Block[], tokens: TokenCounting, options: ChunkOptions): ChunkResult {
  if (options.maxTokens <= 0 || options.overlapTokens >= options.maxTokens) {
    throw new Error(`invalid chunk options: maxTokens ${options.maxTokens}, overlapTokens ${options.overlapTokens}`);
  }
  const chunks: Chunk[] = [];
  let blocksSplit = 0;
  let current: Unit[] = [];
  // Exact count of the joined `current`, kept up to date unit by unit (no recount of whole chunks), and
  // the count of each prefix of it, so the part of `current` that is emitted needs no recount either.
  let currentTokens = 0;
  let prefixTokens: number[] = [];
  // True while `current` holds only what was carried over from the previous chunk: overlap units
  // (`overlapHeld` of them, at the front, already emitted once) and then headings (never emitted yet).
  let onlyCarried = false;
  let overlapHeld = 0;

  const costOfAppending = (unit: Unit) => {
    const last = current[current.length - 1];
    return last ? tokens.joinCost(last.text, JOINER, unit.text) + unit.tokens : unit.tokens;
  };
  const append = (unit: Unit, cost: number) => {
    currentTokens += cost;
    current.push(unit);
    prefixTokens.push(currentTokens);
  };
  const reset = (units: Unit[]) => {
    current = [];
    prefixTokens = [];
    currentTokens = 0;
    for (const unit of units) append(unit, costOfAppending(unit));
  };
  const push = (units: readonly Unit[], tokensOfUnits: number) => {
    const first = units[0]!;
    const last = units[units.length - 1]!;
    chunks.push({
      text: units.map((unit) => unit.text).join(JOINER),
      tokens: tokensOfUnits,
      blocks: [...new Set(units.map((unit) => unit.block))],
      startsInside: first.piece > 0,
      endsInside: last.piece < last.pieces - 1,
    });
  };
  /** Emits what is held, less trailing headings (they head the next chunk); false when only headings are held. */
  const emit = (): boolean => {
    if (onlyCarried) return true;
    let body = current.length;
    while (body > 0 && current[body - 1]!.heading) body -= 1;
    if (body === 0) return current.length === 0;
    const kept = current.slice(0, body);
    const headings = current.slice(body);
    push(kept, prefixTokens[body - 1]!);
    const overlap = overlapOf(kept, options.overlapTokens);
    reset([...overlap, ...headings]);
    overlapHeld = overlap.length;
    onlyCarried = current.length > 0;
    return true;
  };

  for (const unit of unitsOf(blocks, tokens, options.maxTokens, () => (blocksSplit += 1))) {
    let cost = costOfAppending(unit);
    while (current.length > 0 && currentTokens + cost > options.maxTokens) {
      if (onlyCarried && overlapHeld > 0) {
        // The overlap leaves no room for the next unit: shed it from the front (never a carried
        // heading: it was held back from the last chunk and must head the next one).
        reset(current.slice(1));
        overlapHeld -= 1;
        if (current.length === 0) onlyCarried = false;
      } else if (onlyCarried) {
        // Only carried headings are left: they are handled like headings held in a fresh chunk.
        onlyCarried = false;
      } else if (!emit()) {
        // Only headings are held, and the next block is too long to join them: they go out alone
        // (rare; the quality report counts chunks that end on a heading).
        push(current, currentTokens);
        reset([]);
      }
      cost = costOfAppending(unit);
    }
    append(unit, cost);
    onlyCarried = false;
    overlapHeld = 0;
  }
  // Headings left at the very end head nothing: there is nothing under them to train on.
  emit();

  const kept = chunks.filter((chunk) => chunk.tokens >= options.minTokens);
  return { chunks: kept, droppedShort: chunks.length - kept.length, blocksSplit };
}

/** The trailing whole units of a chunk, up to `budget` tokens (never all of it, or the next chunk would only repeat it). */
function overlapOf(units: readonly Unit[], budget: number): Unit[] {
  const carried: Unit[] = [];
  let used = 0;
  for (let index = units.length - 1; index > 0; index -= 1) {
    const unit = units[index]!;
    if (used + unit.tokens + 1 > budget) break;
    carried.unshift(unit);
    used += unit.tokens + 1;
  }
  return carried;
}

/**
 * Whole blocks as units; a block over the limit as the pieces its structure allows. A block that must
 * be cut anyway is cut with room for the headings right above it, so its first piece and its
 * headings fit in one chunk and the heading goes with the text it heads.
 */
function* unitsOf(blocks: readonly Block[], tokens: TokenCounting, maxTokens: number, onSplit: () => void): Generator<Unit> {
  let headingTokens = 0;
  for (let index = 0; index < blocks.length; index += 1) {
    const block = blocks[index]!;
    const count = tokens.count(block.text);
    const heading = block.kind === 'heading';
    // Headings that take half a chunk or more are not worth shrinking a block for.
    const headed = headingTokens > 0 && headingTokens < maxTokens / 2;
    if (count <= maxTokens && !(headed && !heading && count + headingTokens > maxTokens)) {
      yield { text: block.text, tokens: count, block: index, piece: 0, pieces: 1, heading };
      headingTokens = heading ? headingTokens + count + tokens.count(JOINER) : 0;
      continue;
    }
    // Cut: it is longer than a chunk, or than what its headings leave of one.
    onSplit();
    const room = headed ? maxTokens - headingTokens : maxTokens;
    headingTokens = 0;
    const pieces = piecesOf(block, tokens, room);
    for (let piece = 0; piece < pieces.length; piece += 1) {
      const text = pieces[piece]!;
      yield { text, tokens: tokens.count(text), block: index, piece, pieces: pieces.length, heading: false };
    }
  }
}

/** Cuts a block that alone is longer than `maxTokens` into pieces that each fit. */
export function piecesOf(block: Block, tokens: TokenCounting, maxTokens: number): string[] {
  const lines = block.text.split('\n');
  const byLines = (parts: readonly string[], before: readonly string[] = [], after: readonly string[] = []) =>
    packLines(parts, before, after, tokens, maxTokens);
  switch (block.kind) {
    case 'code': {
      if (!block.fence) return byLines(lines);
      const opening = lines[0]!;
      const closes = lines.length > 1 && /^ {0,3}(`{3,}|~{3,})\s*$/.test(lines[lines.length - 1]!);
      const closing = closes ? lines[lines.length - 1]! : block.fence.marker;
      return byLines(lines.slice(1, closes ? -1 : undefined), [opening], [closing]);
    }
    case 'table':
      return lines.length > 2 ? byLines(lines.slice(2), lines.slice(0, 2)) : byLines(lines);
    case 'list': {
      const starts = block.itemStarts && block.itemStarts.length > 1 ? block.itemStarts : undefined;
      if (!starts) return linesAcrossFences(lines, tokens, maxTokens);
      const items = starts.map((start, index) =>
        lines
          .slice(start, starts[index + 1] ?? lines.length)
          .join('\n')
          .replace(/\n+$/, ''),
      );
      return packTexts(items, '\n', tokens, maxTokens, (item) => linesAcrossFences(item.split('\n'), tokens, maxTokens));
    }
    case 'quote':
      // A quote holding fenced code is cut by lines, the code's fence closed and reopened; others by sentences.
      if (holdsNestedFence(block.text)) return linesAcrossFences(lines, tokens, maxTokens);
      return packTexts(sentenceSlices(block.text), '', tokens, maxTokens, (sentence) => byLines(sentence.split('\n')), true);
    case 'paragraph':
    case 'html':
      return packTexts(sentenceSlices(block.text), '', tokens, maxTokens, (sentence) => byLines(sentence.split('\n')), true);
    default:
      return byLines(lines);
  }
}

/**
 * Lines of a list item or a quote, cut between lines; fenced code nested in them (`> ```js`, an
 * indented fence in an item) is one part when it fits, and otherwise cut like a code block: each piece
 * with the fence line repeated at its start and a closing fence, under the same container markers, at its end.
 */
function linesAcrossFences(lines: readonly string[], tokens: TokenCounting, maxTokens: number): string[] {
  const fences = new NestedFenceTracker();
  const parts: string[] = [];
  let code: string[] | undefined;
  let close = '';
  const endCode = () => {
    if (!code) return;
    const text = code.join('\n');
    const closed = code.length > 1 && fences.openFence() === undefined;
    if (tokens.count(text) <= maxTokens) parts.push(text);
    else
      parts.push(
        ...packLines(code.slice(1, closed ? -1 : undefined), [code[0]!], [closed ? code[code.length - 1]! : close], tokens, maxTokens),
      );
    code = undefined;
  };
  for (const line of lines) {
    const wasInside = fences.openFence() !== undefined;
    const inside = fences.push(line);
    if (inside && !wasInside) {
      code = [line];
      close = fences.openFence()?.close ?? '';
    } else if (code) {
      code.push(line);
    } else {
      parts.push(line);
    }
    if (code && fences.openFence() === undefined) endCode();
  }
  endCode();
  return packGroups(
    parts,
    '\n',
    (group) => group.join('\n'),
    tokens,
    maxTokens,
    (line) => splitByWords(line, tokens, maxTokens),
  );
}

/**
 * Greedy groups of consecutive parts joined by `joiner`, each group's text (`shape`) at most `maxTokens`.
 * The running count adds each part's tokens and the exact cost of its join, so a long block is not
 * recounted line by line; each finished group is then counted once more, whole, and shortened in the
 * rare case a join next to blank lines or indentation made the running count low.
 */
function packGroups(
  parts: readonly string[],
  joiner: string,
  shape: (group: readonly string[]) => string,
  tokens: TokenCounting,
  maxTokens: number,
  oversized: (part: string) => string[],
): string[] {
  const pieces: string[] = [];
  let group: string[] = [];
  let running = 0;
  const emit = (parts: readonly string[]) => {
    const text = shape(parts);
    if (text.trim() !== '') pieces.push(text);
  };
  const flush = () => {
    while (group.length > 0) {
      let end = group.length;
      while (end > 1 && tokens.count(shape(group.slice(0, end))) > maxTokens) end -= 1;
      emit(group.slice(0, end));
      group = group.slice(end);
    }
    running = 0;
  };
  for (const part of parts) {
    const alone = tokens.count(shape([part]));
    if (alone > maxTokens) {
      flush();
      pieces.push(...oversized(part));
      continue;
    }
    const next = group.length === 0 ? alone : running + tokens.joinCost(group[group.length - 1]!, joiner, part) + tokens.count(part);
    if (group.length > 0 && next > maxTokens) {
      flush();
      group = [part];
      running = alone;
      continue;
    }
    group.push(part);
    running = next;
  }
  flush();
  return pieces;
}

/**
 * Consecutive lines, each group wrapped in `before` and `after` lines (a fence, a table header), every
 * group's text at most `maxTokens`. A line too long on its own is cut by words.
 */
function packLines(
  lines: readonly string[],
  before: readonly string[],
  after: readonly string[],
  tokens: TokenCounting,
  maxTokens: number,
): string[] {
  const wrap = (group: readonly string[]) => [...before, ...group, ...after].join('\n');
  // What the wrapping costs a line (its lines and the line breaks that join them to it).
  const overhead = before.length + after.length > 0 ? tokens.count(wrap(['x'])) - tokens.count('x') : 0;
  // A header or fence line that leaves less than half a chunk is not repeated: pieces go bare.
  if (overhead >= maxTokens / 2) return packLines(lines, [], [], tokens, maxTokens);
  // A line too long on its own, cut by words to fit its wrapping; a join that costs more than
  // counted (next to blank lines or indentation) shrinks the budget until the piece fits.
  const fit = (line: string, budget: number): string[] =>
    splitByWords(line, tokens, Math.max(1, budget)).flatMap((part) => {
      const text = wrap([part]);
      const excess = tokens.count(text) - maxTokens;
      return excess <= 0 || budget <= 1 ? [text] : fit(part, budget - excess);
    });
  return packGroups(lines, '\n', wrap, tokens, maxTokens, (line) => fit(line, maxTokens - overhead));
}

/**
 * Consecutive texts (sentences, list items) joined by `joiner`; a text too long on its own goes through
 * `oversized`. With `trim`, each group's leading and trailing whitespace is dropped (sentence slices
 * carry the spaces between them).
 */
function packTexts(
  texts: readonly string[],
  joiner: string,
  tokens: TokenCounting,
  maxTokens: number,
  oversized: (text: string) => string[],
  trim = false,
): string[] {
  const shape = (parts: readonly string[]) => (trim ? parts.join(joiner).trim() : parts.join(joiner));
  return packGroups(texts, joiner, shape, tokens, maxTokens, (text) => oversized(trim ? text.trim() : text));
}

/**
 * Slices of a line cut between words, packed like any other parts (a running count, so a long line
 * is not recounted word by word); a word longer than a chunk, such as a minified blob, is cut by characters.
 */
function splitByWords(text: string, tokens: TokenCounting, maxTokens: number): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  return packGroups(
    words,
    '',
    (group) => group.join('').trim(),
    tokens,
    maxTokens,
    (word) => splitByCharacters(word.trim(), tokens, maxTokens),
  );
}

function splitByCharacters(word: string, tokens: TokenCounting, maxTokens: number): string[] {
  const pieces: string[] = [];
  let rest = word;
  while (rest !== '') {
    // The longest prefix that fits, by bisection over a window a chunk's worth of characters wide (a
    // token is rarely longer than 8 characters), so a megabyte blob costs a chunk's count per slice.
    let fits = 1;
    let high = Math.min(rest.length, maxTokens * 8);
    if (tokens.count(rest.slice(0, high)) <= maxTokens) fits = high;
    else
      while (high - fits > 1) {
        const middle = (fits + high) >> 1;
        if (tokens.count(rest.slice(0, middle)) <= maxTokens) fits = middle;
        else high = middle;
      }
    // Never between the two halves of a surrogate pair (an emoji): half of one is no character.
    if (fits < rest.length && isHighSurrogate(rest.charCodeAt(fits - 1))) fits += fits === 1 ? 1 : -1;
    pieces.push(rest.slice(0, fits));
    rest = rest.slice(fits);
  }
  return pieces;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
