import { plainText } from './clean';

/**
 * Markdown's metadata: front matter (a leading YAML block, read for its title and date), heading text,
 * and a title from a file name when nothing better is known. Cleaning is in clean.ts, structure in blocks.ts.
 */

export interface FrontMatter {
  title?: string;
  /** `date:` as written (the keep rule reads it: an original is older than its copy). */
  date?: string;
  /** Lines consumed by the front matter block (0 when there is none). */
  lines: number;
}

const FRONT_MATTER_TITLE = /^title\s*:\s*(.+?)\s*$/i;
const FRONT_MATTER_DATE = /^(?:date|published|created)\s*:\s*(.+?)\s*$/i;
const MAX_FRONT_MATTER_LINES = 60;

/** Reads a leading `---` YAML block for its title (only `title: ...` is used; the rest is metadata). */
export function parseFrontMatter(lines: readonly string[]): FrontMatter {
  if (lines[0]?.trim() !== '---') return { lines: 0 };
  let title: string | undefined;
  let date: string | undefined;
  for (let index = 1; index < Math.min(lines.length, MAX_FRONT_MATTER_LINES); index += 1) {
    const line = lines[index] as string;
    if (line.trim() === '---' || line.trim() === '...') return { ...(title ? { title } : {}), ...(date ? { date } : {}), lines: index + 1 };
    const match = FRONT_MATTER_TITLE.exec(line);
    if (match) title = unquote(match[1] as string);
    const dated = FRONT_MATTER_DATE.exec(line);
    if (dated && date === undefined) date = unquote(dated[1] as string);
  }
  // An opening rule without a closing one is a horizontal rule, not front matter.
  return { lines: 0 };
}

/** `# Title` or `## Title` -> "Title"; undefined for any other line. */
export function headingText(line: string, maxLevel = 2): string | undefined {
  const match = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
  if (!match || (match[1] as string).length > maxLevel) return undefined;
  return plainText(match[2] as string) || undefined;
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
