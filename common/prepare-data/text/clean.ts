/**
 * Cleaning keeps what a twin must learn, the author's voice, and drops what only gets in the way.
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
 * Whitespace: CRLF becomes LF, trailing spaces go, runs of spaces inside a line become one (except in
 * fenced code, where alignment matters), and paragraphs are separated by exactly one blank line.
 */

export interface CleanOptions {
  stripBoilerplate: boolean;
  /** Extra whole-line patterns (regex sources, case-insensitive). */
  boilerplatePatterns?: readonly string[];
}

/** Lines that are page furniture rather than writing. Matched against a whole, trimmed line. */
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

/** Normalises characters (NFC, spaces, invisibles, controls) without touching punctuation. */
export function normalizeCharacters(text: string): string {
  let result = text.indexOf('\r') >= 0 ? text.replace(/\r\n?/g, '\n') : text;
  if (NON_ASCII.test(result)) result = result.normalize('NFC');
  if (ANY_TO_FOLD.test(result)) result = result.replace(EXOTIC_SPACES, ' ').replace(INVISIBLES, '').replace(CONTROLS, '');
  if (result.indexOf('<|') >= 0) result = result.replace(SPECIAL_TOKENS, '');
  return result;
}

/**
 * Cleans one document. Returns "" when nothing is left (the caller counts it as empty). Pure and
 * deterministic: the same text and options always give the same output.
 */
export function cleanText(text: string, options: CleanOptions): string {
  const normalized = normalizeCharacters(text);
  const boilerplate = boilerplateMatcher(options);
  const lines = normalized.split('\n');
  const kept: string[] = [];
  let inFence = false;
  let blank = true;
  for (const rawLine of lines) {
    const line = rawLine.trimEnd();
    const trimmed = line.trimStart();
    if (trimmed.startsWith('```') || trimmed.startsWith('~~~')) inFence = !inFence;
    if (trimmed.length === 0) {
      if (!blank) kept.push('');
      blank = true;
      continue;
    }
    if (!inFence && boilerplate && trimmed.length <= BOILERPLATE_MAX_LINE && boilerplate.test(trimmed)) continue;
    kept.push(inFence ? line : collapseInlineSpaces(line, line.length - trimmed.length));
    blank = false;
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  // At most one blank line in a row by construction: paragraphs are separated by exactly "\n\n".
  return kept.join('\n');
}

/** Collapses runs of spaces and tabs after the indentation, which Markdown lists and quotes need. */
function collapseInlineSpaces(line: string, indent: number): string {
  // indexOf is much faster than a regex scan, and nearly every line has nothing to collapse.
  if (line.indexOf('  ', indent) < 0 && line.indexOf('\t', indent) < 0) return line;
  return line.slice(0, indent) + line.slice(indent).replace(INLINE_SPACE_RUNS, ' ');
}
