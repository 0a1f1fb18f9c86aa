import type { Block } from './blocks';

/**
 * What kind of writing a document is, so its instructions ask for that (a README section is not "a
 * blog post"). Detected from the path and the document's shape, unless the input names the genre.
 */
export const GENRES = ['readme', 'blog-post', 'essay', 'newsletter', 'notes', 'social-post'] as const;
export type Genre = (typeof GENRES)[number];

export interface GenreEvidence {
  /** Relative path (with `#...` for a section or record). */
  source: string;
  format: 'markdown' | 'text' | 'html' | 'json' | 'jsonl';
  blocks: readonly Pick<Block, 'kind' | 'text'>[];
  /** The document states a date (front matter, a record's date field, a dated file name). */
  dated: boolean;
}

const README_NAME =
  /(?:^|\/)(?:readme|contributing|changelog|install(?:ation)?|usage|getting[-_]started|api|faq|guide)(?:[-_.][^/]*)?\.(?:md|mdx|markdown|txt|rst|html?)$/i;
const DOCS_FOLDER = /(?:^|\/)(?:docs?|documentation|wiki|manual|reference)\//i;
const NEWSLETTER = /newsletter|(?:^|[/_-])issue[-_ ]?\d+|(?:^|\/)digest/i;
const ESSAYS = /(?:^|\/)essays?\//i;
const NOTES = /(?:^|\/)(?:notes?|journal|til|scratch|ideas)(?:\/|[-_.])/i;
const SOCIAL = /(?:^|\/)(?:tweets?|toots?|threads?|mastodon|bluesky|linkedin|social)(?:\/|[-_.])/i;
/** Section headings that documentation has and other writing rarely does. */
const README_SECTION =
  /^#{1,6}\s+(?:install(?:ation|ing)?|usage|api|options|configuration|config|license|licence|contributing|getting started|quick ?start|requirements|examples?|faq|changelog|development|building|sponsors|related|credits)\s*$/i;
const ESSAY_MIN_CHARS = 7200;
const BLOG = /(?:^|\/)(?:posts?|blog|articles?|_posts|writing)\//i;

export function detectGenre(evidence: GenreEvidence): Genre {
  const path = evidence.source.replace(/#.*$/, '');
  if (README_NAME.test(path) || DOCS_FOLDER.test(path)) return 'readme';
  let chars = 0;
  let codeChars = 0;
  let codeBlocks = 0;
  let headings = 0;
  let readmeSections = 0;
  for (const block of evidence.blocks) {
    chars += block.text.length + 1;
    if (block.kind === 'code') {
      codeBlocks += 1;
      codeChars += block.text.length;
    } else if (block.kind === 'heading') {
      headings += 1;
      if (README_SECTION.test(block.text.trim())) readmeSections += 1;
    }
  }
  if (NEWSLETTER.test(path)) return 'newsletter';
  if (SOCIAL.test(path) || ((evidence.format === 'json' || evidence.format === 'jsonl') && chars < 600 && codeBlocks === 0))
    return 'social-post';
  if (ESSAYS.test(path)) return 'essay';
  if (NOTES.test(path)) return 'notes';
  // Two documentation sections (Install, Usage, API, License...) make a README, whatever its file name.
  if (readmeSections >= 2 && !BLOG.test(path)) return 'readme';
  // Code-heavy writing with sections reads as documentation, wherever it lives.
  if (codeBlocks >= 2 && codeChars >= 0.2 * chars && headings >= 1 && !BLOG.test(path)) return 'readme';
  // An essay: long (about 1,200 words or more, at 6 characters a word), undated, few sections, little code.
  if (!evidence.dated && !BLOG.test(path) && chars >= ESSAY_MIN_CHARS && codeBlocks <= 1 && headings <= 3) return 'essay';
  if (chars < 500 && !evidence.dated && headings === 0) return 'notes';
  return 'blog-post';
}
