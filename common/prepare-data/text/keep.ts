/**
 * Which of two duplicates to keep. The twin learns whatever the dataset teaches, so when an edited copy
 * and its original are near duplicates, the original should stay, however their names sort. The rule
 * looks at what the documents themselves say, never at file times: those change with every copy, clone
 * and upload, and the same writing must always give the same dataset (file times are not part of the
 * dataset hash).
 *
 * - `original` (default): a name that says it is a copy (`-copy`, `copy of`, `-edited`, ` (1)`, `.bak`,
 *   `-old`, `~`) loses to one that does not; then the older date wins (front matter `date:`, a JSON
 *   record's date field, or a date at the start of the file name; a dated document before an undated
 *   one); then path order.
 * - `newest`: the newer date wins (for authors who revise in new files); then as `original`.
 * - `first-path`: path order alone (what llmtwin did before the rule existed).
 */
export type KeepRule = 'original' | 'newest' | 'first-path';

export interface KeepCandidate {
  /** Relative path, with `#n`/`#L<n>` for a section or a record. */
  source: string;
  /** Position in reading order (files by name, then sections and records as they come): "path order". */
  position: number;
  /** Epoch days of the document's own date, when it states one. */
  date?: number;
}

const COPY_NAME = /(?:^|[-_ .])(?:copy|copied|edited|backup|bak|old|tmp|dup|duplicate)(?:[-_ .]\d+)?$|^copy of |\s\(\d+\)$|~$/i;

/** Whether a file's name says it is a copy of something (`notes-copy.md`, `Copy of post.md`, `post (1).md`). */
export function namedAsCopy(source: string): boolean {
  const file = source.replace(/#.*$/, '').replace(/^.*\//, '');
  const stem = file.replace(/\.[^.]+$/, '').replace(/\.(?:bak|orig|old)$/i, '');
  return COPY_NAME.test(stem) || /\.(?:bak|old|tmp)$/i.test(file) || /~$/.test(file);
}

/** A date at the start of a file name (`2021-06-02-harbour-light.md`), as epoch days. */
export function dateInName(source: string): number | undefined {
  const file = source.replace(/#.*$/, '').replace(/^.*\//, '');
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(file);
  return match ? epochDays(`${match[1]}-${match[2]}-${match[3]}`) : undefined;
}

const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
/** A month by its English name or abbreviation ("jun", "sept"): 1 to 12, or 0. */
function monthOf(name: string): number {
  const lower = name.toLowerCase();
  return (
    MONTH_NAMES.findIndex((month) => month === lower || month.slice(0, 3) === lower || (lower === 'sept' && month === 'september')) + 1
  );
}
const ISO_DATE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
// A clock and a zone may follow a written date: "June 2, 2021 10:00 AM", "Wed, 02 Jun 2021 10:00:00 +0000" (RFC 2822).
const CLOCK = String.raw`(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?(?:\s*(?:[+-]\d{4}|z|utc|gmt|[a-z]{3,4}))?)?`;
const MONTH_FIRST = new RegExp(String.raw`^(?:[a-z]+,?\s+)?([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})${CLOCK}$`, 'i');
const DAY_FIRST = new RegExp(String.raw`^(?:[a-z]+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?,?\s+(\d{4})${CLOCK}$`, 'i');

/**
 * `2021-06-02`, `2021/6/2`, `2021-06-02T10:00:00+02:00`, `June 2, 2021`, `2 June 2021` (a clock and a
 * zone may follow) as epoch days of the calendar date as written: the author's day, the same on every
 * worker whatever its time zone (the clock and the zone are not used). Undefined for anything else,
 * such as "Version 2021", which a lenient Date.parse would take for a date.
 */
export function epochDays(value: string): number | undefined {
  const trimmed = value.trim().replace(/^["']|["']$/g, '');
  const iso = ISO_DATE.exec(trimmed);
  if (iso) {
    const time = dayTime(Number(iso[1]), Number(iso[2]), Number(iso[3]));
    return time === undefined ? undefined : time / 86_400_000;
  }
  const named = MONTH_FIRST.exec(trimmed) ?? DAY_FIRST.exec(trimmed);
  if (!named) return undefined;
  const [, first = '', second = '', year] = named;
  const [monthName, day] = /^\d/.test(first) ? [second, first] : [first, second];
  const month = monthOf(monthName);
  const time = month > 0 ? dayTime(Number(year), month, Number(day)) : undefined;
  return time === undefined ? undefined : time / 86_400_000;
}

/** Midnight UTC of a calendar day, or undefined when there is no such day (2021-02-30). */
function dayTime(year: number, month: number, day: number): number | undefined {
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? time : undefined;
}

export interface KeepDecision {
  /** -1: keep `a`; 1: keep `b`. Never 0 (path order breaks every tie). */
  order: -1 | 1;
  /** Why, for the manifest: "not named as a copy", "older (2021-06-02 before 2024-01-01)", "first in path order". */
  reason: string;
}

export function compareForKeep(a: KeepCandidate, b: KeepCandidate, rule: KeepRule): KeepDecision {
  if (rule !== 'first-path') {
    if (rule === 'newest') {
      const byDate = compareDates(a, b, 'newer');
      if (byDate) return byDate;
    }
    const copyA = namedAsCopy(a.source);
    const copyB = namedAsCopy(b.source);
    if (copyA !== copyB) return { order: copyA ? 1 : -1, reason: `${rule}: the other is named as a copy` };
    if (rule === 'original') {
      const byDate = compareDates(a, b, 'older');
      if (byDate) return byDate;
    }
  }
  // Reading order, not the text of the source: `a.jsonl#L10` is read after `a.jsonl#L2`.
  return { order: a.position <= b.position ? -1 : 1, reason: `${rule}: first in path order` };
}

function compareDates(a: KeepCandidate, b: KeepCandidate, wanted: 'older' | 'newer'): KeepDecision | undefined {
  const label = wanted === 'older' ? 'original' : 'newest';
  if (a.date === b.date) return undefined;
  // A document that states its date goes before one that does not: with that, the rule is a total
  // order (sorting by it is consistent), and an undated copy never displaces a dated original.
  if (a.date === undefined || b.date === undefined)
    return { order: a.date === undefined ? 1 : -1, reason: `${label}: the other states no date` };
  const aWins = wanted === 'older' ? a.date < b.date : a.date > b.date;
  const [winner, loser] = aWins ? [a.date, b.date] : [b.date, a.date];
  return {
    order: aWins ? -1 : 1,
    reason: `${label}: ${wanted} (${isoDay(winner)} ${wanted === 'older' ? 'before' : 'after'} ${isoDay(loser)})`,
  };
}

function isoDay(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * compareForKeep's order alone, for sorting a corpus: no reason is built (a sort compares often), and
 * `copy`, when given, is namedAsCopy(source) worked out once per document.
 */
export function keepOrder(a: KeepCandidate & { copy?: boolean }, b: KeepCandidate & { copy?: boolean }, rule: KeepRule): number {
  if (rule !== 'first-path') {
    if (rule === 'newest') {
      const byDate = dateOrder(a, b, 'newer');
      if (byDate !== 0) return byDate;
    }
    const copyA = a.copy ?? namedAsCopy(a.source);
    if (copyA !== (b.copy ?? namedAsCopy(b.source))) return copyA ? 1 : -1;
    if (rule === 'original') {
      const byDate = dateOrder(a, b, 'older');
      if (byDate !== 0) return byDate;
    }
  }
  return a.position <= b.position ? -1 : 1;
}

function dateOrder(a: KeepCandidate, b: KeepCandidate, wanted: 'older' | 'newer'): number {
  if (a.date === b.date) return 0;
  if (a.date === undefined || b.date === undefined) return a.date === undefined ? 1 : -1;
  return (wanted === 'older' ? a.date < b.date : a.date > b.date) ? -1 : 1;
}
