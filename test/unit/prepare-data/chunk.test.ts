import { chunkText, splitSentences } from '../../../common/prepare-data/text/chunk';
import { TokenCounter } from '../../../common/prepare-data/text/tokens';

const counter = new TokenCounter();
const count = (text: string) => counter.count(text);

function paragraph(id: number, sentences: number): string {
  return Array.from({ length: sentences }, (_, index) => `Paragraph ${id} sentence ${index} says something about tides and engines.`).join(
    ' ',
  );
}

describe('chunkText', () => {
  it('keeps a short document whole', () => {
    const text = 'One paragraph.\n\nAnother one.';
    expect(chunkText(text, counter, { maxTokens: 100, overlapTokens: 10, minTokens: 1 }).chunks).toEqual([{ text, tokens: count(text) }]);
  });

  it('cuts on paragraph boundaries, never above maxTokens (exact count)', () => {
    const text = Array.from({ length: 12 }, (_, index) => paragraph(index, 3)).join('\n\n');
    const { chunks } = chunkText(text, counter, { maxTokens: 120, overlapTokens: 0, minTokens: 1 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBe(count(chunk.text));
      expect(chunk.tokens).toBeLessThanOrEqual(120);
      // Whole paragraphs only: every chunk starts and ends at a paragraph boundary.
      expect(chunk.text.startsWith('Paragraph ')).toBe(true);
      expect(chunk.text.endsWith('engines.')).toBe(true);
      expect(
        chunk.text
          .split('\n\n')
          .every((part) => /^Paragraph (\d+) sentence 0 .* sentence 2 says something about tides and engines\.$/.test(part)),
      ).toBe(true);
    }
    // Without overlap, the chunks reassemble the text exactly.
    expect(chunks.map((chunk) => chunk.text).join('\n\n')).toBe(text);
  });

  it('falls back to sentence boundaries for a paragraph longer than a chunk', () => {
    const text = paragraph(1, 40);
    const { chunks } = chunkText(text, counter, { maxTokens: 80, overlapTokens: 0, minTokens: 1 });
    expect(chunks.length).toBeGreaterThan(4);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBe(count(chunk.text));
      expect(chunk.tokens).toBeLessThanOrEqual(80);
      expect(chunk.text).toMatch(/^Paragraph 1 sentence \d+ .*engines\.$/);
    }
  });

  it('cuts between words when a single sentence is longer than a chunk', () => {
    const text = Array.from({ length: 300 }, (_, index) => `word${index}`).join(' ');
    const { chunks } = chunkText(text, counter, { maxTokens: 50, overlapTokens: 0, minTokens: 1 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.tokens).toBe(count(chunk.text));
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(50);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(text);
  });

  it('repeats whole trailing sentences of the previous chunk, within the overlap budget', () => {
    const text = Array.from({ length: 10 }, (_, index) => paragraph(index, 4)).join('\n\n');
    const { chunks } = chunkText(text, counter, { maxTokens: 150, overlapTokens: 30, minTokens: 1 });
    expect(chunks.length).toBeGreaterThan(2);
    const sentencesOf = (chunk: { text: string }) => splitSentences(chunk.text.replace(/\n\n/g, ' '));
    for (let index = 1; index < chunks.length; index += 1) {
      const previous = sentencesOf(chunks[index - 1] as { text: string });
      const next = sentencesOf(chunks[index] as { text: string });
      // The longest run of the previous chunk's last sentences that opens the next chunk.
      let carried = 0;
      for (let k = 1; k <= Math.min(previous.length, next.length); k += 1) {
        if (previous.slice(-k).join(' ') === next.slice(0, k).join(' ')) carried = k;
      }
      expect(carried).toBeGreaterThanOrEqual(1);
      expect(count(next.slice(0, carried).join(' '))).toBeLessThanOrEqual(30);
      expect((chunks[index] as { tokens: number }).tokens).toBeLessThanOrEqual(150);
      expect((chunks[index] as { tokens: number }).tokens).toBe(count((chunks[index] as { text: string }).text));
    }
  });

  it('drops and counts chunks below minTokens', () => {
    expect(chunkText('Too short.', counter, { maxTokens: 100, overlapTokens: 0, minTokens: 10 })).toEqual({ chunks: [], droppedShort: 1 });
  });

  it('refuses absurd options', () => {
    expect(() => chunkText('x', counter, { maxTokens: 0, overlapTokens: 0, minTokens: 1 })).toThrow(/invalid chunk options/);
    expect(() => chunkText('x', counter, { maxTokens: 10, overlapTokens: 10, minTokens: 1 })).toThrow(/invalid chunk options/);
  });
});

describe('splitSentences', () => {
  it('splits on sentence ends, keeping abbreviation-free sentences whole', () => {
    expect(splitSentences('It isn’t. It never was! Was it? Yes… maybe.')).toEqual(['It isn’t.', 'It never was!', 'Was it?', 'Yes… maybe.']);
  });
});
