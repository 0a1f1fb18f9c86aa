import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { mockClient } from 'aws-sdk-client-mock';
import { DatasetRecordSchema, PrepareDataInputSchema, type DatasetRecord } from '../../../common/prepare-data/contract';
import { markdownBlocks } from '../../../common/prepare-data/text/blocks';
import { compareForKeep, epochDays, keepOrder, namedAsCopy } from '../../../common/prepare-data/text/keep';
import { localSource, s3Source, sourceFor, type SourceConfinement } from '../../../activities/prepare-data/source';
import { blockHash, isSubstantial } from '../../../activities/prepare-data/documents';
import type { S3Sender } from '../../../activities/aws/clients';
import { processFolder } from '../../helpers/process-folder';

// The corpus-wide decisions on small corpora written here, each built to show one failure the issue
// found on a real corpus: which copy is kept, containment, boilerplate, undecodable names, confinement.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtwin-corpus-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(files: Record<string, string>, root = join(dir, 'corpus')): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return root;
}

async function prepare(root: string, overrides: object = {}) {
  const outcome = await processFolder(root, { split: { testRatio: 0.5 }, ...overrides }, mkdtempSync(join(dir, 'scratch-')));
  const read = (path: string) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => DatasetRecordSchema.parse(JSON.parse(line)));
  return { outcome, train: read(outcome.train.path), test: read(outcome.test.path) };
}

const sentence = (topic: string, index: number) =>
  `The ${topic} step ${index} checks the registry, the tag and the changelog before anything is published.`;
function readme(name: string, option: string): string {
  const paragraphs = Array.from({ length: 8 }, (_, index) => Array.from({ length: 3 }, (__, k) => sentence(name, index * 3 + k)).join(' '));
  return `# ${name}\n\n${paragraphs.slice(0, 4).join('\n\n')}\n\n## Options\n\nUse \`--${option}\` to skip the tests.\n\n${paragraphs.slice(4).join('\n\n')}\n`;
}

describe('the keep rule', () => {
  it('keeps the original README, not the edited copy whose name sorts first', async () => {
    // `-` sorts before `.`: by path order the edited copy (with an option that does not exist) would win.
    const root = write({ 'np/readme.md': readme('np', 'no-tests'), 'np/readme-edited.md': readme('np', 'yolo-mode') });
    const { outcome, train, test } = await prepare(root);
    expect(outcome.dedup.pairs).toEqual([
      expect.objectContaining({
        source: 'np/readme-edited.md',
        duplicateOf: 'np/readme.md',
        kind: 'near',
        rule: 'original: the other is named as a copy',
      }),
    ]);
    const published = [...train, ...test].map((record) => record.output).join('\n');
    expect(published).toContain('--no-tests');
    expect(published).not.toContain('--yolo-mode');
  });

  it('keeps the older of two dated copies by default, the newer with keep "newest", the first path with "first-path"', async () => {
    const post = (date: string, option: string) => `---\ntitle: Releasing\ndate: ${date}\n---\n\n${readme('release', option)}`;
    const root = write({ 'a-revised.md': post('2024-03-01', 'later'), 'b-original.md': post('2021-06-02', 'first') });
    const kept = async (keep: string) => (await prepare(root, { dedup: { keep } })).outcome.dedup.pairs[0]!;
    expect(await kept('original')).toMatchObject({ duplicateOf: 'b-original.md', rule: 'original: older (2021-06-02 before 2024-03-01)' });
    expect(await kept('newest')).toMatchObject({ duplicateOf: 'a-revised.md', rule: 'newest: newer (2024-03-01 after 2021-06-02)' });
    expect(await kept('first-path')).toMatchObject({ duplicateOf: 'a-revised.md', rule: 'first-path: first in path order' });
  });

  it('reads copy names and orders every pair the same way (a total order)', () => {
    for (const name of [
      'notes-copy.md',
      'Copy of notes.md',
      'notes (1).md',
      'notes.md.bak',
      'notes-edited.md',
      'notes_old.md',
      'notes.md~',
    ])
      expect([name, namedAsCopy(name)]).toEqual([name, true]);
    for (const name of ['notes.md', 'copywriting.md', 'bold-ideas.md', 'docs/edited-volumes.md'])
      expect([name, namedAsCopy(name)]).toEqual([name, false]);
    const candidates = [
      { source: 'c.md', position: 2, date: 3 },
      { source: 'a.md', position: 0 },
      { source: 'b-copy.md', position: 1, date: 1 },
      { source: 'd.md', position: 3, date: 2 },
      { source: 'e.jsonl#L10', position: 5 },
      { source: 'e.jsonl#L2', position: 4 },
    ];
    for (const a of candidates)
      for (const b of candidates) if (a !== b) expect(compareForKeep(a, b, 'original').order).toBe(-compareForKeep(b, a, 'original').order);
    const sorted = [...candidates].sort((a, b) => compareForKeep(a, b, 'original').order).map((candidate) => candidate.source);
    for (const rule of ['original', 'newest', 'first-path'] as const)
      for (const a of candidates)
        for (const b of candidates) if (a !== b) expect(keepOrder(a, b, rule)).toBe(compareForKeep(a, b, rule).order);
    // Dated before undated, older first; then reading order (line 2 before line 10); a copy last.
    expect(sorted).toEqual(['d.md', 'c.md', 'a.md', 'e.jsonl#L2', 'e.jsonl#L10', 'b-copy.md']);
  });
});

describe('dates for the keep rule', () => {
  const day = (iso: string) => Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / 86_400_000;

  it('reads the usual ways of writing a date as the calendar day written, whatever the time zone, and nothing else', () => {
    const zone = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati']) {
        process.env.TZ = tz;
        expect([
          epochDays('2021-06-02'),
          epochDays('"2021/6/2"'),
          epochDays('June 2, 2021'),
          epochDays('Wednesday, 2 June 2021'),
          epochDays('2nd Jun. 2021'),
          epochDays('2021-06-02T10:00:00'),
          epochDays('2021-06-02T10:00:00.000Z'),
          // The calendar date as written, whatever the clock and the zone.
          epochDays('2021-06-02T23:30:00-02:00'),
          epochDays('2021-06-02T00:30:00+02:00'),
          epochDays('June 2, 2021 10:00 AM'),
          epochDays('Wed, 02 Jun 2021 10:00:00 +0000'),
          epochDays('2 June 2021 at 23:59 CEST'),
        ]).toEqual(Array(12).fill(day('2021-06-02')));
      }
    } finally {
      // Assigning undefined would set the string "undefined", which every later test in this process would inherit.
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    for (const notADate of ['Version 2021', 'v2.0 2021', '2021', '2021-02-30', '2021-13-01', 'Junk 2, 2021', 'released in 2021']) {
      expect([notADate, epochDays(notADate)]).toEqual([notADate, undefined]);
    }
  });
});

describe('containment and the split', () => {
  it('finds a JSONL export of a Markdown file as contained, and no paragraph of test is in train', async () => {
    const markdown = readme('ky', 'retry');
    const paragraphs = markdownBlocks(markdown).filter((block) => block.kind === 'paragraph');
    const jsonl = paragraphs.map((block, index) => JSON.stringify({ text: block.text, title: `ky part ${index}` })).join('\n');
    const others = Object.fromEntries(
      Array.from({ length: 6 }, (_, index) => [`posts/other-${index}.md`, readme(`tool${index}`, `flag${index}`)]),
    );
    const root = write({ 'ky/readme.md': markdown, 'export/ky.jsonl': jsonl, ...others });
    const { outcome, train, test } = await prepare(root);
    const contained = outcome.dedup.pairs.filter((pair) => pair.kind === 'contained');
    // Every row whose paragraph is substantial is found inside the README, which is what stays.
    expect(contained.length).toBeGreaterThanOrEqual(paragraphs.filter((block) => isSubstantial(block)).length - 1);
    for (const pair of contained)
      expect(pair).toMatchObject({ duplicateOf: 'ky/readme.md', rule: 'contained: its paragraphs are in a larger document' });
    expect(outcome.counts.containedDuplicates).toBe(contained.length);
    expect([...train, ...test].some((record) => record.source === 'ky/readme.md')).toBe(true);

    // The guarantee, checked on the published records themselves.
    expect(test.length).toBeGreaterThan(0);
    const paragraphsOf = (records: DatasetRecord[]) =>
      new Set(
        records.flatMap((record) =>
          markdownBlocks(record.output)
            .filter((block) => isSubstantial(block))
            .map((block) => blockHash(block)),
        ),
      );
    const trainParagraphs = paragraphsOf(train);
    expect([...paragraphsOf(test)].filter((hash) => trainParagraphs.has(hash))).toEqual([]);
    expect(outcome.quality.trainTestParagraphOverlap).toBe(0);
  });

  it('drops a paragraph repeated in two documents from all but one, and counts it', async () => {
    const shared = 'This paragraph about the release checklist appears, word for word, in two different posts.';
    const root = write({
      'one.md': `# One\n\n${sentence('one', 1)}\n\n${shared}`,
      'two.md': `# Two\n\n${sentence('two', 2)}\n\n${shared}`,
    });
    const { outcome, train, test } = await prepare(root);
    expect(outcome.counts.repeatedParagraphsRemoved).toBe(1);
    expect([...train, ...test].filter((record) => record.output.includes(shared))).toHaveLength(1);
  });
});

describe('boilerplate by frequency', () => {
  const sponsor = 'This project is sponsored by Acme Cloud: deploy your packages in seconds with a free tier.';
  const files = (count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, index) => [`pkg${index}/readme.md`, `${readme(`pkg${index}`, `opt${index}`)}\n${sponsor}\n`]),
    );

  it('removes prose repeated in repeatedBlockMinFiles files from all of them, and reports it', async () => {
    const { outcome, train, test } = await prepare(write(files(4)));
    expect(outcome.boilerplate).toMatchObject({ minFiles: 3, distinct: 1, removed: 4, examples: [{ text: sponsor, files: 4 }] });
    expect(outcome.counts.boilerplateBlocksRemoved).toBe(4);
    expect([...train, ...test].some((record) => record.output.includes('sponsored by Acme'))).toBe(false);
  });

  it('does not take a post for a copy of a README because both carry the same boilerplate', async () => {
    // Each post has one paragraph of its own and a long footer of nine shared paragraphs, which the
    // READMEs carry too: 9 of 10 paragraphs "in a larger document", yet the post is no copy.
    const footer = Array.from(
      { length: 9 },
      (_, index) => `Footer paragraph ${index}: made with care in Lisbon by the maintainers, issues and pull requests welcome.`,
    ).join('\n\n');
    const posts = Object.fromEntries(
      Array.from({ length: 4 }, (_, index) => [
        `notes/post-${index}.md`,
        `# Post ${index}\n\n${sentence(`post${index}`, index)}\n\n${footer}\n`,
      ]),
    );
    const readmes = Object.fromEntries(Object.entries(files(4)).map(([name, text]) => [name, `${text}\n${footer}\n`]));
    const { outcome, train, test } = await prepare(write({ ...readmes, ...posts }));
    // (The posts are near duplicates of one another, the footer being most of each: one stays.)
    expect(outcome.dedup.pairs.filter((pair) => pair.kind === 'contained')).toEqual([]);
    expect([...train, ...test].some((record) => record.output.includes(sentence('post0', 0)))).toBe(true);
  });

  it('still finds a text repeated whole in several files contained, so it is kept once, not removed as boilerplate', async () => {
    const shared = Array.from({ length: 8 }, (_, index) => sentence('shared', index)).join('\n\n');
    const own = Array.from({ length: 8 }, (_, index) => sentence('own', index)).join('\n\n');
    const other = Array.from({ length: 8 }, (_, index) => sentence('other', index)).join('\n\n');
    const root = write({
      'big.md': `# Big\n\n${shared}\n\n${own}\n`,
      'mid.md': `# Mid\n\n${other}\n\n${shared}\n`,
      'export.jsonl': `${JSON.stringify({ title: 'Shared', text: shared })}\n`,
    });
    const { outcome, train, test } = await prepare(root);
    expect(outcome.dedup.pairs).toContainEqual(expect.objectContaining({ source: 'export.jsonl#L1', kind: 'contained' }));
    expect([...train, ...test].filter((record) => record.output.includes(sentence('shared', 0)))).toHaveLength(1);
  });

  it('keeps it (once) below the threshold, and never with repeatedBlockMinFiles 0', async () => {
    const { outcome } = await prepare(write(files(2)));
    expect(outcome.boilerplate.distinct).toBe(0);
    expect(outcome.counts.repeatedParagraphsRemoved).toBe(1);
    const off = await prepare(write(files(4), join(dir, 'off')), { clean: { repeatedBlockMinFiles: 0 } });
    expect(off.outcome.boilerplate.distinct).toBe(0);
  });
});

describe('file names', () => {
  it('skips a name that is not valid UTF-8 with a reason, and reads the rest', async () => {
    const root = write({ 'good.md': readme('good', 'x') });
    writeFileSync(Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.md')]), readme('bad', 'y'));
    const { outcome, train, test } = await prepare(root);
    expect(outcome.skippedFiles).toEqual([{ source: 'bad-\\xff\\xfe.md', reason: 'file name is not valid UTF-8: rename it to read it' }]);
    expect([...train, ...test].every((record) => record.source === 'good.md')).toBe(true);
    expect(train.length + test.length).toBeGreaterThan(0);
  });
});

describe('source confinement', () => {
  const settingsFor = (source: object) => PrepareDataInputSchema.parse({ source });
  const noS3 = {} as S3Sender;

  async function refusal(path: string, confinement: SourceConfinement): Promise<ApplicationFailure> {
    const error = await localSource(path, settingsFor({ kind: 'local', path }), confinement)
      .list()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(ApplicationFailure);
    return error as ApplicationFailure;
  }

  it('reads under a root, and refuses `..` escapes and symlinked roots that leave it, naming the roots and the setting', async () => {
    const root = write({ 'inside/post.md': 'Hello.' }, join(dir, 'allowed'));
    write({ 'secret.md': 'Not yours.' }, join(dir, 'outside'));
    symlinkSync(join(dir, 'outside'), join(root, 'link-out'));
    const confinement: SourceConfinement = { localRoots: [root], bucket: 'b', s3Allowed: [] };

    expect((await localSource(join(root, 'inside'), settingsFor({ kind: 'local', path: '.' }), confinement).list()).entries).toHaveLength(
      1,
    );
    for (const path of [join(root, '..', 'outside'), join(root, 'link-out'), '/etc', join(root, '..', 'missing')]) {
      const error = await refusal(path, confinement);
      expect(error.type).toBe('ValidationError');
      expect(error.nonRetryable).toBe(true);
      expect(error.message).toContain(root);
      expect(error.message).toMatch(/sources\.localRoots \(LLMTWIN_SOURCE_ROOTS\)/);
    }
    expect((await refusal(join(root, 'link-out'), confinement)).message).toContain(`(a link to ${join(dir, 'outside')})`);
    // Outside the roots, nothing tells a path that exists from one that does not.
    symlinkSync('/etc', join(dir, 'outside', 'etc-link'));
    const shown = async (path: string) => (await refusal(path, confinement)).message.replace(path, '<path>');
    expect(await shown(join(dir, 'outside', 'etc-link'))).toBe(await shown(join(dir, 'outside', 'no-such-link')));
    expect(await shown(join(dir, 'outside', 'secret.md'))).toBe(await shown(join(dir, 'outside', 'no-such-file.md')));
    // A root given through a symbolic link is the folder it points to.
    symlinkSync(root, join(dir, 'alias'));
    expect(
      (
        await localSource(join(root, 'inside'), settingsFor({ kind: 'local', path: '.' }), {
          ...confinement,
          localRoots: [join(dir, 'alias')],
        }).list()
      ).entries,
    ).toHaveLength(1);
  });

  it('checks each file again as it is read: a folder swapped for a link after the listing is refused', async () => {
    const root = write({ 'posts/a.md': 'Hello there, a post.' }, join(dir, 'allowed'));
    write({ 'a.md': 'Not yours.' }, join(dir, 'outside'));
    const source = localSource(root, settingsFor({ kind: 'local', path: root }), { localRoots: [root], bucket: 'b', s3Allowed: [] });
    const listing = await source.list();
    rmSync(join(root, 'posts'), { recursive: true });
    symlinkSync(join(dir, 'outside'), join(root, 'posts'));
    const error = await source.fetch(listing.entries[0]!, dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).message).toMatch(
      /a file of source\.path .*posts\/a\.md \(a link to .*outside\/a\.md\) is outside the folders/,
    );
  });

  it('defaults to the working directory when no root is configured', async () => {
    const error = await refusal('/etc', { localRoots: [], bucket: 'b', s3Allowed: [] });
    expect(error.message).toContain(process.cwd());
  });

  it('allows the deployment bucket and listed prefixes only for S3 sources', () => {
    const confinement: SourceConfinement = { localRoots: [], bucket: 'twin-data', s3Allowed: ['s3://shared-writing/maren/'] };
    const attempt = (uri: string) => () => sourceFor(settingsFor({ kind: 's3', uri }), noS3, confinement);
    expect(attempt('s3://twin-data/raw/')).not.toThrow();
    expect(attempt('s3://shared-writing/maren/posts/')).not.toThrow();
    expect(attempt('s3://shared-writing/maren')).not.toThrow();
    for (const uri of ['s3://shared-writing/other/', 's3://shared-writing/maren-evil/', 's3://elsewhere/x/']) {
      expect(attempt(uri)).toThrow(
        /outside the bucket this deployment writes to \(twin-data\).*sources\.s3Allowed \(LLMTWIN_SOURCE_S3_ALLOW\)/,
      );
    }
  });

  it('lists only what lies under an allowed prefix as a folder, never a sibling that shares its characters', async () => {
    // S3 answers a ListObjectsV2 for Prefix "maren" with maren-evil/ too; the source must not read it.
    const s3 = mockClient(S3Client);
    const object = (Key: string) => ({ Key, Size: 10, ETag: '"e"' });
    s3.on(ListObjectsV2Command, { Prefix: 'maren' }).resolves({
      Contents: [object('maren'), object('maren/posts/a.md'), object('maren-evil/secret.md'), object('maren.md')],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'maren/posts/a.md' }).resolves({
      Contents: [object('maren/posts/a.md'), object('maren/posts/a.md.bak')],
    });
    const list = async (uri: string) => (await s3Source(uri, settingsFor({ kind: 's3', uri }), new S3Client({})).list()).entries;

    expect((await list('s3://shared-writing/maren')).map((entry) => entry.key)).toEqual(['maren/posts/a.md']);
    // A URI naming one object reads that object alone.
    expect((await list('s3://shared-writing/maren/posts/a.md')).map((entry) => entry.key)).toEqual(['maren/posts/a.md']);
    s3.restore();
  });
});
