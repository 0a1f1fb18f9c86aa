/**
 * Small, fast, deterministic 32-bit hashes for the text core (shingles, LSH bands, split buckets).
 * Not cryptographic: content addressing uses sha256 in the activities.
 */

/** FNV-1a over UTF-16 code units. */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's finaliser: spreads every input bit over the output, so low and high bits are both usable. */
export function fmix32(value: number): number {
  let hash = value >>> 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A stable number in [0, 1) for a key: the same key always lands in the same place. */
export function unitInterval(key: string): number {
  return fmix32(fnv1a32(key)) / 0x1_0000_0000;
}
