import { firstSentence, templateInstruction, topicWords } from '../../../common/prepare-data/text/instruct';
import { assignSplit } from '../../../common/prepare-data/text/split';

describe('templateInstruction', () => {
  const author = { name: 'Wren Castellanos', handle: 'wrenfixes' };
  const text = 'The harbour at Port Ellery has a particular light. The harbour is cold; the light is silver.';

  it('is deterministic: the same chunk id always gives the same instruction', () => {
    const context = { id: 'abc-0', title: 'Harbour light', text, chunkIndex: 0, author };
    expect(templateInstruction(context)).toBe(templateInstruction({ ...context }));
  });

  it('asks for the titled piece on a first chunk and a continuation later', () => {
    const first = templateInstruction({ id: 'a-0', title: 'Harbour light', text, chunkIndex: 0, author });
    const later = templateInstruction({ id: 'a-1', title: 'Harbour light', text, chunkIndex: 1, author });
    expect(first).toContain('"Harbour light"');
    expect(later).toContain('"Harbour light"');
    expect(later).toMatch(/continue|keep writing|next (section|part)/i);
    expect(first).not.toMatch(/continue|keep writing|next (section|part)/i);
  });

  it('varies the phrasing across chunks and can name the author', () => {
    const instructions = new Set(
      Array.from({ length: 40 }, (_, index) =>
        templateInstruction({ id: `doc-${index}`, title: 'Harbour light', text, chunkIndex: 0, author }),
      ),
    );
    expect(instructions.size).toBeGreaterThanOrEqual(6);
    expect([...instructions].some((instruction) => instruction.includes('Wren Castellanos'))).toBe(true);
    expect([...instructions].some((instruction) => instruction.includes('@wrenfixes'))).toBe(true);
    for (const instruction of instructions) expect(instruction).toMatch(/^[A-Z].*[.!?]$/);
  });

  it('uses topic words or the first sentence when there is no title', () => {
    const instructions = Array.from({ length: 20 }, (_, index) =>
      templateInstruction({ id: `n-${index}`, text, chunkIndex: 0, author: {} }),
    );
    expect(instructions.some((instruction) => instruction.includes('harbour'))).toBe(true);
    expect(instructions.some((instruction) => instruction.includes('"The harbour at Port Ellery has a particular light."'))).toBe(true);
  });

  it('extracts topics and first sentences sensibly', () => {
    expect(topicWords(text, 2)).toEqual(['harbour', 'light']);
    expect(firstSentence('## Heading line. More')).toBe('Heading line.');
    expect(firstSentence('- a list item without a stop')).toBe('a list item without a stop');
  });
});

describe('assignSplit', () => {
  const keys = Array.from({ length: 5000 }, (_, index) => `document-${index}`);

  it('is stable: the same key, ratio and seed always land on the same side', () => {
    const first = keys.map((key) => assignSplit(key, 0.1, 'llmtwin'));
    const second = keys.map((key) => assignSplit(key, 0.1, 'llmtwin'));
    expect(second).toEqual(first);
  });

  it('honours the ratio and moves documents only one way when it grows', () => {
    const test10 = keys.filter((key) => assignSplit(key, 0.1, 'llmtwin') === 'test');
    const test20 = new Set(keys.filter((key) => assignSplit(key, 0.2, 'llmtwin') === 'test'));
    expect(test10.length / keys.length).toBeGreaterThan(0.08);
    expect(test10.length / keys.length).toBeLessThan(0.12);
    expect(test10.every((key) => test20.has(key))).toBe(true);
  });

  it('reshuffles with another seed', () => {
    const a = keys.map((key) => assignSplit(key, 0.1, 'one'));
    const b = keys.map((key) => assignSplit(key, 0.1, 'two'));
    expect(a).not.toEqual(b);
  });
});
