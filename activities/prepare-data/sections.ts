import { FenceTracker } from '../../common/prepare-data/text/blocks';
import { htmlBlockText, plainText } from '../../common/prepare-data/text/clean';
import { headingText, parseFrontMatter, titleFromFileName } from '../../common/prepare-data/text/markdown';

/**
 * Turns a stream of lines (Markdown or plain text) into documents: one per file normally; a new one
 * at each top-level `# heading` (exports often concatenate many posts), and, in very long files, a cut
 * at the next blank line once `maxChars` have accumulated, so memory holds one document at a time.
 * Both cuts happen outside fenced code only: a `# comment` in a shell snippet is code, not a heading,
 * and a blank line inside a fence is part of the code.
 */

export interface SourceDocument {
  /** Relative path, plus `#n` for the n-th section of a file or `#L<line>`/`#<index>` for a record. */
  source: string;
  title?: string;
  text: string;
  format: 'markdown' | 'text' | 'html' | 'json' | 'jsonl';
  /** True when the document continues an earlier section of the same piece (a cut long file). */
  continuation?: boolean;
  /** The document's own date (front matter `date:`, a record's date field), as written. */
  date?: string;
  /** For a continuation: what the part before it ended on (a continuation prompt names it). */
  previous?: PreviousPart;
}

/** The section a part ended in, else the plain words it ended with. */
export interface PreviousPart {
  heading?: string;
  prose?: string;
}

const PREVIOUS_PROSE_CHARS = 1000;

/**
 * What a part that is cut off ended on: the last heading outside code (else the one `before` it
 * inherited), or without any, the plain text of its last prose lines.
 */
export function previousPartOf(lines: readonly string[], format: 'markdown' | 'text', before?: PreviousPart): PreviousPart | undefined {
  const fences = new FenceTracker();
  let heading: string | undefined;
  const prose: number[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    if (format === 'markdown' && fences.push(line)) continue;
    const text = format === 'markdown' ? headingText(line, 6) : undefined;
    if (text !== undefined) heading = text;
    else if (line.trim() !== '') prose.push(index);
  }
  heading ??= before?.heading;
  if (heading) return { heading };
  const tail: string[] = [];
  let chars = 0;
  for (let at = prose.length - 1; at >= 0 && chars < PREVIOUS_PROSE_CHARS; at -= 1) {
    const line = lines[prose[at]!]!;
    tail.unshift(line);
    chars += line.length + 1;
  }
  const words = plainText(tail.join('\n'));
  return words ? { prose: words.slice(-PREVIOUS_PROSE_CHARS) } : before;
}

const MAX_TITLE_LINE = 100;
const FRONT_MATTER_MAX_LINES = 60;
/** A preamble with fewer words than this (alt texts, a tagline of badges) is furniture, not a document. */
const WRITING_MIN_WORDS = 4;

export class Sectioner {
  private lines: string[] = [];
  private chars = 0;
  private title: string | undefined;
  private sections = 0;
  private continuation = false;
  private lineNumber = 0;
  private frontMatter: string[] | undefined;
  private pendingTitle: string | undefined;
  private date: string | undefined;
  private readonly fences = new FenceTracker();
  private headingSeen = false;
  private previous: PreviousPart | undefined;
  private afterHeading = false;

  constructor(
    private readonly path: string,
    private readonly format: 'markdown' | 'text',
    private readonly maxChars: number,
  ) {}

  /** Feeds one line; returns a finished document when this line closed one. */
  push(line: string): SourceDocument | undefined {
    this.lineNumber += 1;
    if (this.format === 'markdown' && this.collectFrontMatter(line)) return undefined;
    if (this.format === 'text' && this.detectTextTitle(line)) return undefined;
    const inCode = this.format === 'markdown' && this.fences.push(line);
    if (this.format === 'markdown' && !inCode) {
      const h1 = headingText(line, 1);
      if (h1 !== undefined) {
        // What comes before a file's first heading starts a document of its own only when it is
        // writing: a README's banner of images and badges belongs to the README it tops.
        const preamble = this.sections === 0 && !this.headingSeen && !this.hasWords();
        this.headingSeen = true;
        const finished = this.hasContent() && !preamble ? this.flush(false) : undefined;
        this.title = h1;
        this.continuation = false;
        return finished;
      }
    }
    // Never right after a heading: it goes with the text it heads.
    if (line.trim() === '' && !inCode && this.chars >= this.maxChars && !this.afterHeading) {
      const finished = this.flush(true);
      return finished;
    }
    if (line.trim() !== '') this.afterHeading = this.format === 'markdown' && !inCode && isHeadingLine(line);
    this.lines.push(line);
    this.chars += line.length + 1;
    return undefined;
  }

  end(): SourceDocument | undefined {
    if (this.frontMatter) {
      // An opening "---" that never closed was a rule, not front matter.
      const lines = this.frontMatter;
      this.frontMatter = undefined;
      for (const line of lines) this.lines.push(line);
    }
    if (this.pendingTitle !== undefined) {
      this.lines.unshift(this.pendingTitle);
      this.pendingTitle = undefined;
    }
    return this.hasContent() ? this.flush(false) : undefined;
  }

  /** Whether the held lines say anything once markup is gone (a banner of images says nothing). */
  private hasWords(): boolean {
    const text = this.lines.map((line) => htmlBlockText(plainText(line))).join(' ');
    return (text.match(/\p{L}{2,}/gu) ?? []).length >= WRITING_MIN_WORDS;
  }

  private hasContent(): boolean {
    return this.lines.some((line) => line.trim() !== '');
  }

  private flush(continues: boolean): SourceDocument {
    this.sections += 1;
    const title = this.title ?? titleFromFileName(this.path);
    const document: SourceDocument = {
      source: this.sections === 1 ? this.path : `${this.path}#${this.sections}`,
      text: this.lines.join('\n'),
      format: this.format,
      ...(title ? { title } : {}),
      ...(this.continuation ? { continuation: true } : {}),
      ...(this.date ? { date: this.date } : {}),
      ...(this.continuation && this.previous ? { previous: this.previous } : {}),
    };
    this.previous = continues ? previousPartOf(this.lines, this.format, this.continuation ? this.previous : undefined) : undefined;
    this.lines = [];
    this.chars = 0;
    this.continuation = continues;
    return document;
  }

  /** Markdown front matter at the top of the file: held back until it closes, then read for its title. */
  private collectFrontMatter(line: string): boolean {
    if (this.lineNumber === 1 && line.trim() === '---') {
      this.frontMatter = [line];
      return true;
    }
    if (!this.frontMatter) return false;
    this.frontMatter.push(line);
    const closed = line.trim() === '---' || line.trim() === '...';
    if (closed) {
      const frontMatter = parseFrontMatter(this.frontMatter);
      this.title = frontMatter.title ?? this.title;
      this.date = frontMatter.date ?? this.date;
      this.frontMatter = undefined;
    } else if (this.frontMatter.length > FRONT_MATTER_MAX_LINES) {
      const lines = this.frontMatter;
      this.frontMatter = undefined;
      for (const held of lines) this.lines.push(held);
    }
    return true;
  }

  /** Plain text: a short first line without closing punctuation, followed by a blank line, is a title. */
  private detectTextTitle(line: string): boolean {
    if (this.lineNumber === 1) {
      const trimmed = line.trim();
      if (trimmed.length > 0 && trimmed.length <= MAX_TITLE_LINE && !/[.!?,;:…]$/.test(trimmed)) {
        this.pendingTitle = trimmed;
        return true;
      }
      return false;
    }
    if (this.lineNumber === 2 && this.pendingTitle !== undefined) {
      const candidate = this.pendingTitle;
      this.pendingTitle = undefined;
      if (line.trim() === '') {
        this.title = candidate;
        return true;
      }
      this.lines.push(candidate);
      this.chars += candidate.length + 1;
    }
    return false;
  }
}

/**
 * A record (JSONL, JSON) longer than `maxChars` cut the way the Sectioner cuts a long file: at the
 * first blank line outside fenced code once `maxChars` have accumulated, the later parts marked as
 * continuations of the first. One part per record normally; this keeps a 16 MiB export row from
 * being one document that every later step must hold whole.
 */
export function cutLongRecord(document: SourceDocument, maxChars: number): SourceDocument[] {
  if (document.text.length <= maxChars) return [document];
  const parts: SourceDocument[] = [];
  const fences = new FenceTracker();
  let start = 0;
  let lineStart = 0;
  let afterHeading = false;
  const text = document.text;
  let previous: PreviousPart | undefined;
  const part = (end: number) => {
    const piece = text.slice(start, end);
    if (piece.trim() === '') return;
    parts.push({
      ...document,
      source: parts.length === 0 ? document.source : `${document.source}#${parts.length + 1}`,
      text: piece,
      ...(parts.length > 0 ? { continuation: true } : {}),
      ...(parts.length > 0 && previous ? { previous } : {}),
    });
    previous = previousPartOf(piece.split('\n'), 'markdown', previous);
  };
  while (lineStart <= text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline < 0 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    const inCode = fences.push(line);
    if (!inCode && line.trim() === '' && lineStart - start >= maxChars && !afterHeading) {
      part(lineStart);
      start = lineEnd + 1;
    }
    if (line.trim() !== '') afterHeading = !inCode && isHeadingLine(line);
    if (newline < 0) break;
    lineStart = newline + 1;
  }
  if (start < text.length) part(text.length);
  return parts;
}

/** An ATX heading, or the `===` under a setext one: a long text is not cut right after either. */
function isHeadingLine(line: string): boolean {
  return headingText(line, 6) !== undefined || /^ {0,3}=+\s*$/.test(line);
}
