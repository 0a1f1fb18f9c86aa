import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * Exact cl100k_base token counts (gpt-tokenizer, pure JS, vocabulary shipped in the package: works
 * offline), made fast by caching counts per "unit".
 *
 * Why cl100k_base: Llama 3's tokenizer is cl100k_base plus 28k extra tokens with the same
 * pre-tokenizer, so counts are close for the models we fine-tune; other tokenizers differ by a few per
 * cent, which the default chunk size leaves room for.
 *
 * Why units: BPE never merges across pre-tokenizer pieces, and cl100k's pre-tokenizer never makes a
 * piece that crosses from a non-space into a following space. So a text splits into units (a run of
 * whitespace plus the run of non-whitespace after it) whose counts add up exactly to the count of the
 * whole. The one piece that does cross into whitespace is punctuation followed by newlines (".\n\n"),
 * so we never cut before a newline unless an ASCII letter or digit precedes it. Natural text repeats
 * its units (" the", " and,") constantly, so a small cache answers most of them.
 */
const MAX_CACHED_UNIT = 48;
const INITIAL_TABLE_BITS = 12;
/** Cache entries before it starts over: bounded memory whatever the corpus (an 8 MiB table at most). */
const MAX_CACHE_ENTRIES = 200_000;
/** Join costs are cached per (joiner, neighbouring unit); the same bound, far fewer entries in practice. */
const MAX_JOIN_ENTRIES = 100_000;
const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() };
// FNV-1a's offset basis cut to 30 bits, so V8 keeps the hash a small integer from the start (with the
// full 32-bit constant it starts as a boxed number and the whole scan is measurably slower).
const FNV_OFFSET = 0x011c9dc5;
// The second hash's start, also a small integer; its mixing step differs from FNV's (add, multiply by
// another odd constant, fold the high bits down), so the two hashes collide independently.
const SECOND_OFFSET = 0x2545f491;
const SLOT_SHIFT = 2;
const SLOT_INTS = 1 << SLOT_SHIFT;
const SPACE_LETTER_OR_NUMBER = /[\s\p{L}\p{N}]/u;

export class TokenCounter {
  // An open-addressing table keyed by two independent hashes computed during the scan, plus the unit's
  // length. A hit compares only numbers in one typed array (four neighbouring slots: one cache line),
  // never the unit's string: measured, comparing the stored string in place cost more than the rest of
  // the lookup, because each stored string sits somewhere else on the heap. Two 32-bit hashes and the
  // length agree for two different units with odds of about 2^-64 per probe (checked: no two of 5.5
  // million distinct units, the 200 MiB bench corpus's and generated ones, agree on all three). It
  // starts small and doubles at half load (a small table stays in the CPU cache).
  private table = new Int32Array(SLOT_INTS << INITIAL_TABLE_BITS);
  private entries = 0;
  /** Join costs by (joiner + b's first unit) and by (a's trailing punctuation + newlines). */
  private readonly joinsBefore = new Map<string, number>();
  private readonly joinsAfter = new Map<string, number>();

  /** Exact token count of `text` under cl100k_base. */
  count(text: string): number {
    let total = 0;
    let start = 0;
    let hash = FNV_OFFSET;
    let second = SECOND_OFFSET;
    // Leading whitespace belongs to the first unit: behave as if a space came before the text.
    let previousIsSpace = true;
    const length = text.length;
    for (let index = 0; index <= length; index += 1) {
      const code = index < length ? text.charCodeAt(index) : 32;
      if (code > 32) {
        // The common case: a character inside a unit.
        hash = Math.imul(hash ^ code, 0x01000193);
        second = Math.imul(second + code, 0x2c1b3c6d) ^ (second >>> 15);
        previousIsSpace = false;
        continue;
      }
      const space = isSpace(code);
      // previousIsSpace is false only after a character, so index - 1 is in range. The end of the
      // text acts as a space: it closes the last unit.
      if (
        space &&
        !previousIsSpace &&
        ((code !== 10 && code !== 13) || index === length || isAsciiAlphanumeric(text.charCodeAt(index - 1)))
      ) {
        total += this.lookup(text, start, index, hash, second);
        start = index;
        hash = FNV_OFFSET;
        second = SECOND_OFFSET;
      }
      hash = Math.imul(hash ^ code, 0x01000193);
      second = Math.imul(second + code, 0x2c1b3c6d) ^ (second >>> 15);
      previousIsSpace = space;
    }
    // A text that ends in whitespace ends with a unit the end did not close: counted directly (rare:
    // cleaned text has no trailing whitespace).
    if (start < length) total += countCl100k(text.slice(start), ENCODE_OPTIONS);
    return total;
  }

  /**
   * Exact extra tokens from joining two texts: count(a + joiner + b) - count(a) - count(b). Only the
   * last unit of `a` and the first unit of `b` can interact with the joiner, so only they are counted.
   */
  joinCost(a: string, joiner: string, b: string): number {
    const last = a.charCodeAt(a.length - 1);
    const first = joiner.charCodeAt(0);
    if (a.length > 0 && joiner.length > 0 && !isSpace(last) && isSpace(first)) {
      if ((first !== 10 && first !== 13) || isAsciiAlphanumeric(last)) {
        // `count` cuts right before the joiner: `a` is untouched and the joiner opens b's first unit.
        return this.cachedJoin(this.joinsBefore, joiner + b.slice(0, firstCut(b)), joiner.length, Infinity);
      }
      // Newlines after punctuation glue to it (".\n\n" is one piece), and b after them stands alone.
      const run = trailingPunctuation(a);
      if (run < a.length && isNewlines(joiner)) return this.cachedJoin(this.joinsAfter, a.slice(run) + joiner, 0, a.length - run);
    }
    // Anything else (a letter outside ASCII before a newline, unusual joiners): count the region exactly.
    const head = b.slice(0, firstCut(b));
    const tail = a.slice(lastCut(a));
    return this.count(tail + joiner + head) - this.count(tail) - this.count(head);
  }

  /** count(key) - count(key.slice(from, to)), cached: what the joiner adds to the part that stands alone. */
  private cachedJoin(cache: Map<string, number>, key: string, from: number, to: number): number {
    let cost = cache.get(key);
    if (cost === undefined) {
      // Straight to the tokenizer: a miss here is rare, and short strings kept away from `count` keep
      // V8 optimising its loop for the long texts it mostly sees (measured: about a third faster).
      cost = countCl100k(key, ENCODE_OPTIONS) - countCl100k(key.slice(from, to), ENCODE_OPTIONS);
      if (cache.size >= MAX_JOIN_ENTRIES) cache.clear();
      cache.set(key, cost);
    }
    return cost;
  }

  private lookup(text: string, start: number, end: number, hash: number, second: number): number {
    const length = end - start;
    if (length > MAX_CACHED_UNIT) return countCl100k(text.slice(start, end), ENCODE_OPTIONS);
    const table = this.table;
    const mask = (table.length >> SLOT_SHIFT) - 1;
    let slot = (hash ^ Math.imul(length, 0x9e3779b1)) & mask;
    for (let at = slot << SLOT_SHIFT; table[at + 2] !== 0; at = slot << SLOT_SHIFT) {
      if (table[at] === hash && table[at + 1] === second && table[at + 2] === length) return table[at + 3] as number;
      slot = (slot + 1) & mask;
    }
    return this.miss(text.slice(start, end), hash, second, slot);
  }

  /** Counts a unit not seen yet and remembers it (kept out of `lookup`, so the hot path stays small). */
  private miss(unit: string, hash: number, second: number, slot: number): number {
    const count = countCl100k(unit, ENCODE_OPTIONS);
    if (this.entries >= MAX_CACHE_ENTRIES) {
      // Start over rather than grow without bound (the table keeps its size).
      this.table.fill(0);
      this.entries = 0;
    } else if ((this.entries + 1) * 2 > this.table.length >> SLOT_SHIFT) {
      this.grow();
      return this.store(hash, second, unit.length, count);
    }
    this.put(slot << SLOT_SHIFT, hash, second, unit.length, count);
    return count;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.entries = 0;
    for (let at = 0; at < old.length; at += SLOT_INTS) {
      if (old[at + 2] !== 0) this.store(old[at] as number, old[at + 1] as number, old[at + 2] as number, old[at + 3] as number);
    }
  }

  private store(hash: number, second: number, length: number, count: number): number {
    const table = this.table;
    const mask = (table.length >> SLOT_SHIFT) - 1;
    let slot = (hash ^ Math.imul(length, 0x9e3779b1)) & mask;
    while (table[(slot << SLOT_SHIFT) + 2] !== 0) slot = (slot + 1) & mask;
    this.put(slot << SLOT_SHIFT, hash, second, length, count);
    return count;
  }

  /** A slot is [hash, second hash, length, count]; length 0 marks it empty (a unit is never empty). */
  private put(at: number, hash: number, second: number, length: number, count: number): void {
    this.table[at] = hash;
    this.table[at + 1] = second;
    this.table[at + 2] = length;
    this.table[at + 3] = count;
    this.entries += 1;
  }
}
/** The tokenizer's own count of the whole text, without the unit cache (tests compare the two). */
export function countTokensDirect(text: string): number {
  return countCl100k(text, ENCODE_OPTIONS);
}

/** Whether `count` cuts a unit just before index `at` (whitespace after non-whitespace, see above). */
function isCut(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  const before = text.charCodeAt(at - 1);
  if (!isSpace(code) || isSpace(before)) return false;
  return !((code === 10 || code === 13) && !isAsciiAlphanumeric(before));
}

function lastCut(text: string): number {
  for (let index = text.length - 1; index >= 1; index -= 1) if (isCut(text, index)) return index;
  return 0;
}

function firstCut(text: string): number {
  for (let index = 1; index < text.length; index += 1) if (isCut(text, index)) return index;
  return text.length;
}

/**
 * Where cl100k's ` ?[^\s\p{L}\p{N}]+[\r\n]*` piece would start at the end of `text`: the run of
 * punctuation and symbols it ends with, plus one space before it; `text.length` when it ends otherwise.
 */
function trailingPunctuation(text: string): number {
  let start = text.length;
  while (start > 0) {
    const code = text.charCodeAt(start - 1);
    if (
      code < 128
        ? isSpace(code) || isAsciiAlphanumeric(code)
        : SPACE_LETTER_OR_NUMBER.test(text.slice(surrogateStart(text, start - 1), start))
    )
      break;
    start -= 1;
  }
  if (start < text.length && start > 0 && text.charCodeAt(start - 1) === 32) start -= 1;
  return start;
}

/** The index a code point ending at `index` starts at (one back for a low surrogate after a high one). */
function surrogateStart(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff && index > 0 && (text.charCodeAt(index - 1) & 0xfc00) === 0xd800 ? index - 1 : index;
}

function isNewlines(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code !== 10 && code !== 13) return false;
  }
  return text.length > 0;
}

function isSpace(code: number): boolean {
  // Cleaned text only has these; other Unicode spaces were folded to U+0020 by cleanText.
  return code === 32 || code === 10 || code === 9 || code === 13 || code === 12 || code === 11;
}

function isAsciiAlphanumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
