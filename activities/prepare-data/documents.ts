import { createHash } from 'node:crypto';
import type { PrepareDataSettings } from '../../common/prepare-data/contract';
import { markdownBlocks, textBlocks, type Block } from '../../common/prepare-data/text/blocks';
import { cleanBlocks, normalizeCharacters, plainText, type CleanOptions } from '../../common/prepare-data/text/clean';
import { detectGenre, type Genre } from '../../common/prepare-data/text/genre';
import { dateInName, epochDays } from '../../common/prepare-data/text/keep';
import { titleFromFileName } from '../../common/prepare-data/text/markdown';
import type { SourceDocument } from './sections';

/**
 * One source document made ready for the corpus-wide decisions: its characters normalised, its
 * structure parsed (Markdown, and what HTML, JSON and JSONL became; plain text as paragraphs), its
 * blocks cleaned the same way whatever the format, its title as plain text, its date and its genre.
 */
export interface PreparedDocument {
  source: string;
  title?: string;
  format: SourceDocument['format'];
  continuation?: boolean;
  /** For a continuation: what the part before it ended on. */
  previous?: SourceDocument['previous'];
  genre: Genre;
  /** Epoch days of the document's own date, when it states one (the keep rule reads it). */
  date?: number;
  blocks: Block[];
  /**
   * Per block, the hash and folded length paragraph dedup compares (blockIdentity): computed once, in
   * the first pass, and staged with the document so the second pass does not hash every block again.
   */
  hashes: number[];
  lengths: number[];
  /** sha256 of the blocks' identities: exact-duplicate key, split key and record id prefix. */
  key: string;
  /** Characters of cleaned text. */
  chars: number;
}

export function prepareDocument(
  document: SourceDocument,
  settings: PrepareDataSettings,
  clean: CleanOptions,
): PreparedDocument | undefined {
  const text = normalizeCharacters(document.text);
  const parsed = document.format === 'text' ? textBlocks(text) : markdownBlocks(text);
  const blocks = cleanBlocks(parsed, clean);
  if (blocks.length === 0) return undefined;
  const date = (document.date ? epochDays(document.date) : undefined) ?? dateInName(document.source);
  const genre: Genre =
    settings.instruct.genre === 'auto'
      ? detectGenre({ source: document.source, format: document.format, blocks, dated: date !== undefined })
      : settings.instruct.genre;
  const hashes: number[] = [];
  const lengths: number[] = [];
  let chars = 0;
  for (const block of blocks) {
    const identity = blockIdentity(block);
    hashes.push(identity.hash);
    lengths.push(identity.chars);
    chars += block.text.length + 2;
  }
  return {
    source: document.source,
    ...titled(document, blocks),
    format: document.format,
    ...(document.continuation ? { continuation: true } : {}),
    ...(document.continuation && document.previous ? { previous: document.previous } : {}),
    genre,
    ...(date === undefined ? {} : { date }),
    blocks,
    hashes,
    lengths,
    // sha256 of the blocks' hashes, not of the text: the text was just hashed block by block, and
    // two documents whose every block is the same (whitespace folded) are the same document.
    key: createHash('sha256')
      .update(new Uint8Array(Float64Array.from(hashes).buffer))
      .digest('hex'),
    chars: Math.max(0, chars - 2),
  };
}

/**
 * The title as plain text: the one the source names (front matter, first `# heading`, a record's title
 * field, an HTML page's <h1>) with its markup gone; else the document's first heading; else, for a
 * whole file, its name. A title that was only an image (`# <img src=...>`) is no title.
 */
function titled(document: SourceDocument, blocks: readonly Block[]): { title?: string } {
  const named = document.title ? plainText(document.title) : '';
  if (named) return { title: named };
  const heading = blocks.find((block) => block.kind === 'heading');
  const fromHeading = heading ? plainText(heading.text) : '';
  if (fromHeading) return { title: fromHeading };
  const isRecord = document.format === 'json' || document.format === 'jsonl';
  const fromName = isRecord ? undefined : titleFromFileName(document.source.replace(/#.*$/, ''));
  return fromName ? { title: fromName } : {};
}

/** Below this many characters a block is too common to say anything (a `## Usage`, a `}`): not deduplicated. */
export const SUBSTANTIAL_BLOCK_CHARS = 40;
/** Boilerplate is looked for among prose blocks of at least this many characters. */
export const BOILERPLATE_BLOCK_CHARS = 20;

/** The block's text with whitespace folded, the form paragraphs are compared in (shown in reports). */
export function blockFingerprintText(block: Pick<Block, 'text'>): string {
  return block.text.replace(/\s+/g, ' ').trim();
}

/** What paragraph dedup knows of a block: a hash of its folded text, and that text's length. */
export interface BlockIdentity {
  /** 52 bits: exact enough to compare a corpus's paragraphs (collisions ~1e-4 per million). */
  hash: number;
  /** Characters of the folded text. */
  chars: number;
}

/**
 * The identity of a block's text with whitespace folded (runs become one space, ends trimmed), in one
 * pass and without building the folded string: this runs on every block, twice (both passes).
 */
export function blockIdentity(block: Pick<Block, 'text'>): BlockIdentity {
  const { text } = block;
  let first = 0x811c9dc5;
  let second = 0x9747b28c;
  let chars = 0;
  let pendingSpace = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (isSpace(code)) {
      pendingSpace = chars > 0;
      continue;
    }
    if (pendingSpace) {
      first = Math.imul(first ^ 32, 0x01000193);
      second = Math.imul(second ^ 32, 0x01000193);
      chars += 1;
      pendingSpace = false;
    }
    first = Math.imul(first ^ code, 0x01000193);
    second = Math.imul(second ^ code, 0x01000193);
    chars += 1;
  }
  return { hash: ((first >>> 0) & 0xfffff) * 0x1_0000_0000 + (second >>> 0), chars };
}

/** The staged identity of a prepared document's block. */
export function identityAt(document: Pick<PreparedDocument, 'hashes' | 'lengths'>, index: number): BlockIdentity {
  return { hash: document.hashes[index]!, chars: document.lengths[index]! };
}

/** What `\s` matches. */
function isSpace(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** The hash alone (tests and reports). */
export function blockHash(block: Pick<Block, 'text'>): number {
  return blockIdentity(block).hash;
}

/** Whether a block takes part in paragraph-level dedup (and in the train/test overlap count). */
export function isSubstantial(block: Pick<Block, 'kind' | 'text'>, identity: BlockIdentity = blockIdentity(block)): boolean {
  return block.kind !== 'heading' && block.kind !== 'rule' && identity.chars >= SUBSTANTIAL_BLOCK_CHARS;
}

/** Whether a block can be boilerplate: prose, not a heading (`## License` in every README is structure), not code. */
export function mayBeBoilerplate(block: Pick<Block, 'kind' | 'text'>, identity: BlockIdentity = blockIdentity(block)): boolean {
  return (
    (block.kind === 'paragraph' || block.kind === 'quote' || block.kind === 'list' || block.kind === 'table') &&
    identity.chars >= BOILERPLATE_BLOCK_CHARS
  );
}

/** The cleaning options a run's settings give. */
export function cleanOptionsOf(settings: PrepareDataSettings): CleanOptions {
  return { stripBoilerplate: settings.clean.stripBoilerplate, boilerplatePatterns: settings.clean.boilerplatePatterns };
}
