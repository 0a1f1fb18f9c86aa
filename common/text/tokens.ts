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
const TABLE_BITS = 19;
/** Cache entries before it starts over: bounded memory whatever the corpus (about 20 MB at most). */
const MAX_CACHE_ENTRIES = 200_000;
const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() };
const FNV_OFFSET = 0x811c9dc5;
/** What cl100k's ` ?[^\s\p{L}\p{N}]+[\r\n]*` piece takes at the end of a text: punctuation, maybe one space before. */
const TRAILING_PUNCTUATION = / ?[^\s\p{L}\p{N}]+$/u;

export class TokenCounter {
  // An open-addressing table keyed by a hash computed during the scan, so a cache hit costs no
  // substring and no string hashing: the stored unit is compared in place with startsWith.
  private readonly keys: Array<string | undefined> = new Array<string | undefined>(1 << TABLE_BITS).fill(undefined);
  private readonly hashes = new Int32Array(1 << TABLE_BITS);
  private readonly counts = new Int32Array(1 << TABLE_BITS);
  private entries = 0;

  /** Exact token count of `text` under cl100k_base. */
  count(text: string): number {
    let total = 0;
    let start = 0;
    let hash = FNV_OFFSET;
    // Leading whitespace belongs to the first unit: behave as if a space came before the text.
    let previousIsSpace = true;
    let previous = 32;
    const length = text.length;
    for (let index = 0; index < length; index += 1) {
      const code = text.charCodeAt(index);
      const space = isSpace(code);
      if (space && !previousIsSpace && !((code === 10 || code === 13) && !isAsciiAlphanumeric(previous))) {
        total += this.lookup(text, start, index, hash);
        start = index;
        hash = FNV_OFFSET;
      }
      hash = Math.imul(hash ^ code, 0x01000193);
      previousIsSpace = space;
      previous = code;
    }
    if (start < length) total += this.lookup(text, start, length, hash);
    return total;
  }

  /**
   * Exact extra tokens from joining two texts: count(a + joiner + b) - count(a) - count(b). Only the
   * last unit of `a` and the first unit of `b` can interact with the joiner, so only they are counted.
   */
  joinCost(a: string, joiner: string, b: string): number {
    const head = b.slice(0, firstCut(b));
    const last = a.charCodeAt(a.length - 1);
    const first = joiner.charCodeAt(0);
    if (a.length > 0 && joiner.length > 0 && !isSpace(last) && isSpace(first)) {
      if ((first !== 10 && first !== 13) || isAsciiAlphanumeric(last)) {
        // `count` cuts right before the joiner: `a` is untouched and the joiner opens b's first unit.
        return this.count(joiner + head) - this.count(head);
      }
      // Newlines after punctuation glue to it (".\n\n" is one piece), and b after them stands alone.
      // (Matched on the last characters only: an end-anchored regex would scan all of `a`.)
      const end = a.length > 64 ? a.slice(-64) : a;
      const run = TRAILING_PUNCTUATION.exec(end);
      if (run && (run.index > 0 || end === a) && isNewlines(joiner)) return this.count(run[0] + joiner) - this.count(run[0]);
    }
    // Anything else (a letter outside ASCII before a newline, unusual joiners): count the region exactly.
    const tail = a.slice(lastCut(a));
    return this.count(tail + joiner + head) - this.count(tail) - this.count(head);
  }

  private lookup(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    if (length > MAX_CACHED_UNIT) return countCl100k(text.slice(start, end), ENCODE_OPTIONS);
    const mask = this.keys.length - 1;
    let slot = (hash ^ Math.imul(length, 0x9e3779b1)) & mask;
    for (let key = this.keys[slot]; key !== undefined; key = this.keys[slot]) {
      if (this.hashes[slot] === hash && key.length === length && text.startsWith(key, start)) return this.counts[slot] as number;
      slot = (slot + 1) & mask;
    }
    const unit = text.slice(start, end);
    const count = countCl100k(unit, ENCODE_OPTIONS);
    if (this.entries >= MAX_CACHE_ENTRIES) {
      // Start over rather than grow; the slot found above is empty either way.
      this.keys.fill(undefined);
      this.entries = 0;
    }
    this.keys[slot] = unit;
    this.hashes[slot] = hash;
    this.counts[slot] = count;
    this.entries += 1;
    return count;
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
