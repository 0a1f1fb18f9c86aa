import { fmix32 } from '../../common/prepare-data/text/hash';

/**
 * A map from block hashes (integers below 2^53) to small non-negative integers, in two typed arrays
 * with open addressing. The corpus decisions keep one entry per distinct paragraph of the corpus
 * (hundreds of thousands for a few hundred MiB): a JS Map costs about 80 bytes an entry, this 12 to 24,
 * and never allocates per entry, so the collector has nothing to trace.
 */
export class HashTable {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  constructor(initialBits = 12) {
    this.keys = new Float64Array(1 << initialBits).fill(-1);
    this.values = new Int32Array(1 << initialBits);
    this.mask = (1 << initialBits) - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value for `key`, or -1. */
  get(key: number): number {
    const slot = this.find(key);
    return this.keys[slot] === key ? this.values[slot]! : -1;
  }

  has(key: number): boolean {
    return this.keys[this.find(key)] === key;
  }

  set(key: number, value: number): void {
    let slot = this.find(key);
    if (this.keys[slot] !== key) {
      if ((this.count + 1) * 2 > this.keys.length) {
        this.grow();
        slot = this.find(key);
      }
      this.keys[slot] = key;
      this.count += 1;
    }
    this.values[slot] = value;
  }

  /** Every key with its value, in table order. */
  *entries(): Generator<[number, number]> {
    for (let slot = 0; slot < this.keys.length; slot += 1) if (this.keys[slot] !== -1) yield [this.keys[slot]!, this.values[slot]!];
  }

  /** The slot holding `key`, or the empty slot where it would go. Keys are never negative, so -1 marks empty. */
  private find(key: number): number {
    let slot = fmix32((key % 0x1_0000_0000) ^ Math.floor(key / 0x1_0000_0000)) & this.mask;
    while (this.keys[slot] !== -1 && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
    return slot;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2).fill(-1);
    this.values = new Int32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    for (let slot = 0; slot < keys.length; slot += 1) {
      if (keys[slot] === -1) continue;
      const target = this.find(keys[slot]!);
      this.keys[target] = keys[slot]!;
      this.values[target] = values[slot]!;
    }
  }
}
