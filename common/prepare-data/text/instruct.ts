import type { Genre } from './genre';
import { fnv1a32 } from './hash';

/**
 * Template instructions: the answer is always the author's own text; the instruction is phrased from
 * what we know about the chunk, in the words that fit its kind of writing (a README section is asked
 * for as one, a blog post as a post): its document's title, the section it opens, where it sits, what
 * the part before it covered, and its topic words, taken from its prose (never from code, URLs or
 * stop words). Several phrasings per situation, picked by the chunk id's hash, so the model does not
 * learn one fixed prompt, and a re-run picks the same ones.
 */

export interface InstructContext {
  /** Stable chunk id: the only source of variation. */
  id: string;
  genre: Genre;
  title?: string;
  /** The chunk's text, and its prose alone (no code), where topics come from. */
  text: string;
  prose: string;
  /** The first heading that starts in the chunk (not one repeated from the part before), as plain text. */
  heading?: string;
  /** The section the chunk's new text starts in, when that heading is not in the chunk's new text. */
  section?: string;
  /**
   * What the part before this one was about: the section it ended in, else its topics (given, or found
   * in its `prose` only when a phrasing needs them).
   */
  previous?: { heading?: string; topics?: string[]; prose?: string };
  /** 0 for the first part of a document. */
  chunkIndex: number;
  hasCode: boolean;
  author: { name?: string; handle?: string };
}

interface GenreTemplates {
  /** The first part of a titled piece. */
  opening: readonly string[];
  /** A part that opens a section ({heading}). */
  section: readonly string[];
  /** A part that goes on inside a section it did not open ({section}). */
  continued: readonly string[];
  /** A part that ends one section ({section}) and opens the next ({heading}). */
  bridge: readonly string[];
  /** A later part with no section to name, described by its topics. */
  continuation: readonly string[];
  /** A later part with neither section nor topics. */
  more: readonly string[];
  /** A piece with no title, described by its topics. */
  untitled: readonly string[];
}

const TEMPLATES: Readonly<Record<Genre, GenreTemplates>> = {
  readme: {
    opening: [
      'write the README for {title}',
      'write the opening of the {title} README: what it is and how to start',
      'introduce {title} the way its README does',
    ],
    section: [
      'write the "{heading}" section of the {title} README',
      'continue the {title} docs with the section "{heading}"',
      '{After}write "{heading}" for the {title} README',
    ],
    continued: ['continue the "{section}" section of the {title} README', 'go on with "{section}" in the {title} docs'],
    bridge: [
      'finish the "{section}" section of the {title} README and start "{heading}"',
      'complete "{section}" in the {title} docs, then write "{heading}"',
    ],
    continuation: ['continue the {title} README{after} covering {topics}', 'write the next part of the {title} docs{after} on {topics}'],
    more: ['continue the {title} README', 'write the next part of the {title} docs'],
    untitled: ['write documentation on {topics}', 'document {topics} for the users of your project'],
  },
  'blog-post': {
    opening: [
      'write a blog post titled "{title}"',
      'draft the opening of your post "{title}"',
      'write the piece "{title}" for your readers',
      'start an article called "{title}"',
    ],
    section: ['continue your post "{title}" with the section "{heading}"', '{After}write the part of "{title}" headed "{heading}"'],
    continued: ['continue the part of "{title}" on "{section}"', 'keep writing the "{section}" section of "{title}"'],
    bridge: ['finish the part of "{title}" on "{section}" and go on to "{heading}"'],
    continuation: [
      'continue your post "{title}"{after} moving on to {topics}',
      'keep writing "{title}"{after} now about {topics}',
      'write the next section of "{title}"{after} covering {topics}',
    ],
    more: ['continue your post "{title}"', 'keep writing "{title}"'],
    untitled: ['write a short piece about {topics}', 'share your thoughts on {topics}', 'write a few paragraphs on {topics}'],
  },
  essay: {
    opening: ['write an essay titled "{title}"', 'begin your essay "{title}"'],
    section: ['continue your essay "{title}" with "{heading}"', '{After}write the part of your essay "{title}" called "{heading}"'],
    continued: ['continue your essay "{title}", still on "{section}"'],
    bridge: ['finish the "{section}" part of your essay "{title}" and turn to "{heading}"'],
    continuation: ['continue your essay "{title}"{after} turning to {topics}', 'carry the argument of "{title}" on{after} to {topics}'],
    more: ['continue your essay "{title}"'],
    untitled: ['write an essay on {topics}', 'reflect at length on {topics}'],
  },
  newsletter: {
    opening: ['write this issue of your newsletter: "{title}"', 'open your newsletter issue "{title}" for your subscribers'],
    section: ['write the "{heading}" part of your newsletter issue "{title}"', '{After}continue "{title}" with "{heading}"'],
    continued: ['continue the "{section}" part of your newsletter issue "{title}"'],
    bridge: ['finish "{section}" in your newsletter issue "{title}" and go on to "{heading}"'],
    continuation: ['continue the newsletter issue "{title}"{after} on {topics}'],
    more: ['continue the newsletter issue "{title}"'],
    untitled: ['write a newsletter item about {topics}', 'tell your subscribers about {topics}'],
  },
  notes: {
    opening: ['write your note "{title}"', 'jot down your notes on "{title}"'],
    section: ['add the "{heading}" part to your note "{title}"'],
    continued: ['continue the "{section}" part of your note "{title}"'],
    bridge: ['finish the "{section}" part of your note "{title}" and start "{heading}"'],
    continuation: ['continue your note "{title}"{after} on {topics}'],
    more: ['continue your note "{title}"'],
    untitled: ['jot down your notes on {topics}', 'write a short note about {topics}', 'note down a few lines about {topics}'],
  },
  'social-post': {
    opening: ['write a post about "{title}"', 'post your take on "{title}"'],
    section: ['write a post about "{heading}"'],
    continued: ['follow up your post "{title}" with more on "{section}"'],
    bridge: ['finish your post on "{section}" and start one on "{heading}"'],
    continuation: ['follow up your post "{title}"{after} with more on {topics}'],
    more: ['follow up your post "{title}"'],
    untitled: ['write a short post about {topics}', 'post a quick thought on {topics}', 'share a few lines on {topics}'],
  },
};

const FIRST_LINE_TEMPLATES = ['write a passage that begins: "{first}"', 'write a few paragraphs that open with: "{first}"'];

/** Topics come from the start of a chunk's prose: enough to name what it is about, cheap on long chunks. */
const TOPIC_SAMPLE_CHARS = 1200;

/** The first TOPIC_SAMPLE_CHARS of a text, cut at a space: a word cut in two is no topic ("indentati"). */
function sampleOf(text: string): string {
  if (text.length <= TOPIC_SAMPLE_CHARS) return text;
  const cut = text.lastIndexOf(' ', TOPIC_SAMPLE_CHARS);
  const newline = text.lastIndexOf('\n', TOPIC_SAMPLE_CHARS);
  return text.slice(0, Math.max(cut, newline, 0));
}

const STOPWORDS = new Set(
  (
    'about above after again against also always among another anyone anything around because been before being below between both cannot could ' +
    'didn does doesn doing done down during each either else enough even ever every first from further gets getting give going gone good have having ' +
    'here hers herself himself however into itself just keep know last least less like little made make many maybe might mine more most much must ' +
    'myself need never next nothing often once only other others ours ourselves over own perhaps quite rather really same said says seem seems shall ' +
    'should since some something sometimes still such sure take than that their theirs them themselves then there these they thing things think ' +
    'this those though through thus till together too toward towards under until upon very want was were what whatever when where whether which ' +
    'while whom whose will with within without would your yours yourself yourselves year years time times today people way ways back well ' +
    'used uses using want wants work works instead default example examples option options value values type types true false null ' +
    // Code and URL tokens that leak into prose: never a topic.
    'const function return import export require async await class string number object array json yaml html https http www github gitlab ' +
    'com org io npm yarn pnpm node deno typescript javascript readme license file files code version'
  ).split(' '),
);

/** The instruction for one chunk, as a sentence. */
export function templateInstruction(context: InstructContext): string {
  const hash = fnv1a32(context.id);
  const templates = TEMPLATES[context.genre];
  const title = context.title?.trim();
  // Topic words cost a pass over the text: only computed when the chosen phrasing needs them.
  let topics: string[] | undefined;
  const topicsOf = () => (topics ??= topicWords(sampleOf(context.prose), 3));
  let body: string;
  // The section named in the instruction; "after the part on ..." is said only of a different one.
  let named: string | undefined;
  if (title && context.chunkIndex === 0) body = pick(templates.opening, hash);
  else if (title && context.heading && context.heading !== title) {
    const bridging = context.section !== undefined && context.section !== title && context.section !== context.heading;
    body = pick(bridging ? templates.bridge : templates.section, hash);
    named = bridging ? context.section : context.heading;
  } else if (title && context.section && context.section !== title) {
    body = pick(templates.continued, hash);
    named = context.section;
  } else if (title && topicsOf().length > 0) body = pick(templates.continuation, hash);
  else if (title) body = pick(templates.more, hash);
  else if (topicsOf().length > 0) body = pick(templates.untitled, hash);
  else body = pick(FIRST_LINE_TEMPLATES, hash);
  const mentionsPrevious = body.includes('{After}') || body.includes('{after}');
  const before =
    !mentionsPrevious || (context.previous?.heading !== undefined && context.previous.heading === named)
      ? undefined
      : previousPart(context.previous);
  // "After the part on tides, moving on to tides" says nothing: the part before is named only when it differs.
  const previous = before?.topics && body.includes('{topics}') && sameWords(before.topics, topicsOf()) ? undefined : before?.text;
  const filled = body
    .replace('{After}', () => (previous ? `after the part on ${previous}, ` : ''))
    .replace('{after}', () => (previous ? `, after the part on ${previous},` : ''))
    .replace('{title}', () => title ?? '')
    .replace('{heading}', () => context.heading ?? '')
    .replace('{section}', () => context.section ?? '')
    .replace('{topics}', () => listOf(topicsOf()))
    .replace('{first}', () => firstSentence(context.prose || context.text));
  const withCode =
    context.hasCode && context.genre === 'readme' && !/\bcode\b|example/.test(filled) ? `${filled}, with its code examples` : filled;
  return withVoice(withCode, context.author, hash >>> 8);
}

/** What the part before covered: its heading, quoted, or its topic words (with the words themselves). */
function previousPart(previous: InstructContext['previous']): { text: string; topics?: readonly string[] } | undefined {
  if (previous?.heading) return { text: `"${previous.heading}"` };
  const topics = previous?.topics ?? (previous?.prose ? topicWords(sampleOf(previous.prose), 3) : []);
  if (topics.length > 0) return { text: listOf(topics), topics };
  return undefined;
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((word) => b.includes(word));
}

/** "As Ada, write..." / "In your own voice, write..." / "Write..." */
function withVoice(body: string, author: InstructContext['author'], hash: number): string {
  const voices: string[] = ['', 'In your own voice, '];
  if (author.name) voices.push(`As ${author.name}, `, `Writing as ${author.name}, `);
  if (author.handle) voices.push(`In the voice of ${author.handle.startsWith('@') ? author.handle : `@${author.handle}`}, `);
  const voice = pick(voices, hash);
  const sentence = voice ? voice + body : body.charAt(0).toUpperCase() + body.slice(1);
  return /[.!?…]["”]?$/.test(sentence) ? sentence : `${sentence}.`;
}

/**
 * The most frequent content words (4+ letters, not stop words, code or URL tokens); ties go to the
 * longer word, then the earlier one. URLs and inline code are removed first; a word with an underscore,
 * a digit or an inner capital (`maxTokens`, `utf8`) is an identifier, not a topic. A hand-written scan
 * rather than a Unicode regex over the lower-cased text: this runs once per chunk, on every chunk.
 */
export function topicWords(text: string, limit: number): string[] {
  const prose =
    text.indexOf('/') >= 0 || text.indexOf('`') >= 0
      ? text.replace(/`[^`\n]*`|\b(?:https?:\/\/|www\.)\S+|\S+\.(?:com|org|io|dev|net)\b\S*/g, ' ')
      : text;
  const counts = new Map<string, number>();
  const length = prose.length;
  let index = 0;
  while (index < length) {
    if (!isLetter(prose, index)) {
      index += 1;
      continue;
    }
    const start = index;
    let apostrophe = false;
    let identifier = false;
    index += 1;
    for (; index < length; index += 1) {
      const code = prose.charCodeAt(index);
      if (code === 39 || code === 0x2019) apostrophe = true;
      else if (code === 95 || (code >= 48 && code <= 57)) identifier = true;
      else if (code >= 65 && code <= 90) identifier = true;
      else if (code !== 45 && !isLetter(prose, index)) break;
    }
    let end = index;
    // Trailing hyphens and apostrophes are not part of the word ("well-" or "dogs'").
    for (let code = prose.charCodeAt(end - 1); code === 39 || code === 0x2019 || code === 45; code = prose.charCodeAt(end - 1)) end -= 1;
    if (end - start < 4 || identifier) continue;
    if (apostrophe && /['’]/.test(prose.slice(start, end))) continue;
    // A word right after a dot or slash is a file or path part (`index.js`, `src/utils`).
    const before = prose.charCodeAt(start - 1);
    if (before === 46 || before === 47) continue;
    const word = prose.slice(start, end).toLowerCase();
    if (STOPWORDS.has(word)) continue;
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  // The top `limit` in one pass (a full sort of every distinct word costs more than the scan).
  // Map order is first appearance, and a later word must beat an earlier one strictly to pass it.
  const top: Array<[string, number]> = [];
  for (const entry of counts) {
    let at = top.length;
    while (at > 0 && ranksBefore(entry, top[at - 1] as [string, number])) at -= 1;
    if (at < limit) {
      top.splice(at, 0, entry);
      if (top.length > limit) top.pop();
    }
  }
  return top.map(([word]) => word);
}

function ranksBefore([word, count]: [string, number], [otherWord, otherCount]: [string, number]): boolean {
  return count > otherCount || (count === otherCount && word.length > otherWord.length);
}

const LETTER = /\p{L}/u;

/** Whether the character at `index` is a letter (ASCII fast path; a surrogate pair is tested whole). */
function isLetter(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  if (code >= 0xd800 && code <= 0xdbff) return LETTER.test(text.slice(index, index + 2));
  if (code >= 0xdc00 && code <= 0xdfff) return index > 0 && LETTER.test(text.slice(index - 1, index + 1));
  return LETTER.test(text[index] as string);
}

/** The chunk's first sentence without Markdown markers, at most 25 words. */
export function firstSentence(text: string): string {
  // 25 words fit in the first thousand characters; a chunk that is one long line is not scanned whole.
  const firstLine = (text.trimStart().slice(0, 1000).split('\n')[0] ?? '').trimEnd();
  const plain = firstLine.replace(/^(#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)/, '').trim();
  const sentence = /^.*?[.!?…](?=\s|$)/.exec(plain)?.[0] ?? plain;
  const words = sentence.split(/\s+/);
  return words.length > 25 ? `${words.slice(0, 25).join(' ')}…` : sentence;
}

function listOf(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function pick<T>(options: readonly T[], hash: number): T {
  return options[hash % options.length] as T;
}
