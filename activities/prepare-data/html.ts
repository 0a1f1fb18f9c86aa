import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Parser } from 'htmlparser2';
import { titleFromFileName } from '../../common/prepare-data/text/markdown';
import { previousPartOf, type PreviousPart, type SourceDocument } from './sections';

/**
 * HTML to text through a real, streaming HTML parser (htmlparser2: tolerant of broken markup, decodes
 * entities). Page furniture (scripts, styles, navigation, site headers and footers, forms) is dropped;
 * block elements become paragraph breaks, list items "- ", sub-headings "## ", so the text reads like
 * the Markdown posts. The page title is the first <h1>, else <title>, else the file name.
 */

const SKIPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'nav',
  'footer',
  'aside',
  'form',
  'button',
  'iframe',
  'select',
  'head',
  'menu',
]);
const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'br',
  'li',
  'ul',
  'ol',
  'blockquote',
  'pre',
  'table',
  'tr',
  'hr',
  'figure',
  'figcaption',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'dl',
  'dt',
  'dd',
  'header',
]);

export async function* readHtmlDocuments(
  localPath: string,
  displayPath: string,
  maxChars: number,
  signal?: AbortSignal,
  content?: Buffer,
): AsyncGenerator<SourceDocument> {
  const finished: SourceDocument[] = [];
  let paragraphs: string[] = [];
  let current = '';
  let chars = 0;
  let sections = 0;
  let previous: PreviousPart | undefined;
  let skipDepth = 0;
  let preDepth = 0;
  let articleDepth = 0;
  let h1: string | undefined;
  let inH1 = false;
  let titleTag: string | undefined;
  let inTitle = false;
  const headerSkips: boolean[] = [];
  // Ordered lists keep their numbers ("1. "), as the Markdown version of the same post would.
  const lists: Array<{ ordered: boolean; next: number }> = [];

  let preLanguage = '';
  // The Markdown marker of the block being read ("- ", "1. ", "## "), put before its text once it has some.
  let marker = '';
  let quoteDepth = 0;
  const endBlock = () => {
    // Preformatted text becomes fenced code, as in the Markdown version of the same post (its
    // language from <code class="language-x">), so one set of rules reads both. Other text is
    // escaped where Markdown would take it for markup: it is read as Markdown next.
    const words = preDepth > 0 ? '' : current.replace(/\s+/g, ' ').trim();
    const text =
      preDepth > 0
        ? contained(fenced(current.replace(/^\n+|\s+$/g, ''), preLanguage), marker === '## ' ? '' : marker, quoteDepth > 0)
        : // A heading's text is not at the start of a line (its "## " is): only inline markup is escaped in it.
          words && `${quoteDepth > 0 ? '> ' : ''}${marker}${escapeMarkdown(words, marker !== '## ')}`;
    if (text) {
      paragraphs.push(text);
      chars += text.length + 2;
      marker = '';
    }
    current = '';
    if (chars >= maxChars) flush();
  };
  const flush = () => {
    if (paragraphs.length === 0) return;
    sections += 1;
    const title = h1 ?? cleanTitle(titleTag) ?? titleFromFileName(displayPath);
    finished.push({
      source: sections === 1 ? displayPath : `${displayPath}#${sections}`,
      text: paragraphs.join('\n\n'),
      format: 'html',
      ...(title ? { title } : {}),
      ...(sections > 1 ? { continuation: true } : {}),
      ...(sections > 1 && previous ? { previous } : {}),
    });
    previous = previousPartOf(paragraphs.join('\n\n').split('\n'), 'markdown', previous);
    paragraphs = [];
    chars = 0;
  };

  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'title') inTitle = true;
        if (name === 'code' && preDepth > 0)
          preLanguage = /(?:^|\s)(?:language|lang)-([\w+#.-]+)/.exec(attributes.class ?? '')?.[1] ?? preLanguage;
        if (name === 'article' || name === 'main') articleDepth += 1;
        // A <header> inside the article holds its title; the site's header is furniture.
        if (name === 'header') headerSkips.push(articleDepth === 0);
        if (SKIPPED.has(name) || (name === 'header' && articleDepth === 0)) {
          skipDepth += 1;
          return;
        }
        if (skipDepth > 0) return;
        if (BLOCKS.has(name)) endBlock();
        if (name === 'pre') {
          preDepth += 1;
          preLanguage = '';
        }
        if (name === 'h1' && h1 === undefined) inH1 = true;
        else if (/^h[1-6]$/.test(name)) marker = '## ';
        else if (name === 'li') {
          const list = lists[lists.length - 1];
          marker = list?.ordered ? `${list.next++}. ` : '- ';
        } else if (name === 'ol' || name === 'ul') lists.push({ ordered: name === 'ol', next: 1 });
        else if (name === 'blockquote') quoteDepth += 1;
      },
      ontext(text) {
        if (inTitle) titleTag = (titleTag ?? '') + text;
        if (skipDepth > 0) return;
        current += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        const skippedHeader = name === 'header' ? headerSkips.pop() === true : false;
        if (SKIPPED.has(name) || skippedHeader) {
          skipDepth = Math.max(0, skipDepth - 1);
        } else if (skipDepth === 0) {
          if (name === 'h1' && inH1) {
            h1 = current.replace(/\s+/g, ' ').trim() || undefined;
            current = '';
            inH1 = false;
          }
          if (BLOCKS.has(name)) endBlock();
          // A heading or an item left without text marks nothing after it.
          if (/^h[1-6]$/.test(name) || name === 'li') marker = '';
          if (name === 'blockquote') quoteDepth = Math.max(0, quoteDepth - 1);
          if (name === 'pre') preDepth = Math.max(0, preDepth - 1);
          if (name === 'ol' || name === 'ul') lists.pop();
        }
        if (name === 'article' || name === 'main') articleDepth = Math.max(0, articleDepth - 1);
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );

  const decoder = new StringDecoder('utf8');
  for await (const chunk of content ? [content] : createReadStream(localPath, { highWaterMark: 1 << 20, signal })) {
    parser.write(decoder.write(chunk as Buffer));
    while (finished.length > 0) yield finished.shift() as SourceDocument;
  }
  parser.write(decoder.end());
  parser.end();
  endBlock();
  flush();
  while (finished.length > 0) yield finished.shift() as SourceDocument;
}

const LINE_START_SYNTAX = /^(\s*)(#|>|[-+*](?=\s|$)|[-*_](?=(?:\s*[-*_]){2,}\s*$)|\d{1,9}(?=[.)](?:\s|$))|`{3}|~{3}|=+\s*$)/;
const TAG_LIKE = /<(?=[A-Za-z/!?])/g;
const LINK_LIKE = /\[(?=[^\]\n]*\](?:[([:]))/g;

/**
 * Text that Markdown would read as markup, escaped with a backslash as a Markdown author would write
 * it: `&lt;tbody&gt;` decoded to `<tbody>` must not be taken for a tag (and cleaned away), a paragraph
 * that begins "# of users" or "2020. That year" is no heading or list, and `[x](y)` typed as text is no link.
 */
export function escapeMarkdown(text: string, atLineStart: boolean): string {
  let escaped = text.indexOf('<') >= 0 ? text.replace(TAG_LIKE, '\\<') : text;
  if (escaped.indexOf('[') >= 0) escaped = escaped.replace(LINK_LIKE, '\\[');
  if (!atLineStart) return escaped;
  return escaped.replace(LINE_START_SYNTAX, (_whole, space: string, syntax: string) =>
    /^\d/.test(syntax) ? `${space}${syntax}\\` : `${space}\\${syntax}`,
  );
}

/**
 * Code inside a list item or a quote stays inside it: the item's marker before the fence, its
 * indentation before every later line, and "> " before each line in a quote.
 */
function contained(code: string, marker: string, quoted: boolean): string {
  if (!code) return code;
  const indent = ' '.repeat(marker.length);
  const lines = code.split('\n').map((line, index) => (index === 0 ? `${marker}${line}` : line === '' ? line : `${indent}${line}`));
  return (quoted ? lines.map((line) => (line === '' ? '>' : `> ${line}`)) : lines).join('\n');
}

/** Code as a fenced block, with a fence longer than any backtick run inside it. */
function fenced(code: string, language: string): string {
  if (!code.trim()) return '';
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${code}\n${fence}`;
}

/** "My post | Site name" -> "My post". */
function cleanTitle(title: string | undefined): string | undefined {
  const trimmed = title?.replace(/\s+/g, ' ').trim();
  if (!trimmed) return undefined;
  return trimmed.split(/\s+[|·–—-]\s+/)[0]?.trim() || undefined;
}
