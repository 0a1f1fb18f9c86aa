import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a synthetic corpus for bench/prepare-data.ts: `<dir>/corpus/` with Markdown posts, code-heavy
 * READMEs, HTML pages, plain text, JSONL exports and Markdown exports (many posts under `# ` headings), plus
 * `<dir>/ground-truth.json` naming every planted duplicate:
 *   - exact duplicates: an earlier document's text again, in another file or record;
 *   - near duplicates: an earlier document with 0.5-1.5% of its words edited and a new title (true
 *     5-shingle Jaccard recorded: ~0.85-0.95);
 *   - hard negatives (not duplicates): half of an earlier document followed by new text (Jaccard ~0.3),
 *     so precision is measured against text that shares a lot without being a copy.
 * Prose is sampled from the word frequencies of the sample corpus in examples/corpus, so word lengths,
 * punctuation and token counts look like writing. Documents are generated in the order the pipeline
 * reads them (segment files sort by name), and copies always come from earlier documents; no name says
 * "copy" and nothing is dated, so the keep rule falls back to reading order and keeps the ground truth's original. Memory stays small: copies come from a window of
 * recent documents.
 *
 * Usage: tsx bench/prepare-data-corpus.ts <dir> <megabytes> [code-share, default 0.15; 0: no READMEs,
 * which writes exactly the corpus of the benchmarks before READMEs were added]
 */

const [dir, megabytesArg, codeShareArg = '0.15'] = process.argv.slice(2);
if (!dir || !megabytesArg) throw new Error('usage: prepare-data-corpus.ts <dir> <megabytes> [code-share]');
const codeShare = Number(codeShareArg);
const targetBytes = Number(megabytesArg) * 1024 * 1024;

let seed = 0x2545f491;
function random(): number {
  // mulberry32: fast, seeded, good enough for text.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randomInt = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

// Word frequencies of the sample corpus: the synthetic prose has its word lengths and common words.
const sampleRoot = join(__dirname, '..', 'examples', 'corpus');
const wordStream: string[] = [];
for (const folder of ['posts', 'essays']) {
  for (const file of readdirSync(join(sampleRoot, folder))) {
    const text = readFileSync(join(sampleRoot, folder, file), 'utf8').toLowerCase();
    for (const match of text.matchAll(/[a-z][a-z']*/g)) wordStream.push(match[0]);
  }
}
const word = () => wordStream[Math.floor(random() * wordStream.length)] as string;
const ENDINGS = ['.', '.', '.', '.', '.', '!', '?', '…', ';'];

function sentence(): string {
  const length = randomInt(6, 24);
  const words: string[] = [];
  for (let index = 0; index < length; index += 1) words.push(word());
  if (length > 10 && random() < 0.25) words[randomInt(3, length - 3)] += random() < 0.5 ? ',' : ' —';
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1) + (ENDINGS[randomInt(0, ENDINGS.length - 1)] as string);
}

/** A document as paragraphs of sentences, about `words` words long. */
function documentText(words: number): string {
  const paragraphs: string[] = [];
  let count = 0;
  while (count < words) {
    const sentences: string[] = [];
    for (let index = randomInt(2, 6); index > 0; index -= 1) {
      const next = sentence();
      sentences.push(next);
      count += next.split(' ').length;
    }
    paragraphs.push(sentences.join(' '));
  }
  return paragraphs.join('\n\n');
}

function editWords(text: string, rate: number): string {
  return text
    .split('\n\n')
    .map((paragraph) =>
      paragraph
        .split(' ')
        .map((item) => (random() < rate ? word() : item))
        .join(' '),
    )
    .join('\n\n');
}

function shingleJaccard(a: string, b: string): number {
  const shingles = (text: string) => {
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const set = new Set<string>();
    for (let index = 0; index + 5 <= words.length; index += 1) set.add(words.slice(index, index + 5).join(' '));
    return set;
  };
  const [sa, sb] = [shingles(a), shingles(b)];
  let shared = 0;
  for (const item of sa) if (sb.has(item)) shared += 1;
  return shared / (sa.size + sb.size - shared);
}

interface Doc {
  title: string;
  text: string;
}

const corpusDir = join(dir, 'corpus');
rmSync(dir, { recursive: true, force: true });
mkdirSync(corpusDir, { recursive: true });
const planted: Record<string, { kind: 'exact' | 'near'; of: string; jaccard: number }> = {};
const hardNegatives: string[] = [];
const hardNegativeSet = new Set<string>();
const recent: Array<Doc & { source: string }> = [];
let bytes = 0;
let documents = 0;
let segment = 0;
let readmes = 0;

/** The next document: fresh, or (sometimes) a planted copy of a recent one. */
function nextDocument(source: string): Doc {
  documents += 1;
  const roll = random();
  const original = recent.length > 50 ? recent[randomInt(0, recent.length - 1)] : undefined;
  let doc: Doc;
  if (original && roll < 0.03) {
    doc = { title: original.title, text: original.text };
    planted[source] = { kind: 'exact', of: original.source, jaccard: 1 };
  } else if (original && roll < 0.06) {
    const text = editWords(original.text, 0.005 + random() * 0.01);
    doc = { title: `${original.title} (revised)`, text };
    planted[source] = { kind: 'near', of: original.source, jaccard: Math.round(shingleJaccard(original.text, text) * 1000) / 1000 };
  } else if (original && roll < 0.08) {
    const half = original.text.slice(0, Math.floor(original.text.length / 2));
    doc = { title: sentence().slice(0, 40), text: `${half}\n\n${documentText(Math.floor(original.text.split(' ').length / 2))}` };
    hardNegatives.push(source);
    hardNegativeSet.add(source);
  } else {
    doc = {
      title: sentence()
        .replace(/[.!?…;]$/, '')
        .slice(0, 60),
      text: documentText(randomInt(300, 1800)),
    };
  }
  // Only originals are copied, so every planted copy is measured against a document the pipeline keeps.
  if (!planted[source] && !hardNegativeSet.has(source)) recent.push({ ...doc, source });
  if (recent.length > 2000) recent.splice(0, 1000);
  return doc;
}

// Code-heavy Markdown: READMEs with badges, fenced code (blank lines, indentation, `#` comments),
// tables, option lists and a sponsor block that repeats across files (boilerplate, found by frequency).
// They are never copies nor copied: they measure the parser, the block chunker and the cleaning.
const SPONSOR = 'This project is sponsored by Harbour Cloud: deploy your apps in seconds, with a free tier for open source.';
const newIdentifier = () =>
  word().replace(/'/g, '') +
  (random() < 0.5
    ? word()
        .replace(/'/g, '')
        .replace(/^./, (first) => first.toUpperCase())
    : '');
// A project's code repeats its own names, as real code does: each README draws from a vocabulary of its own.
let vocabulary: string[] = [];
const identifier = () => vocabulary[randomInt(0, vocabulary.length - 1)] as string;

function codeBlock(lines: number): string {
  const language = ['js', 'ts', 'sh', 'python'][randomInt(0, 3)] as string;
  const body: string[] = [];
  let depth = 0;
  for (let index = 0; index < lines; index += 1) {
    const roll = random();
    const indent = language === 'python' ? '    '.repeat(depth) : '\t'.repeat(depth);
    if (roll < 0.08) body.push('');
    else if (roll < 0.16) body.push(`${indent}${language === 'sh' || language === 'python' ? '#' : '//'} ${sentence().toLowerCase()}`);
    else if (roll < 0.3 && depth < 4) {
      body.push(
        language === 'python' ? `${indent}def ${identifier()}(${identifier()}):` : `${indent}function ${identifier()}(${identifier()}) {`,
      );
      depth += 1;
    } else if (roll < 0.4 && depth > 0) {
      depth -= 1;
      if (language !== 'python') body.push(`${language === 'python' ? '    '.repeat(depth) : '\t'.repeat(depth)}}`);
    } else body.push(`${indent}const ${identifier()} = ${identifier()}(${randomInt(0, 999)}, '${word()}');`);
  }
  while (depth > 0 && language !== 'python') {
    depth -= 1;
    body.push(`${'\t'.repeat(depth)}}`);
  }
  return `\`\`\`${language}\n${body.join('\n')}\n\`\`\``;
}

function readme(): string {
  vocabulary = Array.from({ length: 40 }, newIdentifier);
  const name = identifier().toLowerCase();
  const sections: string[] = [
    `# ${name} [![npm](https://img.shields.io/npm/v/${name}.svg)](https://npm.im/${name}) [![CI](https://github.com/someone/${name}/actions/workflows/ci.yml/badge.svg)](https://github.com/someone/${name}/actions)`,
    documentText(randomInt(40, 120)),
    '## Install',
    `\`\`\`sh\n# as a dependency\nnpm install ${name}\n\`\`\``,
    '## Usage',
  ];
  for (let part = randomInt(2, 6); part > 0; part -= 1) {
    sections.push(documentText(randomInt(20, 90)), codeBlock(randomInt(4, random() < 0.1 ? 400 : 40)));
  }
  const rows = Array.from(
    { length: randomInt(3, 30) },
    () => `| \`${identifier()}\` | \`${['string', 'number', 'boolean'][randomInt(0, 2)]}\` | ${sentence()} |`,
  );
  sections.push('## Options', '| Option | Type | Description |\n|--------|------|-------------|\n' + rows.join('\n'));
  const items = Array.from(
    { length: randomInt(3, 40) },
    () => `- **${identifier()}**: ${sentence()}\n  - since v${randomInt(1, 9)}.${randomInt(0, 9)}.0`,
  );
  sections.push('## API', items.join('\n'), '## Sponsors', SPONSOR, '## License', 'MIT');
  return `${sections.join('\n\n')}\n`;
}

const pad = (value: number) => String(value).padStart(6, '0');
const FOOTER = '\n\nShare this post\n\n© 2024 The Author. All rights reserved.\n';

while (bytes < targetBytes) {
  segment += 1;
  const roll = random();
  let name: string;
  let content: string;
  if (roll < codeShare) {
    // A folder of projects, one README each (about as many bytes as one of the other segments).
    for (let project = 1; project <= 25; project += 1) {
      const folder = join(corpusDir, `seg-${pad(segment)}`, `project-${String(project).padStart(2, '0')}`);
      mkdirSync(folder, { recursive: true });
      const text = readme();
      writeFileSync(join(folder, 'README.md'), text);
      bytes += Buffer.byteLength(text);
      readmes += 1;
      documents += 1;
    }
    continue;
  } else if (roll < 0.55) {
    name = `seg-${pad(segment)}.md`;
    const doc = nextDocument(name);
    content = `---\ntitle: "${doc.title.replace(/"/g, "'")}"\n---\n\n${doc.text}${FOOTER}`;
  } else if (roll < 0.65) {
    name = `seg-${pad(segment)}.html`;
    const doc = nextDocument(name);
    const paragraphs = doc.text.split('\n\n').map((paragraph) => `<p>${paragraph.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`);
    content = `<!DOCTYPE html><html><head><title>${doc.title} | Blog</title><script>track()</script></head><body><nav><a href="/">Home</a></nav><article><h1>${doc.title}</h1>\n${paragraphs.join('\n')}\n</article><footer>© 2024</footer></body></html>\n`;
  } else if (roll < 0.7) {
    name = `seg-${pad(segment)}.txt`;
    const doc = nextDocument(name);
    content = `${doc.title}\n\n${doc.text}\n`;
  } else if (roll < 0.9) {
    name = `seg-${pad(segment)}.jsonl`;
    const lines: string[] = [];
    for (let line = 1; line <= 400; line += 1) {
      const doc = nextDocument(`${name}#L${line}`);
      lines.push(JSON.stringify({ id: `${segment}-${line}`, title: doc.title, text: doc.text }));
    }
    content = `${lines.join('\n')}\n`;
  } else {
    name = `seg-${pad(segment)}.md`;
    const parts: string[] = [];
    for (let section = 1; section <= 150; section += 1) {
      const doc = nextDocument(section === 1 ? name : `${name}#${section}`);
      parts.push(`# ${doc.title.replace(/^#+/, '')}\n\n${doc.text}\n`);
    }
    content = parts.join('\n');
  }
  const fd = openSync(join(corpusDir, name), 'w');
  writeSync(fd, content);
  closeSync(fd);
  bytes += Buffer.byteLength(content);
}

writeFileSync(
  join(dir, 'ground-truth.json'),
  JSON.stringify({ megabytes: Number(megabytesArg), bytes, documents, readmes, segments: segment, planted, hardNegatives }),
);
console.log(
  `wrote ${(bytes / 1024 / 1024).toFixed(1)} MiB: ${segment} files, ${documents} documents and ${readmes} code-heavy READMEs, ${Object.keys(planted).length} planted duplicates, ${hardNegatives.length} hard negatives`,
);
