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
const MAX_CACHE_ENTRIES = 200_000;
const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() };

export class TokenCounter {
  private cache = new Map<string, number>();

  /** Exact token count of `text` under cl100k_base. */
  count(text: string): number {
    let total = 0;
    let start = 0;
    const length = text.length;
    let index = 0;
    // Skip leading whitespace: it belongs to the first unit.
    while (index < length && isSpace(text.charCodeAt(index))) index += 1;
    while (index < length) {
      // Inside a non-whitespace run: advance to the next whitespace character.
      while (index < length && !isSpace(text.charCodeAt(index))) index += 1;
      if (index >= length) break;
      const code = text.charCodeAt(index);
      if ((code === 10 || code === 13) && !isAsciiAlphanumeric(text.charCodeAt(index - 1))) {
        // Punctuation may glue to the newlines after it: do not cut here.
        while (index < length && isSpace(text.charCodeAt(index))) index += 1;
        continue;
      }
      total += this.unit(text.slice(start, index));
      start = index;
      while (index < length && isSpace(text.charCodeAt(index))) index += 1;
    }
    if (start < length) total += this.unit(text.slice(start));
    return total;
  }

  private unit(unit: string): number {
    if (unit.length > MAX_CACHED_UNIT) return countCl100k(unit, ENCODE_OPTIONS);
    let count = this.cache.get(unit);
    if (count === undefined) {
      count = countCl100k(unit, ENCODE_OPTIONS);
      // Bounded memory whatever the corpus: start over rather than grow.
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
      this.cache.set(unit, count);
    }
    return count;
  }
}

/** The tokenizer's own count of the whole text, without the unit cache (tests compare the two). */
export function countTokensDirect(text: string): number {
  return countCl100k(text, ENCODE_OPTIONS);
}

function isSpace(code: number): boolean {
  // Cleaned text only has these; other Unicode spaces were folded to U+0020 by cleanText.
  return code === 32 || code === 10 || code === 9 || code === 13 || code === 12 || code === 11;
}

function isAsciiAlphanumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
