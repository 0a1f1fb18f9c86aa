import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanMarkdown } from '../../helpers/text';
import { countTokensDirect, TokenCounter } from '../../../common/prepare-data/text/tokens';

const POSTS = join(__dirname, '../../../examples/corpus/posts');

describe('TokenCounter (cl100k_base with a unit cache)', () => {
  const counter = new TokenCounter();

  it.each([
    ['plain prose', 'The pager goes off at 3:07 and, for about four seconds, I am sure the boat is sinking.'],
    ['punctuation glued to newlines', 'First.\n\nSecond!\n\n\nThird?\n- list\n- item'],
    ['runs of spaces and tabs', '  leading  spaces\tand\t\ttabs   1234567  trailing  '],
    ['contractions and quotes', "it's what they'd've said — “don't”, 'won't'…"],
    ['other scripts and emoji', 'Ünïcödé 日本語のテキスト 😀 emoji ½ ﬁne'],
    ['special-token lookalikes', 'a <|endoftext|> b'],
    ['empty', ''],
  ])('counts %s exactly like the tokenizer itself', (_name, text) => {
    expect(counter.count(text)).toBe(countTokensDirect(text));
  });

  it('is exact on every cleaned post of the sample corpus', () => {
    for (const file of readdirSync(POSTS)) {
      const text = cleanMarkdown(readFileSync(join(POSTS, file), 'utf8'));
      expect({ file, count: counter.count(text) }).toEqual({ file, count: countTokensDirect(text) });
    }
  });

  it('counts a real sentence as a real tokenizer does (not characters / 4)', () => {
    // cl100k_base: "hello" " world" -> 2 tokens.
    expect(counter.count('hello world')).toBe(2);
  });
});

describe('TokenCounter.joinCost', () => {
  const counter = new TokenCounter();
  const pieces = [
    'The end.',
    'The end',
    'a list:',
    'Numbers 2020',
    '“Quoted.”',
    'café',
    'trailing —',
    'x )',
    'Wait…',
    'ok!!',
    '## Heading',
    '(aside)',
    "it's'.",
    'emoji 😀',
    'math 𝐀',
    'half ½',
    'nbsp\u00a0.',
    '...',
    '.\n',
  ];
  const heads = ['Next paragraph.', '“Quote” starts', '- item', '2021 was', 'Ünïcode', '  spaced', '.\n', '😀 smile'];

  it.each(['\n\n', ' ', '\n', '\n\n\n', '\t'])('adds exactly the tokens a join with %j adds', (joiner) => {
    for (const a of pieces) {
      for (const b of heads) {
        const expected = countTokensDirect(a + joiner + b) - countTokensDirect(a) - countTokensDirect(b);
        expect({ a, b, cost: counter.joinCost(a, joiner, b) }).toEqual({ a, b, cost: expected });
        // Asked again, the cached answer is the same.
        expect({ a, b, cost: counter.joinCost(a, joiner, b) }).toEqual({ a, b, cost: expected });
      }
    }
  });

  it('stays exact when its unit table grows past its first size', () => {
    const fresh = new TokenCounter();
    const words = Array.from({ length: 20_000 }, (_, index) => `w${index.toString(36)}x`).join(' ');
    expect(fresh.count(words)).toBe(countTokensDirect(words));
    expect(fresh.count(words)).toBe(countTokensDirect(words));
  });

  it('stays exact after its table fills and starts over (bounded memory on any corpus)', () => {
    const fresh = new TokenCounter();
    // More distinct units than the table keeps (200,000), then the first ones again.
    const words = Array.from({ length: 210_000 }, (_, index) => `q${index.toString(36)}`);
    const first = words.slice(0, 1000).join(' ');
    expect(fresh.count(first)).toBe(countTokensDirect(first));
    const all = words.join(' ');
    expect(fresh.count(all)).toBe(countTokensDirect(all));
    expect(fresh.count(first)).toBe(countTokensDirect(first));
  });
});
