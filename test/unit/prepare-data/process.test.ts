import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetRecordSchema, PrepareDataInputSchema } from '../../../common/prepare-data/contract';
import { templateInstructor, type Instructor } from '../../../activities/prepare-data/generator';
import { HelperThreads } from '../../../activities/prepare-data/helper-threads';
import { processSource } from '../../../activities/prepare-data/process';
import { localSource } from '../../../activities/prepare-data/source';
import { JsonlSink } from '../../../activities/prepare-data/staging';
import { processFolder } from '../../helpers/process-folder';

// The imperative shell on the sample corpus, without Temporal or S3: what the activity stages before
// uploading. (The workflow through a real worker is in test/integration/prepare-data.test.ts.)

const CORPUS = join(__dirname, '../../../examples/corpus');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtwin-process-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function processCorpus(scratch: string) {
  return processFolder(CORPUS, { author: { name: 'Maren Holt' } }, scratch);
}

describe('processSource on examples/corpus', () => {
  it('stages train/test JSONL with exact hashes, reports every skipped file and every duplicate', async () => {
    const outcome = await processCorpus(dir);

    expect(outcome.counts.filesRead).toBeGreaterThan(20);
    // The PNG, the Markdown file that is really a PNG, and the Latin-1 letter: skipped, each with its reason.
    const reasons = Object.fromEntries(outcome.skippedFiles.map((item) => [item.source, item.reason]));
    expect(reasons['images/workbench.png']).toMatch(/unsupported file type|binary/);
    expect(reasons['misc/workbench-photo.md']).toMatch(/binary file \(PNG image\)/);
    expect(reasons['old/letter-to-grandad-latin1.txt']).toMatch(/not valid UTF-8/);
    // drafts/ holds a copy of a post, and the site republishes another: the keep rule keeps the
    // originals (a name that says "copy" loses; a dated post beats an undated page), whatever the path order.
    expect(outcome.dedup.pairs).toEqual(
      expect.arrayContaining([
        {
          source: 'drafts/harbour-light-copy.md',
          duplicateOf: 'posts/2021-06-02-harbour-light.md',
          kind: 'exact',
          similarity: 1,
          rule: 'original: the other is named as a copy',
        },
        expect.objectContaining({
          source: 'site/brakes-before-speed.html',
          duplicateOf: 'posts/2022-03-08-brakes-before-speed.md',
          kind: 'near',
        }),
      ]),
    );
    expect(outcome.counts.exactDuplicates + outcome.counts.nearDuplicates + outcome.counts.containedDuplicates).toBe(
      outcome.dedup.pairs.length,
    );
    expect(outcome.quality).toMatchObject({
      balancedFencesShare: 1,
      recordsStartingInsideBlock: 0,
      recordsEndingInsideBlock: 0,
      trainTestParagraphOverlap: 0,
    });
    expect(outcome.quality.records).toBe(outcome.train.records + outcome.test.records);

    for (const staged of [outcome.train, outcome.test]) {
      const bytes = readFileSync(staged.path);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(staged.sha256);
      expect(bytes.length).toBe(staged.bytes);
      const lines = bytes.toString('utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(staged.records);
      for (const line of lines) DatasetRecordSchema.parse(JSON.parse(line));
    }
    expect(outcome.train.records).toBeGreaterThan(outcome.test.records);
    expect(outcome.tokens.max).toBeLessThanOrEqual(1024);
  });

  it('is deterministic: a second run stages byte-identical files', async () => {
    const first = await processCorpus(dir);
    const again = mkdtempSync(join(tmpdir(), 'llmtwin-process-again-'));
    try {
      const second = await processCorpus(again);
      expect([second.train.sha256, second.test.sha256]).toEqual([first.train.sha256, first.test.sha256]);
      expect(second.counts).toEqual(first.counts);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});

describe('processSource with a helper thread', () => {
  it.each([
    ['examples/corpus', CORPUS],
    ['the code-heavy fixtures', join(__dirname, '../../fixtures/code-corpus')],
  ])('writes byte for byte what one thread writes (%s)', async (_name, root) => {
    const run = async (threads: number) => {
      const scratch = mkdtempSync(join(dir, `threads-${threads}-`));
      const outcome = await processFolder(root, { chunk: { maxTokens: 256, overlapTokens: 32 } }, scratch, { threads, helperMinBytes: 0 });
      return {
        hashes: [outcome.train.sha256, outcome.test.sha256],
        counts: outcome.counts,
        quality: outcome.quality,
        pairs: outcome.dedup.pairs,
        boilerplate: outcome.boilerplate,
      };
    };
    const one = await run(1);
    expect(one.hashes[0]).not.toBe(one.hashes[1]);
    expect(await run(2)).toEqual(one);
    expect(await run(3)).toEqual(one);
  });
});

describe('processSource with an instructor other than the templates (a generator)', () => {
  it('hands it every record in order, and writes the same bytes with a helper thread', async () => {
    const asked: string[] = [];
    const instructor: Instructor = {
      batchSize: 7,
      report: () => undefined,
      instruct: (records) => {
        asked.push(...records.map(({ record }) => record.id));
        return Promise.resolve(records.map(({ record, context }) => `Write ${record.id} as a ${context.genre}.`));
      },
    };
    const run = async (threads: number) => {
      asked.length = 0;
      const scratch = mkdtempSync(join(dir, `phrased-${threads}-`));
      const outcome = await processFolder(CORPUS, { chunk: { maxTokens: 256, overlapTokens: 32 } }, scratch, {
        threads,
        helperMinBytes: 0,
        instructor,
      });
      return { outcome, asked: [...asked] };
    };
    const one = await run(1);
    const lines = [one.outcome.train.path, one.outcome.test.path].flatMap((path) =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; instruction: string }),
    );
    expect(lines).toHaveLength(one.asked.length);
    expect(lines.map((line) => line.id).sort()).toEqual([...one.asked].sort());
    for (const line of lines) expect(line.instruction).toMatch(new RegExp(`^Write ${line.id} as a [a-z-]+\\.$`));
    const two = await run(2);
    expect(two.asked).toEqual(one.asked);
    expect([two.outcome.train.sha256, two.outcome.test.sha256]).toEqual([one.outcome.train.sha256, one.outcome.test.sha256]);
  });
});

describe('processSource with long records and a failing helper', () => {
  // A JSONL export whose rows are far longer than clean.maxDocumentChars: one with paragraphs (cut
  // into parts), one a single 1.5 MB line that nothing can cut (done on the main thread, not a helper).
  function writeLongExport(root: string) {
    mkdirSync(root, { recursive: true });
    const paragraphs = Array.from(
      { length: 4000 },
      (_, index) => `Paragraph ${index} of the long post, about gears and chains and ${index % 97} spokes.`,
    );
    const rows = [
      { title: 'Long post', body: paragraphs.join('\n\n') },
      { title: 'One line', body: Array.from({ length: 60_000 }, (_, index) => `w${index}`).join(' ') },
      { title: 'Short', body: 'A short post about a bell that rings twice when the wind is from the north.' },
    ];
    writeFileSync(join(root, 'export.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    writeFileSync(join(root, 'note.md'), '# A note\n\nThe note has words of its own, enough for a record.\n');
  }

  async function run(root: string, threads: number) {
    const input = { formats: { json: { textField: 'body', titleField: 'title' } }, clean: { maxDocumentChars: 50_000 } };
    return processFolder(root, input, mkdtempSync(join(dir, `threads-${threads}-`)), { threads, helperMinBytes: 0 });
  }

  it('cuts a record longer than maxDocumentChars into continued parts, the same with helper threads', async () => {
    const root = join(dir, 'corpus');
    writeLongExport(root);
    const one = await run(root, 1);
    // 286,468 characters of paragraphs cut once 50,000 have accumulated: 6 parts; the rest one document each.
    expect(one.counts.documents).toBe(6 + 1 + 1 + 1);
    const sources = readFileSync(one.train.path, 'utf8') + readFileSync(one.test.path, 'utf8');
    expect(sources).toContain('"source":"export.jsonl#L1#6"');
    expect(sources).not.toContain('export.jsonl#L1#7');
    const two = await run(root, 2);
    expect([two.train.sha256, two.test.sha256]).toEqual([one.train.sha256, one.test.sha256]);
    expect(two.warnings).toEqual(one.warnings);
  });

  it("does a dead helper's work on the main thread: same bytes, a warning, no unhandled rejection", async () => {
    const root = join(dir, 'corpus');
    writeLongExport(root);
    const one = await run(root, 1);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const prepare = jest.spyOn(HelperThreads.prototype, 'prepare').mockRejectedValue(new Error('helper thread exited with code 1'));
    try {
      const two = await run(root, 3);
      expect(prepare).toHaveBeenCalled();
      expect([two.train.sha256, two.test.sha256]).toEqual([one.train.sha256, one.test.sha256]);
      expect(two.warnings).toContainEqual(expect.stringMatching(/a helper thread failed \(helper thread exited with code 1\)/));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      prepare.mockRestore();
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('the genre of a continued part', () => {
  it('comes from the part right before it, never from another record when that part cleaned to nothing', async () => {
    const root = join(dir, 'genre');
    mkdirSync(root);
    const images = Array.from({ length: 120 }, (_, index) => `![photo ${index}](photos/${index}.png)`).join('\n\n');
    const words = Array.from({ length: 60 }, (_, index) => `Sentence ${index} of a long post about the night ferry and its crew.`).join(
      ' ',
    );
    const rows = [
      { text: 'Short social post about the ferry being late again, with a photo of the gulls.' },
      { text: `${images}\n\n${words}` },
    ];
    writeFileSync(join(root, 'export.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n'));
    const outcome = await processFolder(root, { clean: { maxDocumentChars: 1000 } }, dir);
    expect(outcome.counts.emptyDocuments).toBeGreaterThan(0);
    expect(outcome.quality.genres['social-post']).toBe(1);
  });
});

describe('processSource failing with helper threads at work', () => {
  it('fails with the cause, redoes nothing after, and leaves no unhandled rejection', async () => {
    const root = join(dir, 'corpus');
    mkdirSync(root);
    const paragraphs = Array.from(
      { length: 3000 },
      (_, index) => `Paragraph ${index} about the ferry timetable and its ${index % 13} changes.`,
    );
    writeFileSync(join(root, 'a-long.md'), paragraphs.join('\n\n'));
    writeFileSync(join(root, 'b-broken.md'), 'never read');
    const settings = PrepareDataInputSchema.parse({ source: { kind: 'local', path: root } });
    const inner = localSource(root, settings);
    const source = {
      list: () => inner.list(),
      fetch: async (...args: Parameters<typeof inner.fetch>) => {
        if (args[0].path === 'b-broken.md') throw new Error('the disk went away');
        return inner.fetch(...args);
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(
        processSource({
          settings,
          source,
          listing: await source.list(),
          scratchDir: dir,
          instructor: templateInstructor,
          threads: 3,
          helperMinBytes: 0,
        }),
      ).rejects.toThrow('the disk went away');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('processSource on a long file cut into parts', () => {
  it("names, in each part's first instruction, the section or the words the part before ended on", async () => {
    const root = join(dir, 'long');
    mkdirSync(root);
    // Varied words, so that no part is a near duplicate of another.
    const words =
      'anchor basalt cormorant dredger ebb fathom gale hawser inlet jetty keel lighthouse mooring neap oar pilot quay rigging'.split(' ');
    const word = (seed: number) => words[(seed * 7919) % words.length]!;
    const paragraph = (index: number) =>
      `The ${word(index)} and the ${word(index * 3 + 1)} meet the ${word(index * 5 + 2)} where the ${word(index * 11 + 3)} turns, in wall ${index}.`;
    const sections = Array.from({ length: 5 }, (_, section) =>
      [`## Storm season ${section}`, ...Array.from({ length: 12 }, (_, index) => paragraph(section * 100 + index))].join('\n\n'),
    );
    writeFileSync(join(root, 'harbour.md'), `# The harbour\n\n${sections.join('\n\n')}\n`);
    const tides = Array.from(
      { length: 200 },
      (_, index) => `${word(index)}, ${word(index * 13 + 5)} and ${word(index * 17 + 7)} by the pier, line ${index}.`,
    );
    writeFileSync(join(root, 'pier.txt'), tides.join('\n\n'));
    // Cut so that its last part is short: alone, it would pass for a note.
    const story = Array.from(
      { length: 42 },
      (_, index) => `${word(index)} and ${word(index * 7 + 1)} along the sea wall, as line ${index} says.`,
    );
    writeFileSync(join(root, 'story.txt'), story.join('\n\n'));
    const outcome = await processFolder(root, { clean: { maxDocumentChars: 2000 }, chunk: { maxTokens: 256, overlapTokens: 0 } }, dir);
    const records = [outcome.train.path, outcome.test.path]
      .flatMap((path) => readFileSync(path, 'utf8').split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as { source: string; instruction: string; id: string });
    const firstOfPart = new Map<string, string>();
    for (const record of records.sort((a, b) => Number(a.id.split('-')[1]) - Number(b.id.split('-')[1])))
      if (!firstOfPart.has(record.source)) firstOfPart.set(record.source, record.instruction);
    const parts = [...firstOfPart.entries()].filter(([part]) => part.includes('#'));
    expect(parts.filter(([part]) => part.startsWith('harbour.md#')).length).toBeGreaterThanOrEqual(2);
    expect(parts.filter(([part]) => part.startsWith('pier.txt#')).length).toBeGreaterThanOrEqual(2);
    expect(parts.filter(([part]) => part.startsWith('story.txt#'))).toHaveLength(1);
    // Every part of a piece is of the piece's genre, the short last part of the story too.
    expect(Object.keys(outcome.quality.genres)).toHaveLength(1);
    for (const [part, instruction] of parts)
      expect([part, instruction]).toEqual([
        part,
        part.startsWith('harbour') ? expect.stringMatching(/"Storm season \d"/) : expect.stringMatching(/after the part on \w+|"Story"/),
      ]);
  });
});

describe('JsonlSink', () => {
  it('writes one line per record across buffer flushes, multi-byte text and a record larger than the buffer', async () => {
    const sink = new JsonlSink(join(dir, 'out.jsonl'));
    const records = [
      ...Array.from({ length: 3000 }, (_, index) => ({ index, text: `“Quoted” — café ${'x'.repeat(index % 700)} 😀` })),
      { index: -1, text: 'é'.repeat(1_500_000) },
      { index: 3000, text: 'after the big one' },
    ];
    for (const record of records) await sink.write(record);
    const staged = await sink.close();

    const bytes = readFileSync(staged.path);
    expect(staged).toMatchObject({
      records: records.length,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(
      bytes
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as object),
    ).toEqual(records);
  });
});
