import { unitInterval } from './hash';

export type SplitName = 'train' | 'test';

/**
 * Deterministic train/test assignment by hashing a document key with a seed. The key is the hash of
 * the document's cleaned text, so the assignment survives renames, re-runs and new documents added
 * elsewhere in the corpus; all chunks of a document land on the same side, so overlapping chunks never
 * leak test text into training.
 */
export function assignSplit(documentKey: string, testRatio: number, seed: string): SplitName {
  return unitInterval(`${seed}\u0000${documentKey}`) < testRatio ? 'test' : 'train';
}
