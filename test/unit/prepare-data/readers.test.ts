import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrepareDataInputSchema } from '../../../common/prepare-data/contract';
import { inspectFile } from '../../../activities/prepare-data/inspect';
import { readLineBatches } from '../../../activities/prepare-data/lines';
import { readDocuments, type ReadItem } from '../../../activities/prepare-data/readers';
import type { SourceFormat } from '../../../common/prepare-data/contract';
import { cleanMarkdown } from '../../helpers/text';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmtwin-readers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function read(name: string, content: string, format: SourceFormat, overrides: object = {}): Promise<ReadItem[]> {
  const localPath = file(name, content);
  const items: ReadItem[] = [];
  const merged = PrepareDataInputSchema.parse({ source: { kind: 'local', path: '.' }, ...overrides });
  for await (const item of readDocuments({ localPath, path: name, format, bytes: Buffer.byteLength(content) }, merged)) items.push(item);
  return items;
}

describe('inspectFile', () => {
  it('fingerprints text files with MD5 and accepts UTF-8 split across read buffers', async () => {
    // 5.25 MB of three-byte characters, streamed (over 4 MiB): one straddles the 1 MiB read buffer boundary.
    const text = '€'.repeat(1_750_000);
    const result = await inspectFile(file('a.txt', text), 'a.txt');
    expect(result.skipReason).toBeUndefined();
    expect(result.bytes).toBe(5_250_000);
    expect(result.content).toBeUndefined();
    // A small file is read whole, and its bytes come back for its reader.
    const small = await inspectFile(file('b.txt', '€'.repeat(1000)), 'b.txt');
    expect(small).toMatchObject({ bytes: 3000, content: Buffer.from('€'.repeat(1000)) });
    expect(result.md5).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ['Latin-1 text', Buffer.from('caf\xe9 cr\xe8me', 'latin1'), /not valid UTF-8/],
    ['a PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), /binary file \(PNG image\)/],
    ['NUL bytes', Buffer.from('text\u0000with nul'), /binary file \(contains NUL bytes\)/],
    ['UTF-16', Buffer.from('\ufeffhello', 'utf16le'), /UTF-16/],
    ['an empty file', Buffer.alloc(0), /empty file/],
  ])('skips %s with a reason', async (_name, content, reason) => {
    expect((await inspectFile(file('x.txt', content), 'x.txt')).skipReason).toMatch(reason);
  });
});

describe('readLineBatches', () => {
  it('streams lines with numbers and reports an over-long line instead of holding it', async () => {
    const path = file('l.txt', `short\r\n${'x'.repeat(5000)}\nlast`);
    const lines = [];
    for await (const batch of readLineBatches(path, 1000))
      lines.push(...batch.map(({ number, text, tooLong }) => ({ number, text, tooLong })));
    expect(lines).toEqual([
      { number: 1, text: 'short', tooLong: false },
      { number: 2, text: '', tooLong: true },
      { number: 3, text: 'last', tooLong: false },
    ]);
  });
});

describe('readDocuments', () => {
  it('reads a Markdown post: front matter title, one document', async () => {
    const items = await read(
      'post.md',
      '---\ntitle: "Harbour light"\ndate: 2021-06-02\n---\n\nThe harbour at dawn.\n\nCold water.\n',
      'markdown',
    );
    expect(items).toEqual([
      {
        document: {
          source: 'post.md',
          title: 'Harbour light',
          date: '2021-06-02',
          text: '\nThe harbour at dawn.\n\nCold water.',
          format: 'markdown',
        },
      },
    ]);
  });

  it('splits a Markdown export at each top-level heading', async () => {
    const items = await read('export.md', '# First post\n\nOne.\n\n# Second post\n\nTwo.\n', 'markdown');
    expect(
      items.map((item) => ('document' in item ? [item.document.source, item.document.title, item.document.text.trim()] : item)),
    ).toEqual([
      ['export.md', 'First post', 'One.'],
      ['export.md#2', 'Second post', 'Two.'],
    ]);
  });

  it('does not split at a `# comment` inside fenced code, nor cut a long file inside a fence', async () => {
    const readme =
      '# tool\n\nInstall it:\n\n```sh\n# install first\nnpm install tool\n\n# then run\ntool --help\n```\n\n# Second doc\n\nMore.\n';
    const items = await read('readme.md', readme, 'markdown');
    expect(items.map((item) => ('document' in item ? [item.document.source, item.document.title] : item))).toEqual([
      ['readme.md', 'tool'],
      ['readme.md#2', 'Second doc'],
    ]);
    const code = ['```js', ...Array.from({ length: 400 }, (_, index) => (index % 10 === 0 ? '' : `call(${index});`)), '```'].join('\n');
    const long = await read('long.md', `Intro.\n\n${code}\n\nAfter.\n`, 'markdown', { clean: { maxDocumentChars: 1000 } });
    const texts = long.flatMap((item) => ('document' in item ? [item.document.text] : []));
    expect(texts.some((text) => text.includes(code))).toBe(true);
  });

  it('keeps a banner of images before the first heading with the document it tops', async () => {
    const readme =
      '<p align="center">\n  <img src="header.png" alt="">\n</p>\n\n# tool [![npm](https://x/y.svg)](https://npm.im/tool)\n\nIt works.\n';
    const items = await read('readme.md', readme, 'markdown');
    expect(items.map((item) => ('document' in item ? [item.document.source, item.document.title] : item))).toEqual([['readme.md', 'tool']]);
    const prose = await read('notes.md', 'Some words written before any heading at all.\n\n# Later\n\nMore.\n', 'markdown');
    expect(prose.map((item) => ('document' in item ? item.document.source : item))).toEqual(['notes.md', 'notes.md#2']);
  });

  it('cuts a very long text file into documents at blank lines (bounded memory)', async () => {
    const paragraph = 'A paragraph of prose about the sea and engines. '.repeat(20);
    const content = Array.from({ length: 200 }, () => paragraph).join('\n\n');
    const items = await read('long.txt', content, 'text', { clean: { maxDocumentChars: 10_000 } });
    const documents = items.flatMap((item) => ('document' in item ? [item.document] : []));
    expect(documents.length).toBeGreaterThan(15);
    for (const document of documents) expect(document.text.length).toBeLessThan(12_000);
    expect(documents[1]).toMatchObject({ source: 'long.txt#2', continuation: true });
    expect(
      documents
        .map((document) => document.text)
        .join('')
        .replace(/\s+/g, ''),
    ).toBe(content.replace(/\s+/g, ''));
  });

  it('takes a plain-text title from a short first line followed by a blank line', async () => {
    const [titled] = await read('essay.txt', 'The quiet hour\n\nThere is an hour.', 'text');
    const [untitled] = await read('2020-01-01.txt', 'There is an hour.\nAnd more.', 'text');
    expect(titled).toEqual({ document: { source: 'essay.txt', title: 'The quiet hour', text: 'There is an hour.', format: 'text' } });
    expect(untitled).toEqual({ document: { source: '2020-01-01.txt', text: 'There is an hour.\nAnd more.', format: 'text' } });
  });

  it('turns HTML into text with a real parser: furniture dropped, blocks kept, entities decoded', async () => {
    const html = `<html><head><title>Brakes | Blog</title><script>var x = "<p>not text</p>";</script></head><body>
      <header><h1>Site name</h1><nav><a href="/">Home</a></nav></header>
      <article><header><h1>Brakes before speed</h1></header>
      <p>Start with the brakes &mdash; always.</p><ol><li>Stop quickly.</li><li>Stop <em>gently</em>.</li></ol>
      <h2>Then</h2><p>Gears &amp; the rest.</p></article>
      <footer>© 2023 Someone</footer></body></html>`;
    const [item] = await read('page.html', html, 'html');
    expect(item).toEqual({
      document: {
        source: 'page.html',
        title: 'Brakes before speed',
        format: 'html',
        text: 'Start with the brakes — always.\n\n1. Stop quickly.\n\n2. Stop gently.\n\n## Then\n\nGears & the rest.',
      },
    });
  });

  it('keeps what the page wrote as text as text once read as Markdown: escaped tags, line-start markers, bracketed links', async () => {
    const html = `<article><h1>Tables &lt;in&gt; HTML</h1>
      <p>Wrap rows in &lt;tbody&gt; and close it with &lt;/tbody&gt;.</p>
      <p># of users grew.</p><p>2020. That was the year.</p><p>- not a list, + nor this</p><p>&gt; not a quote</p>
      <p>Type [docs](https://x.dev) literally, and ![alt](y.png) too.</p><p>***</p>
      <ul><li># hash in an item</li></ul><h2>1. Introduction</h2><p>Under the heading.</p></article>`;
    const [item] = await read('page.html', html, 'html');
    expect(item).toMatchObject({ document: { title: 'Tables <in> HTML' } });
    const text = 'document' in item! ? item.document.text : '';
    // After cleaning (the same for every format), the words are all there and nothing became markup.
    expect(cleanMarkdown(text).split('\n\n')).toEqual([
      'Wrap rows in \\<tbody> and close it with \\</tbody>.',
      '\\# of users grew.',
      '2020\\. That was the year.',
      '\\- not a list, + nor this',
      '\\> not a quote',
      'Type \\[docs](https://x.dev) literally, and !\\[alt](y.png) too.',
      '\\***',
      '- \\# hash in an item',
      '## 1. Introduction',
      'Under the heading.',
    ]);
  });

  it('cuts a long file at a blank line once maxDocumentChars are reached, never right after a heading', async () => {
    // Each section fills the limit to just before its heading: a cut after the heading would leave
    // it at the end of one part and its text at the start of the next.
    const filler = (index: number) => `Filler sentence ${index} about the breakwater and the tides. `.repeat(18).trim();
    const text = Array.from(
      { length: 4 },
      (_, index) => `${filler(index)}\n\n## Section ${index}, along the long and winding harbour road\n\nText of section ${index}.`,
    ).join('\n\n');
    const items = await read('long.md', text, 'markdown', { clean: { maxDocumentChars: 1000 } });
    const parts = items.map((item) => ('document' in item ? item.document.text : ''));
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) expect(part.trimEnd()).not.toMatch(/harbour road$/);
    expect(parts.join('\n\n')).toBe(text);
    expect(items.slice(1).every((item) => 'document' in item && item.document.continuation === true)).toBe(true);
  });

  it('turns <pre><code class="language-x"> into fenced code with its language, keeping its whitespace', async () => {
    const html =
      '<article><h1>Tool</h1><p>Run it:</p><pre><code class="language-sh"># comment\n  indented --flag\n\nlast</code></pre></article>';
    const [item] = await read('tool.html', html, 'html');
    expect(item).toMatchObject({ document: { title: 'Tool', text: 'Run it:\n\n```sh\n# comment\n  indented --flag\n\nlast\n```' } });
  });

  it('keeps <pre> inside a list item or a quote inside it', async () => {
    const html =
      '<article><h1>Steps</h1><ol><li><pre><code class="language-sh">make\n\nmake install</code></pre></li></ol>' +
      '<blockquote><pre><code>quoted()</code></pre></blockquote></article>';
    const [item] = await read('steps.html', html, 'html');
    expect(item).toMatchObject({ document: { text: '1. ```sh\n   make\n\n   make install\n   ```\n\n> ```\n> quoted()\n> ```' } });
    const text = 'document' in item! ? item.document.text : '';
    expect(cleanMarkdown(text)).toBe(text);
  });

  it('reads a record date from formats.json.dateField (a string, or epoch seconds or milliseconds)', async () => {
    const content = [
      JSON.stringify({ text: 'One.', date: '2020-05-01' }),
      JSON.stringify({ text: 'Two.', posted: 1_600_000_000 }),
      JSON.stringify({ text: 'Three.', posted: 1_600_000_000_000 }),
    ].join('\n');
    const dates = (await read('posts.jsonl', content, 'jsonl', { formats: { json: { dateField: 'posted' } } })).map((item) =>
      'document' in item ? item.document.date : undefined,
    );
    expect(dates).toEqual([undefined, '2020-09-13T12:26:40.000Z', '2020-09-13T12:26:40.000Z']);
    const [byDefault] = await read('one.jsonl', JSON.stringify({ text: 'One.', date: '2020-05-01' }), 'jsonl');
    expect(byDefault).toMatchObject({ document: { date: '2020-05-01' } });
  });

  it('reads JSONL records with configurable fields and reports the garbage lines', async () => {
    const content = [
      JSON.stringify({ body: { text: 'First note.' }, headline: 'One' }),
      '{"body": {"text": "cut off',
      JSON.stringify({ body: {} }),
      '',
      JSON.stringify(['not', 'an', 'object']),
      JSON.stringify({ body: { text: '   ' } }),
      JSON.stringify({ body: { text: 'Second note.' } }),
    ].join('\n');
    const items = await read('notes.jsonl', content, 'jsonl', { formats: { json: { textField: 'body.text', titleField: 'headline' } } });
    expect(items).toEqual([
      { document: { source: 'notes.jsonl#L1', text: 'First note.', title: 'One', format: 'jsonl' } },
      { skipped: { source: 'notes.jsonl#L2', reason: expect.stringMatching(/^invalid JSON/) as string } },
      { skipped: { source: 'notes.jsonl#L3', reason: 'no text at field "body.text" (formats.json.textField)' } },
      { skipped: { source: 'notes.jsonl#L5', reason: 'not a JSON object' } },
      { skipped: { source: 'notes.jsonl#L6', reason: 'empty text at field "body.text"' } },
      { document: { source: 'notes.jsonl#L7', text: 'Second note.', format: 'jsonl' } },
    ]);
  });

  it('reads a JSON export: an array, or the one array field of an object', async () => {
    const fromObject = await read(
      'export.json',
      JSON.stringify({ name: 'x', posts: [{ text: 'A.' }, { text: 'B.', title: 'Bee' }] }),
      'json',
    );
    expect(fromObject.map((item) => ('document' in item ? item.document.source : item))).toEqual(['export.json#0', 'export.json#1']);
    const ambiguous = await read('two.json', JSON.stringify({ a: [], b: [] }), 'json');
    expect(ambiguous).toEqual([{ skipped: { source: 'two.json', reason: expect.stringMatching(/recordsField/) as string } }]);
  });
});
