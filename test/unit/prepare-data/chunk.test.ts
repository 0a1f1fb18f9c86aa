import {
  FenceTracker,
  markdownBlocks,
  mayHoldBlockSyntax,
  NestedFenceTracker,
  parseMarkdownBlocks,
} from '../../../common/prepare-data/text/blocks';
import { chunkBlocks, sentenceSlices, type Chunk } from '../../../common/prepare-data/text/chunk';
import { TokenCounter } from '../../../common/prepare-data/text/tokens';

const counter = new TokenCounter();
const count = (text: string) => counter.count(text);

function paragraph(id: number, sentences: number): string {
  return Array.from({ length: sentences }, (_, index) => `Paragraph ${id} sentence ${index} says something about tides and engines.`).join(
    ' ',
  );
}

function chunksOf(markdown: string, maxTokens: number, overlapTokens = 0): Chunk[] {
  return chunkBlocks(markdownBlocks(markdown), counter, { maxTokens, overlapTokens, minTokens: 1 }).chunks;
}

function balanced(text: string): boolean {
  const fences = new FenceTracker();
  for (const line of text.split('\n')) fences.push(line);
  return !fences.inside;
}

/** Balanced counting fences nested in list items and quotes too. */
function nestedBalanced(text: string): boolean {
  const fences = new NestedFenceTracker();
  for (const line of text.split('\n')) fences.push(line);
  return fences.openFence() === undefined;
}

/** A fenced TypeScript block with blank lines and deep indentation inside it. */
const CODE = [
  '```ts',
  'export function configure(options) {',
  '  const merged = { ...defaults, ...options };',
  '',
  '  if (merged.retries > 0) {',
  '      // four-space indent, kept',
  '    return merged;',
  '  }',
  '',
  '',
  '\tthrow new Error("no retries");',
  '}',
  '```',
].join('\n');

describe('chunkBlocks', () => {
  it('keeps a short document whole, byte for byte', () => {
    const text = '# Title\n\nOne paragraph.\n\nAnother one.';
    const { chunks } = chunkBlocks(markdownBlocks(text), counter, { maxTokens: 100, overlapTokens: 10, minTokens: 1 });
    expect(chunks.map((chunk) => chunk.text)).toEqual([text]);
    expect(chunks[0]!.tokens).toBe(count(text));
  });

  it('keeps the whitespace inside fenced code: blank lines, indentation, tabs', () => {
    const text = `Intro paragraph about the configure function.\n\n${CODE}\n\nAfter the code.`;
    const [only] = chunksOf(text, 500);
    expect(only!.text).toBe(text);
    expect(only!.text).toContain('\n\n  if (merged.retries > 0) {\n      // four-space indent, kept');
  });

  it('cuts between blocks, so a code block that fits is never split', () => {
    const text = [paragraph(1, 4), CODE, paragraph(2, 4), CODE, paragraph(3, 4)].join('\n\n');
    const chunks = chunksOf(text, 130);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(balanced(chunk.text)).toBe(true);
      expect(chunk.tokens).toBeLessThanOrEqual(130);
      expect(chunk.tokens).toBe(count(chunk.text));
      expect(chunk.startsInside || chunk.endsInside).toBe(false);
    }
    expect(chunks.filter((chunk) => chunk.text.includes(CODE))).toHaveLength(2);
  });

  it('treats a `# comment` inside a fence as code, not a heading', () => {
    const blocks = markdownBlocks('Run this:\n\n```sh\n# install first\nnpm install\n\n# then build\nnpm run build\n```\n\nDone.');
    expect(blocks.map((block) => block.kind)).toEqual(['paragraph', 'code', 'paragraph']);
    expect(blocks[1]!.fence).toEqual({ marker: '```', info: 'sh' });
  });

  it('splits a fence longer than a chunk between lines, closing and reopening it with its language', () => {
    const body = Array.from({ length: 80 }, (_, index) => `    call_step(${index}, "argument number ${index}")`);
    const text = ['```python', 'def run():', ...body, '```'].join('\n');
    const chunks = chunksOf(text, 120);
    expect(chunks.length).toBeGreaterThan(3);
    chunks.forEach((chunk, index) => {
      expect(chunk.text.startsWith('```python\n')).toBe(true);
      expect(chunk.text.endsWith('\n```')).toBe(true);
      expect(balanced(chunk.text)).toBe(true);
      expect(chunk.tokens).toBeLessThanOrEqual(120);
      expect(chunk.startsInside).toBe(index > 0);
      expect(chunk.endsInside).toBe(index < chunks.length - 1);
    });
    // Every code line survives exactly once, indentation intact.
    const lines = chunks.flatMap((chunk) => chunk.text.split('\n').slice(1, -1));
    expect(lines).toEqual(['def run():', ...body]);
  });

  it('splits a long table between rows, repeating its header', () => {
    const rows = Array.from({ length: 60 }, (_, index) => `| option${index} | ${index * 10} | what option ${index} changes |`);
    const text = ['| name | default | meaning |', '|---|---:|---|', ...rows].join('\n');
    const chunks = chunksOf(text, 150);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.text.startsWith('| name | default | meaning |\n|---|---:|---|\n| option')).toBe(true);
      expect(markdownBlocks(chunk.text).map((block) => block.kind)).toEqual(['table']);
    }
    expect(chunks.flatMap((chunk) => chunk.text.split('\n').slice(2))).toEqual(rows);
  });

  it('splits a long list between items, each item whole, nested lines kept as written', () => {
    const items = Array.from({ length: 40 }, (_, index) => `- item ${index} explains a step\n  - detail   ${index} with  spacing`);
    const text = items.join('\n');
    const chunks = chunksOf(text, 100);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.text.split('\n').length % 2).toBe(0);
    expect(chunks.map((chunk) => chunk.text).join('\n')).toBe(text);
  });

  it('splits a paragraph longer than a chunk between sentences, keeping its line breaks', () => {
    const lines = Array.from({ length: 60 }, (_, index) => `value_${index}`);
    const text = lines.join('\n');
    const chunks = chunksOf(text, 40);
    expect(chunks.length).toBeGreaterThan(2);
    // A file with one value per line stays one value per line.
    expect(chunks.flatMap((chunk) => chunk.text.split('\n'))).toEqual(lines);
    const prose = paragraph(1, 40);
    for (const chunk of chunksOf(prose, 80)) expect(chunk.text).toMatch(/^Paragraph 1 sentence \d+ .*engines\.$/);
  });

  it('cuts between words when a single line is longer than a chunk', () => {
    const text = Array.from({ length: 300 }, (_, index) => `word${index}`).join(' ');
    const chunks = chunksOf(text, 50);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(50);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(text);
  });

  it('never ends a chunk on a heading: it goes with the text it heads', () => {
    const sections = Array.from({ length: 8 }, (_, index) => `## Section ${index}\n\n${paragraph(index, 3)}`);
    const chunks = chunksOf(sections.join('\n\n'), 110);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      const blocks = markdownBlocks(chunk.text);
      expect(blocks[blocks.length - 1]!.kind).not.toBe('heading');
    }
    // A trailing heading with nothing under it heads nothing and is not published.
    expect(chunksOf(`${paragraph(1, 2)}\n\n## Empty`, 200).map((chunk) => chunk.text)).toEqual([paragraph(1, 2)]);
  });

  it('keeps a heading with the text it heads when that text must be cut: never shed, never alone', () => {
    // Two-token sentences fill a piece to the last token: without room kept for the heading, the
    // heading carried over from the chunk before could not join its text's first piece and was shed.
    const sentences = (count: number) => Array.from({ length: count }, () => 'Go.').join(' ');
    const sections = Array.from({ length: 4 }, (_, index) => `## Heading ${index}\n\n${sentences(100)}`);
    const chunks = chunksOf([sentences(8), sentences(8), ...sections].join('\n\n'), 120, 60);
    for (let index = 0; index < sections.length; index += 1)
      expect(chunks.filter((chunk) => chunk.text.startsWith(`## Heading ${index}\n\nGo. Go.`))).toHaveLength(1);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(120);
      expect(chunk.text).not.toMatch(/## Heading \d+$/);
    }
  });

  it('cuts an oversized list item or quote holding fenced code with the fence closed and reopened', () => {
    const code = Array.from({ length: 40 }, (_, index) => `   const value${index} = compute(${index}); // [link](x) <b>kept</b>`);
    const list = ['- Install it first:', '', '   ```ts', ...code, '   ```', '', '   Then run it.', '- A second item.'].join('\n');
    const quote = [
      '> As the docs put it:',
      '>',
      '> ```sh',
      ...code.map((line) => `> ${line.trim()}`),
      '> ```',
      '>',
      '> End of quote.',
    ].join('\n');
    for (const text of [list, quote]) {
      const chunks = chunksOf(text, 120);
      expect(chunks.length).toBeGreaterThan(2);
      for (const chunk of chunks) {
        expect(nestedBalanced(chunk.text)).toBe(true);
        expect(chunk.tokens).toBeLessThanOrEqual(120);
      }
      // Every code line survives once, as written.
      const lines = chunks.flatMap((chunk) => chunk.text.split('\n'));
      for (const line of text === list ? code : code.map((item) => `> ${item.trim()}`))
        expect(lines.filter((seen) => seen === line)).toHaveLength(1);
    }
  });

  it('cuts a one-item list holding a long fence with the fence closed and reopened too', () => {
    const code = Array.from({ length: 40 }, (_, index) => `   const step${index} = run(${index});`);
    const text = ['1. Run this:', '', '   ```js', ...code, '   ```'].join('\n');
    const chunks = chunksOf(text, 80);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(nestedBalanced(chunk.text)).toBe(true);
      expect(chunk.tokens).toBeLessThanOrEqual(80);
    }
  });

  it('keeps every piece within the limit with its wrapping, and does not repeat a header wider than half a chunk', () => {
    const longLine = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');
    for (const chunk of chunksOf(`\`\`\`javascript\n${longLine}\n\`\`\``, 30)) {
      expect(chunk.tokens).toBeLessThanOrEqual(30);
      expect(balanced(chunk.text)).toBe(true);
    }
    const columns = Array.from({ length: 30 }, (_, index) => `column ${index}`);
    const table = [
      `| ${columns.join(' | ')} |`,
      `|${columns.map(() => '---').join('|')}|`,
      ...Array.from({ length: 20 }, (_, row) => `| ${columns.map((_, column) => `r${row}c${column}`).join(' | ')} |`),
    ].join('\n');
    const pieces = chunksOf(table, 40);
    for (const piece of pieces) expect(piece.tokens).toBeLessThanOrEqual(40);
    // Without the header in each, a piece holds a good part of a row: far fewer pieces than words.
    expect(pieces.length).toBeLessThan(100);
  });

  it('never cuts an emoji in half', () => {
    const blob = '😀'.repeat(400) + 'x🎉'.repeat(200);
    const chunks = chunksOf(blob, 25);
    for (const chunk of chunks) expect((chunk.text as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
    expect(chunks.map((chunk) => chunk.text).join('')).toBe(blob);
  });

  it('keeps a heading with a block that fits a chunk alone but not with the heading', () => {
    const intro = 'An introduction of a sentence or two, about the harbour.';
    const body = Array.from({ length: 9 }, (_, index) => `Sentence ${index} of the body about tides.`).join(' ');
    expect(count(body)).toBeLessThanOrEqual(100);
    const chunks = chunksOf(`${intro}\n\n## Tides and engines\n\n${body}`, count(body) + 2);
    expect(chunks.some((chunk) => chunk.text.includes('## Tides and engines\n\nSentence 0'))).toBe(true);
  });

  it('cuts a long quote with inline backticks between sentences, as any quote', () => {
    const sentences = Array.from({ length: 40 }, (_, index) => `Sentence ${index} quotes \`\`\`x\`\`\` as a thing.`);
    const chunks = chunksOf(`> ${sentences.join(' ')}`, 60);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.text.trimEnd()).toMatch(/thing\.$/);
  });

  it('cuts a 60,000-word line between words, losing none', () => {
    const text = Array.from({ length: 60_000 }, (_, index) => `w${index}`).join(' ');
    const chunks = chunksOf(text, 512);
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(512);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(text);
    const blob = 'x9Q'.repeat(40_000);
    const pieces = chunksOf(blob, 256);
    for (const piece of pieces) expect(piece.tokens).toBeLessThanOrEqual(256);
    expect(pieces.map((piece) => piece.text).join('')).toBe(blob);
  });

  it('repeats whole trailing blocks verbatim as overlap, within the budget', () => {
    const blocks = [
      paragraph(0, 2),
      '```js\nconst  a = 1;\n\nconst  b = 2;\n```',
      '| a | b |\n|---|---|\n| 1 | 2 |',
      paragraph(1, 2),
      '- one\n- two',
      paragraph(2, 2),
      paragraph(3, 2),
    ];
    const text = blocks.join('\n\n');
    const chunks = chunksOf(text, 90, 40);
    expect(chunks.length).toBeGreaterThan(2);
    for (let index = 1; index < chunks.length; index += 1) {
      const previous = chunks[index - 1]!.text.split('\n\n');
      const next = chunks[index]!.text;
      // What the next chunk starts with that the previous ended with is whole blocks of the source.
      const carried = previous.filter((_, at) => next.startsWith(previous.slice(at).join('\n\n')));
      expect(carried.length).toBeGreaterThan(0);
      expect(blocks.some((block) => next.startsWith(block))).toBe(true);
      expect(chunks[index]!.tokens).toBeLessThanOrEqual(90);
    }
  });

  it('drops and counts chunks below minTokens', () => {
    expect(chunkBlocks(markdownBlocks('Too short.'), counter, { maxTokens: 100, overlapTokens: 0, minTokens: 10 })).toEqual({
      chunks: [],
      droppedShort: 1,
      blocksSplit: 0,
    });
  });

  it('refuses absurd options', () => {
    expect(() => chunkBlocks([], counter, { maxTokens: 0, overlapTokens: 0, minTokens: 1 })).toThrow(/invalid chunk options/);
    expect(() => chunkBlocks([], counter, { maxTokens: 10, overlapTokens: 10, minTokens: 1 })).toThrow(/invalid chunk options/);
  });
});

describe('sentenceSlices', () => {
  it('cuts on sentence ends and joins back to the same text', () => {
    const text = 'It isn’t. It never was! Was it?\nYes… maybe.';
    const slices = sentenceSlices(text);
    expect(slices.map((slice) => slice.trim())).toEqual(['It isn’t.', 'It never was!', 'Was it?', 'Yes… maybe.']);
    expect(slices.join('')).toBe(text);
  });
});

describe('markdownBlocks', () => {
  it('takes the same blocks from prose without block syntax as the parser does (the fast path is exact)', () => {
    const texts = [
      'One paragraph.\n\nAnother, with a line\nbreak inside it.',
      '  Indented by two.\n\n\n\nAfter three blank lines.\n \t \nAfter a line of spaces.',
      'Numbers like 2020 in prose, 3 cats, and a 1.5 ratio.\nA line ending in a colon:\nand more.',
      'Émoji 😀 and “quotes” — dashes… and a trailing space. \n\nEnd.',
      '  \nHello after a line of spaces.\n\t\n  \nAnd after two.',
    ];
    for (const text of texts) {
      expect(mayHoldBlockSyntax(text)).toBe(false);
      expect(markdownBlocks(text)).toEqual(parseMarkdownBlocks(text));
    }
    for (const text of [
      '# h',
      'a\n===',
      'a\n---',
      '> q',
      '- i',
      '1. i',
      '2) i',
      '    code',
      '\tcode',
      '<div>',
      '[x]: y',
      '| a |',
      '```',
      '~~~',
      '* i',
      '+ i',
      '___',
      'a\n:--',
    ])
      expect([text, mayHoldBlockSyntax(text)]).toEqual([text, true]);
  });
});
