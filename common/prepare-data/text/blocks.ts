import MarkdownIt from 'markdown-it';

/**
 * A document as a sequence of blocks (paragraphs, headings, fenced code, lists, tables, quotes, rules,
 * HTML), found by a CommonMark parser (markdown-it, which also knows GitHub's tables) rather than by
 * line heuristics: a `# comment` inside a fence is code, a list's continuation lines belong to the
 * list. Each block keeps its source text byte for byte, so code, lists and tables keep every space.
 * Chunks are cut between blocks (chunk.ts), never inside one unless the block alone is too long.
 *
 * markdown-it was chosen over micromark/mdast because it ships CommonJS (this project's module format,
 * also inside the workflow bundle's neighbours), gives every block token its source line range, and
 * can run its block parser alone: inline parsing, which we do not need, is switched off.
 */

export type BlockKind = 'heading' | 'paragraph' | 'code' | 'list' | 'table' | 'quote' | 'rule' | 'html';

export interface Block {
  kind: BlockKind;
  /** The block's source lines, byte for byte, without the blank lines around it. */
  text: string;
  /** Headings: 1 to 6. */
  level?: number;
  /** Fenced code: its fence ("```", "~~~~") and info string ("ts", "sh title=x"); indented code has none. */
  fence?: { marker: string; info: string };
  /** Lists: where each top-level item starts, as line offsets into `text` (to cut an oversized list between items). */
  itemStarts?: number[];
}

const parser = new MarkdownIt('default', { html: true, linkify: false });
// Only the block structure is needed; inline parsing is most of markdown-it's cost.
parser.core.ruler.disable(['inline', 'linkify', 'replacements', 'smartquotes', 'text_join']);

const OPEN_KINDS: Readonly<Record<string, BlockKind>> = {
  paragraph_open: 'paragraph',
  heading_open: 'heading',
  bullet_list_open: 'list',
  ordered_list_open: 'list',
  table_open: 'table',
  blockquote_open: 'quote',
};

/** The top-level blocks of a Markdown document. Reference definitions (`[x]: https://...`) are not blocks: they are dropped. */
export function markdownBlocks(markdown: string): Block[] {
  // Prose with no line that could open anything but a paragraph parses to its blank-line paragraphs:
  // most posts and records, for which the parser would only confirm that.
  return mayHoldBlockSyntax(markdown) ? parseMarkdownBlocks(markdown) : textBlocks(markdown);
}

/** markdownBlocks through the parser, always. */
export function parseMarkdownBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const tokens = parser.parse(markdown, {});
  const blocks: Block[] = [];
  const slice = (map: [number, number]) => {
    let end = map[1];
    while (end > map[0] && (lines[end - 1] ?? '').trim() === '') end -= 1;
    return lines.slice(map[0], end).join('\n');
  };
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (token.level !== 0 || !token.map) continue;
    const map = token.map;
    if (token.type === 'fence') {
      blocks.push({ kind: 'code', text: slice(map), fence: { marker: token.markup, info: token.info.trim() } });
    } else if (token.type === 'code_block') {
      blocks.push({ kind: 'code', text: slice(map) });
    } else if (token.type === 'html_block') {
      blocks.push({ kind: 'html', text: slice(map) });
    } else if (token.type === 'hr') {
      blocks.push({ kind: 'rule', text: slice(map) });
    } else if (OPEN_KINDS[token.type]) {
      const kind = OPEN_KINDS[token.type]!;
      const block: Block = { kind, text: slice(map) };
      if (kind === 'heading') block.level = Number(token.tag.slice(1));
      if (kind === 'list') block.itemStarts = itemStarts(tokens, index, map[0]);
      blocks.push(block);
    }
  }
  return blocks.filter((block) => block.text.trim() !== '');
}

/** Line offsets (relative to the list's first line) of the list's own items. */
function itemStarts(tokens: ReturnType<typeof parser.parse>, openIndex: number, firstLine: number): number[] {
  const starts: number[] = [];
  for (let index = openIndex + 1; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (token.level === 0) break;
    if (token.type === 'list_item_open' && token.level === 1 && token.map) starts.push(token.map[0] - firstLine);
  }
  return starts;
}

/**
 * Whether some line of the text could start a block other than a paragraph (or continue one as a
 * setext heading or a table): after up to three spaces, one of `# > - * + _ = | : < [ ~` and a backtick,
 * a number followed by `.` or `)`, or four spaces or a tab of indentation. A false positive only costs
 * a parse; a false negative would be wrong, so the test is generous.
 */
export function mayHoldBlockSyntax(text: string): boolean {
  let start = 0;
  const length = text.length;
  while (start < length) {
    let index = start;
    let indent = false;
    while (index < length && (text.charCodeAt(index) === 32 || text.charCodeAt(index) === 9)) {
      if (text.charCodeAt(index) === 9 || index - start >= 3) indent = true;
      index += 1;
    }
    const code = text.charCodeAt(index);
    const blank = index >= length || code === 10 || code === 13;
    if (!blank && indent) return true;
    if (!blank) {
      if (BLOCK_STARTS.has(code)) return true;
      if (code >= 48 && code <= 57) {
        let end = index;
        while (end < length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end += 1;
        const after = text.charCodeAt(end);
        if (after === 46 || after === 41) return true;
      }
    }
    const newline = text.indexOf('\n', index);
    if (newline < 0) break;
    start = newline + 1;
  }
  return false;
}

// # > - * + _ = | : < [ ~ `
const BLOCK_STARTS = new Set([35, 62, 45, 42, 43, 95, 61, 124, 58, 60, 91, 126, 96]);

/** Plain text has no markup: its blocks are the paragraphs between blank lines, kept as written. */
export function textBlocks(text: string): Block[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.replace(/^([ \t]*\n)+/, '').replace(/(\n[ \t]*)+$/, ''))
    .filter((paragraph) => paragraph.trim() !== '')
    .map((paragraph) => ({ kind: 'paragraph' as const, text: paragraph }));
}

/** The blocks back as one text: one blank line between blocks, every block as it is. */
export function joinBlocks(blocks: readonly Pick<Block, 'text'>[]): string {
  return blocks.map((block) => block.text).join('\n\n');
}

/** Whether a line opens or closes a fence (at most three spaces of indentation, then ``` or ~~~). */
export function fenceOf(line: string): { char: '`' | '~'; length: number } | undefined {
  const match = /^ {0,3}(`{3,}|~{3,})/.exec(line);
  if (!match) return undefined;
  const run = match[1]!;
  // A backtick fence's info string may not contain backticks (CommonMark 4.5).
  if (run[0] === '`' && line.slice(match[0].length).includes('`')) return undefined;
  return { char: run[0] as '`' | '~', length: run.length };
}

/**
 * Tracks fenced code line by line, for code that cuts text before it is parsed (a file split into
 * documents at its `# headings`, a long file cut at a blank line): a cut is only safe outside a fence.
 */
export class FenceTracker {
  private open: { char: '`' | '~'; length: number } | undefined;

  /** Feeds one line; true while that line is inside fenced code (the fence lines included). */
  push(line: string): boolean {
    const fence = fenceOf(line);
    if (!this.open) {
      if (fence) this.open = fence;
      return Boolean(fence);
    }
    // A closing fence: the same character, at least as long, nothing after it.
    if (fence && fence.char === this.open.char && fence.length >= this.open.length && line.trim().replace(/^[`~]+/, '') === '')
      this.open = undefined;
    return true;
  }

  get inside(): boolean {
    return this.open !== undefined;
  }
}

/** Whether every fence a text opens is closed (the quality report's "balanced fences"). */
export function fencesBalanced(text: string): boolean {
  // Most records have no fence at all: no line-by-line pass for them.
  if (text.indexOf('```') < 0 && text.indexOf('~~~') < 0) return true;
  const fences = new FenceTracker();
  for (const line of text.split('\n')) fences.push(line);
  return !fences.inside;
}

// A fence inside a list item or a quote: its container's markers (`>`, a list marker, indentation) first.
const NESTED_FENCE = /^((?:[ \t]*>)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?[ \t]*)(`{3,}|~{3,})(.*)$/;
const ANY_NESTED_FENCE_LINE = new RegExp(NESTED_FENCE.source, 'm');

/** Whether a list's or a quote's text has a fence line in it (inline ```x``` in a sentence is none). */
export function holdsNestedFence(text: string): boolean {
  return (text.indexOf('```') >= 0 || text.indexOf('~~~') >= 0) && ANY_NESTED_FENCE_LINE.test(text);
}

/**
 * Tracks fenced code nested in a list item or a quote, line by line: cleaning must leave its lines as
 * written, and a cut inside it must close the fence (`close`: the fence line to do that with, under
 * the same container markers, a list marker turned into its indentation) and repeat the opening line.
 */
export class NestedFenceTracker {
  private open: { char: string; length: number; close: string } | undefined;

  /** Feeds one line; true while that line is inside nested fenced code (the fence lines included). */
  push(line: string): boolean {
    const match = NESTED_FENCE.exec(line);
    if (!this.open) {
      if (!match) return false;
      const [, prefix = '', run = '', info = ''] = match;
      if (run[0] === '`' && info.includes('`')) return false;
      const indent = prefix.replace(/(?:[-*+]|\d{1,9}[.)])(?=[ \t])/, (marker) => ' '.repeat(marker.length));
      this.open = { char: run[0]!, length: run.length, close: `${indent}${run}` };
      return true;
    }
    const [, , run = '', info = ''] = match ?? [];
    if (match && run[0] === this.open.char && run.length >= this.open.length && info.trim() === '') this.open = undefined;
    return true;
  }

  /** The line that closes the open fence, while one is open. */
  openFence(): { close: string } | undefined {
    return this.open && { close: this.open.close };
  }
}
