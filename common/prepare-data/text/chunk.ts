/**
 * Token-bounded chunks with overlap, cut on paragraph boundaries first and sentence boundaries when a
 * paragraph is too long; a sentence longer than a whole chunk (rare: tables, code, lists without
 * stops) is cut between words. Every chunk is at most `maxTokens`, counted exactly: each unit is counted
 * once and each join adds its exact cost, so whole chunks are never recounted.
 *
 * Overlap repeats the last whole sentences of a chunk (up to `overlapTokens`) at the start of the
 * next, so no passage is only ever seen cut in half. The train/test split is by document, so overlap
 * never leaks text from train into test.
 */

export interface ChunkOptions {
  maxTokens: number;
  overlapTokens: number;
  minTokens: number;
}

export interface Chunk {
  text: string;
  tokens: number;
}

export interface ChunkResult {
  chunks: Chunk[];
  /** Chunks below minTokens that were dropped (a trailing scrap, or a document that is too short). */
  droppedShort: number;
}

/** Exact token counting: whole texts, and the extra tokens a join adds (see tokens.ts). */
export interface TokenCounting {
  count(text: string): number;
  joinCost(a: string, joiner: string, b: string): number;
}

interface Unit {
  text: string;
  tokens: number;
  /** Separator placed before this unit when it follows another: paragraph break or a space. */
  joiner: '\n\n' | ' ';
  /** True for a whole paragraph (can still be split into sentences for overlap). */
  paragraph: boolean;
}

const segmenter = new Intl.Segmenter('und', { granularity: 'sentence' });

/** Sentences of a paragraph, trimmed, via the Unicode sentence rules (UAX #29) in Intl.Segmenter. */
export function splitSentences(paragraph: string): string[] {
  const sentences: string[] = [];
  for (const { segment } of segmenter.segment(paragraph)) {
    const trimmed = segment.trim();
    if (trimmed) sentences.push(trimmed);
  }
  return sentences;
}

export function chunkText(text: string, tokens: TokenCounting, options: ChunkOptions): ChunkResult {
  if (options.maxTokens <= 0 || options.overlapTokens >= options.maxTokens) {
    throw new Error(`invalid chunk options: maxTokens ${options.maxTokens}, overlapTokens ${options.overlapTokens}`);
  }
  const count = (value: string) => tokens.count(value);
  const chunks: Chunk[] = [];
  let current: Unit[] = [];
  // Exact count of joinUnits(current), kept up to date unit by unit (no recount of whole chunks).
  let currentTokens = 0;
  let onlyOverlap = false;

  const costOfAppending = (unit: Unit) => {
    const last = current[current.length - 1];
    return last ? tokens.joinCost(last.text, unit.joiner, unit.text) + unit.tokens : unit.tokens;
  };
  const recount = () => {
    currentTokens = 0;
    const units = current;
    current = [];
    for (const unit of units) {
      currentTokens += costOfAppending(unit);
      current.push(unit);
    }
  };
  const emit = () => {
    if (current.length === 0 || onlyOverlap) return;
    chunks.push({ text: joinUnits(current), tokens: currentTokens });
    current = overlapUnits(current, count, options.overlapTokens);
    recount();
    onlyOverlap = current.length > 0;
  };

  for (const unit of units(text, count, options.maxTokens)) {
    // The cost depends only on the last unit held, so it is recomputed only when `current` changes.
    let cost = costOfAppending(unit);
    while (current.length > 0 && currentTokens + cost > options.maxTokens) {
      if (onlyOverlap) {
        // The carried-over overlap leaves no room for the next unit: shed it from the front.
        current.shift();
        recount();
        if (current.length === 0) onlyOverlap = false;
      } else {
        emit();
      }
      cost = costOfAppending(unit);
    }
    currentTokens += cost;
    current.push(unit);
    onlyOverlap = false;
  }
  emit();

  const kept = chunks.filter((chunk) => chunk.tokens >= options.minTokens);
  return { chunks: kept, droppedShort: chunks.length - kept.length };
}

/** Paragraph units; a paragraph over the limit becomes sentence units (or word pieces). */
function* units(text: string, count: (text: string) => number, maxTokens: number): Generator<Unit> {
  for (const paragraph of text.split(/\n{2,}/)) {
    const trimmed = paragraph.trim();
    if (!trimmed) continue;
    const tokens = count(trimmed);
    if (tokens <= maxTokens) {
      yield { text: trimmed, tokens, joiner: '\n\n', paragraph: true };
      continue;
    }
    let first = true;
    for (const sentence of splitSentences(trimmed)) {
      const sentenceTokens = count(sentence);
      const pieces = sentenceTokens <= maxTokens ? [{ text: sentence, tokens: sentenceTokens }] : splitByWords(sentence, count, maxTokens);
      for (const piece of pieces) {
        yield { text: piece.text, tokens: piece.tokens, joiner: first ? '\n\n' : ' ', paragraph: false };
        first = false;
      }
    }
  }
}

function joinUnits(list: readonly Unit[]): string {
  let text = '';
  list.forEach((unit, index) => {
    text += index === 0 ? unit.text : unit.joiner + unit.text;
  });
  return text;
}

/** The trailing whole sentences of a chunk, up to `budget` tokens. */
function overlapUnits(list: readonly Unit[], count: (text: string) => number, budget: number): Unit[] {
  if (budget <= 0) return [];
  const carried: Unit[] = [];
  let used = 0;
  for (let index = list.length - 1; index >= 0; index -= 1) {
    const unit = list[index] as Unit;
    if (used + unit.tokens + 1 <= budget) {
      carried.unshift(unit);
      used += unit.tokens + 1;
      continue;
    }
    if (unit.paragraph) {
      // Part of a paragraph: its last sentences, if they fit.
      const sentences = splitSentences(unit.text);
      const tail: Unit[] = [];
      for (let s = sentences.length - 1; s >= 0; s -= 1) {
        const sentence = sentences[s] as string;
        const tokens = count(sentence);
        if (used + tokens + 1 > budget) break;
        tail.unshift({ text: sentence, tokens, joiner: ' ', paragraph: false });
        used += tokens + 1;
      }
      if (tail.length > 0) (tail[0] as Unit).joiner = '\n\n';
      carried.unshift(...tail);
    }
    break;
  }
  // The first carried unit starts the next chunk; what it is joined with does not matter.
  return carried;
}

/** Greedy cut between words for text with no usable sentence boundary. */
function splitByWords(text: string, count: (text: string) => number, maxTokens: number): Chunk[] {
  const pieces: Chunk[] = [];
  let words: string[] = [];
  let tokens = 0;
  for (const word of text.split(/\s+/).filter((item) => item.length > 0)) {
    // Exact: words have no inner whitespace, so count("a b c") = count("a") + count(" b") + count(" c").
    const wordTokens = count(words.length === 0 ? word : ` ${word}`);
    if (wordTokens > maxTokens) {
      // One "word" longer than a chunk (a minified blob): cut it by characters.
      if (words.length > 0) pieces.push({ text: words.join(' '), tokens: count(words.join(' ')) });
      words = [];
      tokens = 0;
      pieces.push(...splitByCharacters(word, count, maxTokens));
      continue;
    }
    if (tokens + wordTokens > maxTokens && words.length > 0) {
      pieces.push({ text: words.join(' '), tokens });
      words = [];
      tokens = 0;
    }
    tokens += words.length === 0 ? count(word) : wordTokens;
    words.push(word);
  }
  if (words.length > 0) pieces.push({ text: words.join(' '), tokens });
  return pieces;
}

function splitByCharacters(text: string, count: (text: string) => number, maxTokens: number): Chunk[] {
  const pieces: Chunk[] = [];
  let rest = text;
  while (rest.length > 0) {
    let size = Math.min(rest.length, maxTokens);
    while (size > 1 && count(rest.slice(0, size)) > maxTokens) size = Math.floor(size / 2);
    pieces.push({ text: rest.slice(0, size), tokens: count(rest.slice(0, size)) });
    rest = rest.slice(size);
  }
  return pieces;
}
