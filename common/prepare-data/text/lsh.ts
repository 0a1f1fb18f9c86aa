import { fmix32 } from './hash';

/**
 * Locality-sensitive hashing over MinHash signatures: split each signature into `bands` of `rows`
 * values; two texts become candidates when any band matches exactly, which happens with probability
 * 1 - (1 - s^rows)^bands for similarity s. Candidates are then verified against the stored signature,
 * so the band layout is chosen to favour recall (a missed duplicate is never found again) over
 * precision (a false candidate only costs one signature comparison).
 *
 * Memory is bounded by the number of kept documents, never by their size: each costs its signature,
 * stored as the top 16 bits of each value (2 bytes x permutations: two different values agree there
 * with probability 2^-16, so the similarity estimate moves by at most 0.00002), plus one table slot
 * per band (8 bytes, tables at most 3/4 full). About 400 bytes per document at 128 permutations.
 */

export interface LshParameters {
  bands: number;
  rows: number;
}

const FALSE_POSITIVE_WEIGHT = 0.1;
const FALSE_NEGATIVE_WEIGHT = 0.9;

/** Picks bands x rows <= permutations minimising the weighted error around `threshold` (as datasketch does). */
export function lshParameters(threshold: number, permutations: number): LshParameters {
  let best: LshParameters & { error: number } = { bands: 1, rows: permutations, error: Infinity };
  for (let bands = 1; bands <= permutations; bands += 1) {
    for (let rows = 1; bands * rows <= permutations; rows += 1) {
      const candidate = (s: number) => 1 - Math.pow(1 - Math.pow(s, rows), bands);
      const falsePositive = integrate((s) => candidate(s), 0, threshold);
      const falseNegative = integrate((s) => 1 - candidate(s), threshold, 1);
      const error = FALSE_POSITIVE_WEIGHT * falsePositive + FALSE_NEGATIVE_WEIGHT * falseNegative;
      if (error < best.error - 1e-12) best = { bands, rows, error };
    }
  }
  return { bands: best.bands, rows: best.rows };
}

function integrate(f: (x: number) => number, from: number, to: number): number {
  const steps = 64;
  const width = (to - from) / steps;
  let area = 0;
  for (let step = 0; step < steps; step += 1) area += f(from + (step + 0.5) * width) * width;
  return area;
}

export interface DuplicateMatch {
  /** Index (insertion order) of the earlier document this one duplicates. */
  index: number;
  similarity: number;
}

/** The index of kept documents: query a signature for a near duplicate, then add it if none was found. */
export class NearDuplicateIndex {
  readonly parameters: LshParameters;
  private signatures: Uint16Array;
  private size = 0;
  private keys: Uint32Array;
  private owners: Int32Array;
  private used = 0;
  private readonly checked = new Set<number>();

  constructor(
    private readonly permutations: number,
    private readonly threshold: number,
  ) {
    this.parameters = lshParameters(threshold, permutations);
    this.signatures = new Uint16Array(permutations * 1024);
    this.keys = new Uint32Array(1 << 14);
    this.owners = new Int32Array(1 << 14).fill(-1);
  }

  get count(): number {
    return this.size;
  }

  /** The most similar earlier document at or above the threshold, if any. */
  findDuplicate(signature: Uint32Array): DuplicateMatch | undefined {
    this.checked.clear();
    let best: DuplicateMatch | undefined;
    const mask = this.keys.length - 1;
    for (let band = 0; band < this.parameters.bands; band += 1) {
      const key = this.bandKey(signature, band);
      for (let slot = key & mask; this.owners[slot] !== -1; slot = (slot + 1) & mask) {
        if (this.keys[slot] !== key) continue;
        const owner = this.owners[slot] as number;
        if (this.checked.has(owner)) continue;
        this.checked.add(owner);
        const similarity = this.similarity(signature, owner);
        if (similarity >= this.threshold && (!best || similarity > best.similarity)) best = { index: owner, similarity };
      }
    }
    return best;
  }

  /** Adds a kept document's signature; returns its index. */
  add(signature: Uint32Array): number {
    const index = this.size;
    if ((index + 1) * this.permutations > this.signatures.length) {
      // Grows by half, not double: less slack held for the documents that may never come.
      const grown = new Uint16Array(Math.ceil((this.signatures.length * 1.5) / this.permutations) * this.permutations);
      grown.set(this.signatures);
      this.signatures = grown;
    }
    const offset = index * this.permutations;
    for (let position = 0; position < this.permutations; position += 1)
      this.signatures[offset + position] = (signature[position] as number) >>> 16;
    this.size += 1;
    for (let band = 0; band < this.parameters.bands; band += 1) this.insert(this.bandKey(signature, band), index);
    return index;
  }

  /** The share of positions where `signature` agrees with a stored one (compared on the stored 16 bits). */
  private similarity(signature: Uint32Array, owner: number): number {
    const offset = owner * this.permutations;
    let same = 0;
    for (let position = 0; position < this.permutations; position += 1) {
      if ((signature[position] as number) >>> 16 === this.signatures[offset + position]) same += 1;
    }
    return same / this.permutations;
  }

  private bandKey(signature: Uint32Array, band: number): number {
    const { rows } = this.parameters;
    let hash = fmix32(Math.imul(band + 1, 0x9e3779b1));
    for (let row = band * rows; row < (band + 1) * rows; row += 1) hash = Math.imul(hash ^ (signature[row] as number), 0x01000193);
    return fmix32(hash);
  }

  private insert(key: number, owner: number): void {
    if ((this.used + 1) * 4 > this.keys.length * 3) this.grow();
    const mask = this.keys.length - 1;
    let slot = key & mask;
    while (this.owners[slot] !== -1) slot = (slot + 1) & mask;
    this.keys[slot] = key;
    this.owners[slot] = owner;
    this.used += 1;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldOwners = this.owners;
    this.keys = new Uint32Array(oldKeys.length * 2);
    this.owners = new Int32Array(oldKeys.length * 2).fill(-1);
    this.used = 0;
    for (let slot = 0; slot < oldKeys.length; slot += 1) {
      if (oldOwners[slot] !== -1) this.insert(oldKeys[slot] as number, oldOwners[slot] as number);
    }
  }
}
