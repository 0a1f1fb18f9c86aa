import { NestedFenceTracker, type Block } from './blocks';

/**
 * Cleaning keeps what a twin must learn, the author's voice, and drops what only gets in the way. It
 * works on blocks (blocks.ts), the same way for every format: Markdown, HTML (converted to Markdown
 * first), JSON and JSONL records (their text is read as Markdown) and plain text.
 *
 * Unicode: NFC, not NFKC. NFC only merges equivalent encodings of the same character (e + combining
 * acute = é), so identical-looking text compares equal for dedup. NFKC would also rewrite compatibility
 * characters: "…" becomes "...", "½" becomes "1⁄2", "ﬁ" becomes "fi", superscripts become digits. Some
 * of those are the author's own typography, so we fold only what is never style: exotic spaces become a
 * plain space, invisible characters (zero-width space, BOM, soft hyphen) and control characters go.
 *
 * Punctuation is kept as written: em dashes, semicolons, curly quotes, ellipses, emoji. (The LLM
 * Engineer's Handbook keeps only `.,!?`; a twin trained on that would never write a dash again.)
 *
 * Markup: emphasis, lists, headings, tables and code stay (they are how the author writes, and chat
 * models answer in Markdown). Images and badges go, links keep their text (no empty `[](...)` husk is
 * ever left), inline HTML keeps its text, HTML blocks keep their text when they have some (a banner of
 * images has none), comments go, and reference definitions are not blocks at all.
 *
 * Whitespace: code, lists, tables and quotes keep every space as written; prose paragraphs have runs of
 * spaces folded; trailing spaces go everywhere but in code.
 */

export interface CleanOptions {
  stripBoilerplate: boolean;
  /** Extra whole-line patterns (regex sources, case-insensitive). */
  boilerplatePatterns?: readonly string[];
}

/** Lines that are page furniture rather than writing. Matched against a whole, trimmed line of prose. */
export const DEFAULT_BOILERPLATE_PATTERNS: readonly string[] = [
  String.raw`(share|tweet|pin|email)( (this|it))?( (post|article|story))?( (on|via) [\w .]{1,30})?[.!:]?`,
  String.raw`(subscribe|sign up)( now)?( to| for)? (my|our|the) (newsletter|blog|mailing list|rss feed|feed)\b.{0,80}`,
  String.raw`follow (me|us) on [\w .@]{1,40}[.!]?`,
  String.raw`(©|\(c\)|copyright)\s*(\d{4}|[a-z]).{0,100}`,
  String.raw`.{0,60}all rights reserved\.?`,
  String.raw`(posted|filed|published) (in|under) .{0,80}`,
  String.raw`(tags|categories|category|filed under)\s*:.{0,120}`,
  String.raw`(read more|continue reading|click here|back to top|skip to (main )?content|scroll to top)\W*`,
  String.raw`(previous|next|older|newer) (post|article|entry)\b.{0,100}`,
  String.raw`(leave a (comment|reply)|\d+ (comments?|responses?|replies))\W*`,
  String.raw`(like|share|comment|reply|repost)( [·|•] (like|share|comment|reply|repost))+`,
  String.raw`this (post|article) (contains|may contain) affiliate links.{0,120}`,
];

// Spaces other than U+0020 (no-break, en/em/thin/hair, narrow no-break, ideographic...).
const EXOTIC_SPACES = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
// Zero-width space, word joiner, BOM, soft hyphen: invisible, never style.
const INVISIBLES = /[\u200B\u2060\uFEFF\u00AD]/g;
// C0/C1 controls except tab and newline (CR is handled first).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
// Chat-template control tokens (<|endoftext|>, <|im_start|>...) would corrupt training prompts.
const SPECIAL_TOKENS = /<\|[A-Za-z0-9_]{1,40}\|>/g;
const NON_ASCII = /[\u0080-\uFFFF]/;
// ES2024's well-formed string methods (in Node 20), not yet in this project's ES2022 type library.
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * Half of a surrogate pair alone (a JSON "\ud83d" escape) is no character, and UTF-8 cannot hold it:
 * it becomes U+FFFD here, as writing it out would make it anyway, so what is hashed is what is staged.
 */
function wellFormed(text: string): string {
  const string = text as WellFormedString;
  return string.isWellFormed() ? text : string.toWellFormed();
}
// Any character one of the three patterns above would remove or replace: one scan finds out whether
// any replacement is needed at all (usually not), instead of one scan per pattern.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ANY_TO_FOLD = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u00A0\u00AD\u1680\u2000-\u200B\u202F\u205F\u2060\u3000\uFEFF]/;
const INLINE_SPACE_RUNS = /[ \t]{2,}|\t/g;
const BOILERPLATE_MAX_LINE = 200;

const patternCache = new Map<string, RegExp | null>();

/** One case-insensitive whole-line regex for the defaults plus the caller's patterns. */
export function boilerplateMatcher(options: CleanOptions): RegExp | null {
  const sources = [...(options.stripBoilerplate ? DEFAULT_BOILERPLATE_PATTERNS : []), ...(options.boilerplatePatterns ?? [])];
  const key = sources.join('\u0000');
  let matcher = patternCache.get(key);
  if (matcher === undefined) {
    matcher = sources.length > 0 ? new RegExp(`^(?:${sources.map((source) => `(?:${source})`).join('|')})$`, 'i') : null;
    patternCache.set(key, matcher);
  }
  return matcher;
}

/** Normalises characters (line ends, NFC, spaces, invisibles, controls) without touching punctuation. */
export function normalizeCharacters(text: string): string {
  let result = text.indexOf('\r') >= 0 ? text.replace(/\r\n?/g, '\n') : text;
  if (NON_ASCII.test(result)) result = wellFormed(result).normalize('NFC');
  if (ANY_TO_FOLD.test(result)) result = result.replace(EXOTIC_SPACES, ' ').replace(INVISIBLES, '').replace(CONTROLS, '');
  if (result.indexOf('<|') >= 0) result = result.replace(SPECIAL_TOKENS, '');
  return result;
}

// Each starts where no backslash escapes it: `\<tbody>` and `\[x](y)` are text, as in CommonMark.
const HTML_COMMENT = /(?<!\\)<!--[\s\S]*?(?:-->|$)/g;
const IMAGE = /(?<!\\)!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])/g;
const LINK = /(?<!\\)\[([^\]\n]*)\](?:\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\]\n]*\])/g;
const AUTOLINK = /(?<!\\)<((?:https?|mailto):[^>\s]+)>/g;
const HTML_TAG = /(?<!\\)<\/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?\/?>/g;
const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  '#39': "'",
  mdash: '—',
  ndash: '–',
  hellip: '…',
};
const CODE_SPAN = /(`+)[\s\S]*?\1/g;

/**
 * Inline noise out of a run of Markdown, leaving code spans alone: comments, images and badges go,
 * links keep their text (a link whose text was only an image disappears whole), inline HTML keeps its
 * text. What is left is the same prose, whatever the format it came from.
 */
export function cleanInline(markdown: string): string {
  if (markdown.indexOf('[') < 0 && markdown.indexOf('<') < 0 && markdown.indexOf('!') < 0) return markdown;
  let result = '';
  let last = 0;
  for (const match of markdown.matchAll(CODE_SPAN)) {
    result += cleanProse(markdown.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return result + cleanProse(markdown.slice(last));
}

function cleanProse(text: string): string {
  if (text.indexOf('[') < 0 && text.indexOf('<') < 0) return text;
  let previous: string;
  let result = text.replace(HTML_COMMENT, '').replace(IMAGE, '');
  // Repeated: a badge is an image inside a link, so the link is only seen once the image is gone.
  do {
    previous = result;
    result = result.replace(LINK, '$1');
  } while (result !== previous);
  return result.replace(AUTOLINK, '$1').replace(HTML_TAG, '');
}

/** The text of an HTML block: tags and comments gone, the common entities decoded, whitespace folded. */
export function htmlBlockText(html: string): string {
  return html
    .replace(HTML_COMMENT, ' ')
    .replace(/<(script|style)[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(HTML_TAG, ' ')
    .replace(/&(#?[a-z0-9]+);/gi, (whole, name: string) => ENTITIES[name.toLowerCase()] ?? whole)
    .replace(/\s+/g, ' ')
    .trim();
}

/** An HTML block becomes a paragraph only when it has this many words of text (a banner of images has none). */
const HTML_BLOCK_MIN_WORDS = 3;

/**
 * Cleans a document's blocks; blocks left empty go. Pure and deterministic: the same blocks and
 * options always give the same output.
 */
export function cleanBlocks(blocks: readonly Block[], options: CleanOptions): Block[] {
  const boilerplate = boilerplateMatcher(options);
  const cleaned: Block[] = [];
  for (const block of blocks) {
    const result = cleanBlock(block, boilerplate);
    if (result && result.text.trim() !== '') cleaned.push(result);
  }
  return cleaned;
}

function cleanBlock(block: Block, boilerplate: RegExp | null): Block | undefined {
  switch (block.kind) {
    case 'code':
      return block;
    case 'html': {
      const text = htmlBlockText(block.text);
      return text.split(' ').filter(Boolean).length >= HTML_BLOCK_MIN_WORDS ? { kind: 'paragraph', text } : undefined;
    }
    case 'rule':
      return block;
    case 'paragraph': {
      const lines = cleanLines(block.text).filter(
        (line) => !(boilerplate && line.length <= BOILERPLATE_MAX_LINE && boilerplate.test(line.trim())),
      );
      // Prose: runs of spaces are typing, not layout (the indentation of the first line is kept).
      return { ...block, text: lines.map((line) => foldSpaces(line)).join('\n') };
    }
    case 'heading': {
      const text = cleanInline(block.text).trimEnd();
      // A heading whose text was only an image or a badge is no heading.
      return /^#{1,6}\s*#*\s*$/.test(text.trim()) || text.trim() === '' ? undefined : { ...block, text: cleanLines(text).join('\n') };
    }
    case 'list': {
      // List lines keep their indentation and spacing: only inline noise goes. Item offsets are kept
      // only while no line is dropped (they are what an oversized list is cut at).
      const original = block.text.split('\n');
      const kept = cleanLines(block.text);
      return { ...block, text: kept.join('\n'), ...(kept.length === original.length ? {} : { itemStarts: undefined }) };
    }
    default:
      return { ...block, text: cleanLines(block.text).join('\n') };
  }
}

/**
 * Inline noise out of each line, trailing spaces off; a line that only held noise (a row of badges)
 * goes, blank lines stay. Fenced code nested in a list item or a quote is code: its lines stay as written.
 */
function cleanLines(text: string): string[] {
  const kept: string[] = [];
  const fences = text.indexOf('```') >= 0 || text.indexOf('~~~') >= 0 ? new NestedFenceTracker() : undefined;
  for (const line of text.split('\n')) {
    if (fences?.push(line)) {
      kept.push(line);
      continue;
    }
    let cleaned = cleanInline(line).trimEnd();
    if (cleaned.trim() === '' && line.trim() !== '') continue;
    // A badge or comment removed from the start of a line leaves no indentation the author did not write.
    if (cleaned !== line && /^\s/.test(cleaned) && !/^\s/.test(line)) cleaned = cleaned.trimStart();
    kept.push(cleaned);
  }
  return kept;
}

function foldSpaces(line: string): string {
  const indent = line.length - line.trimStart().length;
  // indexOf is much faster than a regex scan, and nearly every line has nothing to collapse.
  if (line.indexOf('  ', indent) < 0 && line.indexOf('\t', indent) < 0) return line;
  return line.slice(0, indent) + line.slice(indent).replace(INLINE_SPACE_RUNS, ' ');
}

/** A heading's text as plain words: `## The *big* [idea](x) <img src=y>` -> "The big idea" (and `Title\n=====` -> "Title"). */
export function plainText(markdown: string): string {
  return cleanInline(markdown)
    .replace(/\n[ \t]{0,3}(?:=+|-+)[ \t]*$/, '') // a setext heading's underline
    .replace(/^\s{0,3}#{1,6}\s+/, '')
    .replace(/\s+#+\s*$/, '')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__|\*|_|~~)(\S(?:.*?\S)?)\1/g, '$2')
    .replace(/\\([!-/:-@[-`{-~])/g, '$1') // backslash escapes: "1\. Intro" is "1. Intro"
    .replace(/\s+/g, ' ')
    .trim();
}
