import { lshParameters, NearDuplicateIndex } from '../../../common/prepare-data/text/lsh';
import { estimateJaccard, minhashSignature } from '../../../common/prepare-data/text/minhash';

const options = { shingleWords: 5, permutations: 128 };

/** Deterministic pseudo-prose: `count` words drawn from a small vocabulary by a seeded generator. */
function prose(seed: number, count: number): string[] {
  const vocabulary =
    'harbour tide engine pager wheel spoke brake rope gull slipway cold tea log alert queue retry timeout review chandlery drawer fog horn swim morning'.split(
      ' ',
    );
  let state = seed;
  const words: string[] = [];
  for (let index = 0; index < count; index += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    words.push(vocabulary[(state >>> 16) % vocabulary.length] as string);
  }
  return words;
}

/** The true Jaccard similarity of two texts' 5-word shingle sets. */
function trueJaccard(a: string[], b: string[]): number {
  const shingles = (words: string[]) =>
    new Set(words.slice(0, words.length - 4).map((_, index) => words.slice(index, index + 5).join(' ')));
  const [sa, sb] = [shingles(a), shingles(b)];
  const intersection = [...sa].filter((item) => sb.has(item)).length;
  return intersection / (sa.size + sb.size - intersection);
}

describe('word shingles and MinHash', () => {
  it('ignores case and punctuation: only the words make the shingles', () => {
    const a = minhashSignature('The tide, the TIDE — the tide is coming in!', options);
    const b = minhashSignature('the tide the tide the tide is coming in', options);
    expect(a).toBeDefined();
    expect(Array.from(a!)).toEqual(Array.from(b!));
  });

  it('has no signature for text without words, and one for text shorter than a shingle', () => {
    expect(minhashSignature('— … !!', options)).toBeUndefined();
    const short = minhashSignature('two words', options);
    expect(short).toHaveLength(128);
    expect(estimateJaccard(short!, minhashSignature('two words', options)!)).toBe(1);
  });

  it('estimates Jaccard similarity within a few points of the truth', () => {
    const base = prose(7, 400);
    for (const changed of [10, 30, 80]) {
      const edited = [...base];
      for (let index = 0; index < changed; index += 1) edited[(index * 37) % edited.length] = `edit${index}`;
      const estimate = estimateJaccard(minhashSignature(base.join(' '), options)!, minhashSignature(edited.join(' '), options)!);
      expect(Math.abs(estimate - trueJaccard(base, edited))).toBeLessThan(0.12);
    }
  });

  it('scores unrelated texts near zero', () => {
    const estimate = estimateJaccard(
      minhashSignature(prose(1, 300).join(' '), options)!,
      minhashSignature(prose(2, 300).join(' '), options)!,
    );
    expect(estimate).toBeLessThan(0.1);
  });
});

describe('LSH near-duplicate index', () => {
  it('chooses a band layout whose S-curve rises around the threshold', () => {
    const { bands, rows } = lshParameters(0.8, 128);
    expect(bands * rows).toBeLessThanOrEqual(128);
    const candidate = (s: number) => 1 - Math.pow(1 - Math.pow(s, rows), bands);
    expect(candidate(0.85)).toBeGreaterThan(0.95);
    expect(candidate(0.3)).toBeLessThan(0.05);
  });

  it('finds a near duplicate above the threshold and ignores one below it', () => {
    const base = prose(11, 400);
    const near = [...base];
    near[100] = 'different';
    near[300] = 'words';
    const far = [...base.slice(0, 200), ...prose(99, 200)];

    const index = new NearDuplicateIndex(128, 0.8);
    index.add(minhashSignature(base.join(' '), options)!);
    const match = index.findDuplicate(minhashSignature(near.join(' '), options)!);
    expect(match?.index).toBe(0);
    expect(match!.similarity).toBeGreaterThanOrEqual(0.8);
    expect(index.findDuplicate(minhashSignature(far.join(' '), options)!)).toBeUndefined();
  });

  it('honours the configured threshold', () => {
    const base = prose(5, 400);
    const edited = [...base];
    for (let index = 0; index < 20; index += 1) edited[index * 20] = `x${index}`; // true Jaccard ~0.6
    const similarity = trueJaccard(base, edited);
    expect(similarity).toBeGreaterThan(0.5);
    expect(similarity).toBeLessThan(0.7);
    const strict = new NearDuplicateIndex(128, 0.9);
    const loose = new NearDuplicateIndex(128, 0.5);
    for (const index of [strict, loose]) index.add(minhashSignature(base.join(' '), options)!);
    expect(strict.findDuplicate(minhashSignature(edited.join(' '), options)!)).toBeUndefined();
    expect(loose.findDuplicate(minhashSignature(edited.join(' '), options)!)).toBeDefined();
  });

  it('keeps working as it grows past its initial tables', () => {
    const index = new NearDuplicateIndex(64, 0.8);
    const small = { shingleWords: 5, permutations: 64 };
    for (let seed = 0; seed < 3000; seed += 1) index.add(minhashSignature(prose(seed * 7919 + 1, 60).join(' '), small)!);
    expect(index.count).toBe(3000);
    expect(index.findDuplicate(minhashSignature(prose(1234 * 7919 + 1, 60).join(' '), small)!)?.index).toBe(1234);
  });
});
