/**
 * Markdown stays Markdown (emphasis, lists and headings are part of how the author writes, and chat
 * models answer in Markdown), minus what is not writing: front matter, images, link targets, reference
 * definitions and HTML comments.
 */

export interface FrontMatter {
  title?: string;
  /** Lines consumed by the front matter block (0 when there is none). */
  lines: number;
}

const FRONT_MATTER_TITLE = /^title\s*:\s*(.+?)\s*$/i;
const MAX_FRONT_MATTER_LINES = 60;

/** Reads a leading `---` YAML block for its title (only `title: ...` is used; the rest is metadata). */
export function parseFrontMatter(lines: readonly string[]): FrontMatter {
  if (lines[0]?.trim() !== '---') return { lines: 0 };
  let title: string | undefined;
  for (let index = 1; index < Math.min(lines.length, MAX_FRONT_MATTER_LINES); index += 1) {
    const line = lines[index] as string;
    if (line.trim() === '---' || line.trim() === '...') return { title, lines: index + 1 };
    const match = FRONT_MATTER_TITLE.exec(line);
    if (match) title = unquote(match[1] as string);
  }
  // An opening rule without a closing one is a horizontal rule, not front matter.
  return { lines: 0 };
}

const IMAGE = /!\[[^\]\n]*\]\([^)\n]*\)/g;
const LINK = /\[([^\]\n]+)\]\((?:[^)\n]*)\)/g;
const REFERENCE_LINK = /\[([^\]\n]+)\]\[[^\]\n]*\]/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]\n]+\]:\s+\S+.*$/gm;
const HTML_COMMENT = /<!--[\s\S]*?-->/g;
const AUTOLINK = /<(https?:\/\/[^>\s]+)>/g;

/** Strips Markdown that is not prose. Works on any slice of a document (a paragraph, a section). */
export function stripMarkdownNoise(text: string): string {
  if (text.indexOf('[') < 0 && text.indexOf('<') < 0) return text;
  return text
    .replace(HTML_COMMENT, '')
    .replace(IMAGE, '')
    .replace(LINK, '$1')
    .replace(REFERENCE_LINK, '$1')
    .replace(REFERENCE_DEFINITION, '')
    .replace(AUTOLINK, '$1');
}

/** `# Title` or `## Title` -> "Title"; undefined for any other line. */
export function headingText(line: string, maxLevel = 2): string | undefined {
  const match = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
  if (!match || (match[1] as string).length > maxLevel) return undefined;
  return (
    stripMarkdownNoise(match[2] as string)
      .replace(/[*_`]/g, '')
      .trim() || undefined
  );
}

/** "why-i-swim_in-winter.md" -> "Why i swim in winter": a last-resort title from a file name. */
export function titleFromFileName(fileName: string): string | undefined {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');
  const words = base
    .replace(/^\d{4}-\d{2}-\d{2}[-_]?/, '')
    .split(/[-_\s]+/)
    .filter((word) => word.length > 0);
  if (words.length === 0 || words.every((word) => /^\d+$/.test(word))) return undefined;
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if ((trimmed.startsWith('"') && trimmed.endsWith('"')) || (trimmed.startsWith("'") && trimmed.endsWith("'"))) return trimmed.slice(1, -1);
  return trimmed;
}
