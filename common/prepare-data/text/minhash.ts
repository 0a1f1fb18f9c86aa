import { fmix32 } from './hash';

/**
 * Near-duplicate fingerprints: MinHash over word shingles, computed with one-permutation hashing
 * (Li, Owen & Zhang 2012) and optimal densification (Shrivastava 2017).
 *
 * Classic MinHash hashes every shingle K times (K = 128: 128 multiplications per shingle, the cost that
 * makes naive MinHash slow). One-permutation hashing hashes each shingle once: the top bits pick one of
 * K bins, the rest compete for that bin's minimum. Empty bins (short texts) borrow a filled bin's value
 * through a fixed probe sequence, so two texts still agree on a bin with probability equal to their
 * Jaccard similarity. Same estimator, one hash per shingle instead of K.
 *
 * Words are runs of letters and digits, ASCII lower-cased; other scripts count as letters except the
 * Unicode punctuation blocks, so "—" or "“" never join two words.
 */

export interface ShingleOptions {
  /** Words per shingle (5 is the usual choice for prose). */
  shingleWords: number;
  /** Signature length: a power of two (64, 128 or 256). */
  permutations: number;
}

const EMPTY = 0xffffffff;

/** ASCII lookup: 0 = not part of a word, otherwise the lower-cased character code. */
const ASCII_WORD = new Uint8Array(128);
for (let code = 48; code <= 57; code += 1) ASCII_WORD[code] = code;
for (let code = 97; code <= 122; code += 1) ASCII_WORD[code] = code;
for (let code = 65; code <= 90; code += 1) ASCII_WORD[code] = code + 32;

// Hash constants below 2^30 keep V8's arithmetic on small integers (a 32-bit constant would start the
// hash as a boxed number; measured slower). FNV-1a's prime for words, an odd multiplier for shingles.
const WORD_SEED = 0x011c9dc5;
const WORD_PRIME = 0x01000193;
const SHINGLE_BASE = 0x2f0b3a49;

/** The MinHash signature of a text, or undefined when it has no words. */
export function minhashSignature(text: string, options: ShingleOptions): Uint32Array | undefined {
  const bins = options.permutations;
  const shift = 32 - Math.log2(bins);
  if (!Number.isInteger(shift) || shift <= 0) throw new Error(`permutations must be a power of two, got ${bins}`);
  const k = options.shingleWords;
  const signature = new Uint32Array(bins).fill(EMPTY);
  // A shingle's hash is a rolling polynomial over its word hashes, sum(word[i - j] * BASE^j): adding a
  // word and dropping the oldest costs two multiplications whatever the shingle length.
  const ring = new Int32Array(k);
  let dropFactor = 1;
  for (let power = 0; power < k; power += 1) dropFactor = Math.imul(dropFactor, SHINGLE_BASE);
  let position = 0;
  let rolling = 0;
  let words = 0;
  let shingles = 0;

  const addShingle = (hash: number) => {
    // fmix32 twice, written out: as a call its unsigned result is a boxed number on every shingle.
    let spread = hash ^ (hash >>> 16);
    spread = Math.imul(spread, 0x85ebca6b);
    spread ^= spread >>> 13;
    spread = Math.imul(spread, 0xc2b2ae35);
    spread ^= spread >>> 16;
    let value = spread ^ 0x5bd1e995;
    value ^= value >>> 16;
    value = Math.imul(value, 0x85ebca6b);
    value ^= value >>> 13;
    value = Math.imul(value, 0xc2b2ae35);
    value ^= value >>> 16;
    const bin = spread >>> shift;
    if (value >>> 0 < (signature[bin] as number)) signature[bin] = value;
    shingles += 1;
  };

  let wordHash = WORD_SEED;
  let inWord = false;
  const length = text.length;
  for (let index = 0; index <= length; index += 1) {
    const raw = index < length ? text.charCodeAt(index) : 32;
    const code = raw < 128 ? (ASCII_WORD[raw] as number) : isUnicodePunctuation(raw) ? 0 : raw;
    if (code !== 0) {
      wordHash = Math.imul(wordHash ^ code, WORD_PRIME);
      inWord = true;
    } else if (inWord) {
      rolling = (Math.imul(rolling, SHINGLE_BASE) + wordHash - Math.imul(ring[position] as number, dropFactor)) | 0;
      ring[position] = wordHash;
      position = position + 1 === k ? 0 : position + 1;
      words += 1;
      if (words >= k) addShingle(rolling);
      wordHash = WORD_SEED;
      inWord = false;
    }
  }
  if (words === 0) return undefined;
  // Fewer words than one shingle: the whole text is the only shingle.
  if (shingles === 0) addShingle(rolling);
  densify(signature, bins);
  return signature;
}

/** Fills empty bins from filled ones along a fixed pseudo-random probe sequence per bin. */
function densify(signature: Uint32Array, bins: number): void {
  const original = signature.slice();
  for (let bin = 0; bin < bins; bin += 1) {
    if (original[bin] !== EMPTY) continue;
    for (let attempt = 1; ; attempt += 1) {
      const probe = fmix32(Math.imul(bin + 1, 0x9e3779b1) ^ Math.imul(attempt, 0x85ebca77)) & (bins - 1);
      if (original[probe] !== EMPTY) {
        signature[bin] = original[probe] as number;
        break;
      }
    }
  }
}

/** Estimated Jaccard similarity: the share of positions where two signatures agree. */
export function estimateJaccard(a: ArrayLike<number>, b: ArrayLike<number>, bOffset = 0, length = a.length): number {
  let same = 0;
  for (let index = 0; index < length; index += 1) if (a[index] === b[bOffset + index]) same += 1;
  return same / length;
}

function isUnicodePunctuation(code: number): boolean {
  return (
    (code >= 0x00a0 && code <= 0x00bf) || // Latin-1 punctuation and symbols (no-break space, «, », ¿...)
    code === 0x00d7 ||
    code === 0x00f7 ||
    (code >= 0x2000 && code <= 0x206f) || // General Punctuation: dashes, quotes, ellipsis, spaces
    (code >= 0x2190 && code <= 0x23ff) || // arrows, maths, technical symbols
    (code >= 0x2500 && code <= 0x27bf) || // box drawing, shapes, dingbats
    (code >= 0x3000 && code <= 0x303f) || // CJK punctuation
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff0f) ||
    (code >= 0xd800 && code <= 0xdfff) // surrogates: emoji and other astral symbols are not words
  );
}
