import { detectGenre, type Genre } from '../../../common/prepare-data/text/genre';
import { firstSentence, templateInstruction, topicWords, type InstructContext } from '../../../common/prepare-data/text/instruct';
import { assignSplit } from '../../../common/prepare-data/text/split';
import { markdownBlocks } from '../../../common/prepare-data/text/blocks';

const author = { name: 'Wren Castellanos', handle: 'wrenfixes' };
const text = 'The harbour at Port Ellery has a particular light. The harbour is cold; the light is silver.';

function context(overrides: Partial<InstructContext> & { id: string }): InstructContext {
  return { genre: 'blog-post', title: 'Harbour light', text, prose: text, chunkIndex: 0, hasCode: false, author, ...overrides };
}

describe('templateInstruction', () => {
  it('is deterministic: the same chunk id always gives the same instruction', () => {
    expect(templateInstruction(context({ id: 'abc-0' }))).toBe(templateInstruction(context({ id: 'abc-0' })));
  });

  it('asks for the titled piece on a first chunk and a continuation later', () => {
    const first = templateInstruction(context({ id: 'a-0' }));
    const later = templateInstruction(context({ id: 'a-1', chunkIndex: 1 }));
    expect(first).toContain('"Harbour light"');
    expect(later).toContain('"Harbour light"');
    expect(later).toMatch(/continue|keep writing|next (section|part)/i);
    expect(first).not.toMatch(/continue|keep writing|next (section|part)/i);
  });

  it('says what the previous part covered in a continuation', () => {
    const byHeading = Array.from({ length: 12 }, (_, index) =>
      templateInstruction(context({ id: `p-${index}`, chunkIndex: 2, previous: { heading: 'Getting there', topics: [] } })),
    );
    expect(byHeading.every((instruction) => instruction.includes('after the part on "Getting there"'))).toBe(true);
    const byTopics = templateInstruction(context({ id: 'q-1', chunkIndex: 1, previous: { topics: ['ferries', 'timetables'] } }));
    expect(byTopics).toContain('after the part on ferries and timetables');
  });

  it('names the part before only when it differs, and never takes a word cut in two for a topic', () => {
    const prose = 'Ferries wait for the tide. Ferries and timetables rule the harbour, and timetables change. ';
    const same = Array.from({ length: 12 }, (_, index) =>
      templateInstruction(
        context({ id: `s-${index}`, chunkIndex: 3, text: prose, prose, previous: { topics: ['ferries', 'timetables', 'harbour'] } }),
      ),
    );
    for (const instruction of same) expect(instruction).not.toContain('after the part on');
    // The sample is cut at a space: the word straddling its end is not taken, whole or in part.
    // 239 distinct four-letter words end at 1195, so a 1200-character cut falls inside "Indentation",
    // and among words seen once the longest wins.
    const letters = (index: number) => String.fromCharCode(97 + (index % 26), 97 + Math.floor(index / 26), 122, 122);
    const long = `${Array.from({ length: 239 }, (_, index) => letters(index)).join(' ')} Indentation and more`;
    expect(topicWords(long.slice(0, 1200), 3)).toContain('inden');
    const named = templateInstruction(context({ id: 'l-1', chunkIndex: 1, title: undefined, text: long, prose: long }));
    expect(named).not.toMatch(/\binde\w*/);
  });

  it('names the section a part goes on in, and the one it ends and the one it starts', () => {
    const inside = templateInstruction(
      context({ id: 's-1', genre: 'readme', title: 'ky', chunkIndex: 2, section: 'Options', previous: { heading: 'Options', topics: [] } }),
    );
    expect(inside).toMatch(/"Options"/);
    expect(inside).toMatch(/continue|go on/i);
    expect(inside).not.toMatch(/after the part on/);
    const bridge = templateInstruction(
      context({ id: 's-2', genre: 'readme', title: 'ky', chunkIndex: 3, section: 'Options', heading: 'Retries' }),
    );
    expect(bridge).toMatch(/(finish|complete) (the )?"Options".*"Retries"/i);
  });

  it('asks for a README section as one, never as a blog post', () => {
    const readme = Array.from({ length: 20 }, (_, index) =>
      templateInstruction(context({ id: `r-${index}`, genre: 'readme', title: 'np', heading: 'Usage', chunkIndex: 3, hasCode: true })),
    );
    for (const instruction of readme) {
      expect(instruction).toMatch(/README|docs/);
      expect(instruction).toContain('Usage');
      expect(instruction).not.toMatch(/blog|post\b/i);
    }
  });

  it.each<[Genre, RegExp]>([
    ['blog-post', /post|piece|article/],
    ['essay', /essay/],
    ['newsletter', /newsletter/],
    ['notes', /note/],
    ['social-post', /post/i],
  ])('phrases a %s as what it is', (genre, pattern) => {
    for (let index = 0; index < 10; index += 1) expect(templateInstruction(context({ id: `${genre}-${index}`, genre }))).toMatch(pattern);
  });

  it('varies the phrasing across chunks and can name the author', () => {
    const instructions = new Set(Array.from({ length: 40 }, (_, index) => templateInstruction(context({ id: `doc-${index}` }))));
    expect(instructions.size).toBeGreaterThanOrEqual(6);
    expect([...instructions].some((instruction) => instruction.includes('Wren Castellanos'))).toBe(true);
    expect([...instructions].some((instruction) => instruction.includes('@wrenfixes'))).toBe(true);
    for (const instruction of instructions) expect(instruction).toMatch(/^[A-Z].*[.!?]$/);
  });

  it('uses topic words, else the first sentence, when there is no title', () => {
    const titleless = { title: undefined, author: {} };
    const instructions = Array.from({ length: 20 }, (_, index) => templateInstruction(context({ id: `n-${index}`, ...titleless })));
    expect(instructions.every((instruction) => instruction.includes('harbour'))).toBe(true);
    const noTopics = templateInstruction(context({ id: 'x-0', ...titleless, text: 'It is so.', prose: 'It is so.' }));
    expect(noTopics).toMatch(/"It is so\."/);
  });
});

describe('topicWords', () => {
  it('takes frequent content words', () => {
    expect(topicWords(text, 2)).toEqual(['harbour', 'light']);
  });

  it('never takes code tokens, identifiers, URL parts or file names', () => {
    const prose =
      'Install with `npm install np` from https://github.com/sindresorhus/np and see github.com/x. ' +
      'The const maxTokens and retry_count in index.js decide publishing; publishing runs the release checks. ' +
      'Releases need checks, and publishing needs releases.';
    const topics = topicWords(prose, 3);
    expect(topics).toEqual(['publishing', 'releases', 'checks']);
    for (const word of ['https', 'github', 'const', 'maxtokens', 'index', 'sindresorhus', 'install']) expect(topics).not.toContain(word);
  });

  it('reads first sentences without markup', () => {
    expect(firstSentence('## Heading line. More')).toBe('Heading line.');
    expect(firstSentence('- a list item without a stop')).toBe('a list item without a stop');
  });
});

describe('detectGenre', () => {
  const evidence = (source: string, markdown: string, format: 'markdown' | 'jsonl' = 'markdown', dated = false) => ({
    source,
    format,
    blocks: markdownBlocks(markdown),
    dated,
  });
  const code = '```js\nconst x = require("x");\nx({ retries: 3 });\n```';

  it('knows READMEs and docs by name and folder, and code-heavy sectioned writing as documentation', () => {
    expect(detectGenre(evidence('np/readme.md', 'Publish packages.'))).toBe('readme');
    expect(detectGenre(evidence('docs/options.md', 'Options.'))).toBe('readme');
    expect(detectGenre(evidence('ky.md', `# ky\n\n## Install\n\n${code}\n\n## Usage\n\n${code}\n\nThat is all.`))).toBe('readme');
  });

  it('knows posts, essays, newsletters, notes and social posts', () => {
    expect(detectGenre(evidence('posts/2021-06-02-harbour-light.md', 'A post.', 'markdown', true))).toBe('blog-post');
    expect(detectGenre(evidence('essays/on-maintenance.md', 'An essay.'))).toBe('essay');
    expect(detectGenre(evidence('newsletter/issue-12.md', 'This week.'))).toBe('newsletter');
    expect(detectGenre(evidence('notes/ferries.md', 'A note.'))).toBe('notes');
    expect(detectGenre(evidence('export.jsonl#L3', 'Short take on tides.', 'jsonl'))).toBe('social-post');
    expect(detectGenre(evidence('tweets/2020.md', 'Short take.'))).toBe('social-post');
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
