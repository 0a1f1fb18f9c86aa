import { fnv1a32 } from './hash';

/**
 * Template instructions: the answer is always the author's own text; the instruction is phrased from
 * what we know about the chunk (its document's title, where it sits in the document, its most frequent
 * content words, its first sentence). Several phrasings per situation, picked by the chunk id's hash,
 * so the model does not learn one fixed prompt, and a re-run picks the same ones.
 */

export interface InstructContext {
  /** Stable chunk id: the only source of variation. */
  id: string;
  title?: string;
  text: string;
  chunkIndex: number;
  author: { name?: string; handle?: string };
}

const OPENING_TEMPLATES = [
  'write a blog post titled "{title}"',
  'draft the opening of your post "{title}"',
  'write the piece "{title}" for your readers',
  'start an article called "{title}"',
];
const CONTINUATION_TEMPLATES = [
  'continue your post "{title}", moving on to {topics}',
  'keep writing "{title}": the part about {topics}',
  'write the next section of "{title}", covering {topics}',
];
const CONTINUATION_NO_TOPIC_TEMPLATES = ['continue your post "{title}"', 'write the next part of "{title}"'];
const TOPIC_TEMPLATES = ['write a short piece about {topics}', 'share your thoughts on {topics}', 'write a few paragraphs on {topics}'];
const OPENING_LINE_TEMPLATES = ['write a passage that begins: "{first}"', 'write a few paragraphs that open with: "{first}"'];
const SHORT_TOPIC_TEMPLATES = [
  'write a short note about {topics}',
  'post a quick thought on {topics}',
  'jot down a few lines about {topics}',
];
const SHORT_OPENING_TEMPLATES = ['write a short note that begins: "{first}"', 'post a quick update starting with: "{first}"'];
/** Below this many characters a chunk is a note, not an article, and is asked for as one. */
const SHORT_TEXT_CHARS = 400;
/** Topics come from the start of a chunk: enough to name what it is about, cheap on long chunks. */
const TOPIC_SAMPLE_CHARS = 1000;

const STOPWORDS = new Set(
  (
    'about above after again against also always among another anyone anything around because been before being below between both cannot could ' +
    'didn does doesn doing done down during each either else enough even ever every first from further gets getting give going gone good have having ' +
    'here hers herself himself however into itself just keep know last least less like little made make many maybe might mine more most much must ' +
    'myself need never next nothing often once only other others ours ourselves over own perhaps quite rather really same said says seem seems shall ' +
    'should since some something sometimes still such sure take than that their theirs them themselves then there these they thing things think ' +
    'this those though through thus till together too toward towards under until upon very want was were what whatever when where whether which ' +
    'while whom whose will with within without would your yours yourself yourselves year years time times today people way ways back well'
  ).split(' '),
);

/** The instruction for one chunk, as a sentence. */
export function templateInstruction(context: InstructContext): string {
  const hash = fnv1a32(context.id);
  const title = context.title?.trim();
  // Topic words cost a pass over the text: only computed when the chosen phrasing needs them.
  let topics: string[] | undefined;
  const topicsOf = () => (topics ??= topicWords(context.text.slice(0, TOPIC_SAMPLE_CHARS), 3));
  let body: string;
  if (title && context.chunkIndex === 0) {
    body = pick(OPENING_TEMPLATES, hash);
  } else if (title) {
    body = topicsOf().length > 0 ? pick(CONTINUATION_TEMPLATES, hash) : pick(CONTINUATION_NO_TOPIC_TEMPLATES, hash);
  } else {
    const short = context.text.length < SHORT_TEXT_CHARS;
    const byTopic = (hash >>> 4) % 4 !== 0 && topicsOf().length > 0;
    if (byTopic) body = pick(short ? SHORT_TOPIC_TEMPLATES : TOPIC_TEMPLATES, hash);
    else body = pick(short ? SHORT_OPENING_TEMPLATES : OPENING_LINE_TEMPLATES, hash);
  }
  const filled = body
    .replace('{title}', () => title ?? '')
    .replace('{topics}', () => listOf(topicsOf()))
    .replace('{first}', () => firstSentence(context.text));
  return withVoice(filled, context.author, hash >>> 8);
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
 * The most frequent content words (4+ letters, not stopwords); ties go to the longer word, then the
 * earlier one. A word is a run of letters, hyphens and apostrophes that starts with a letter; words with
 * an apostrophe (contractions, possessives) are left out. A hand-written scan rather than a Unicode
 * regex over the lower-cased text: this runs once per chunk, on every chunk of the corpus.
 */
export function topicWords(text: string, limit: number): string[] {
  const counts = new Map<string, number>();
  const length = text.length;
  let index = 0;
  while (index < length) {
    if (!isLetter(text, index)) {
      index += 1;
      continue;
    }
    const start = index;
    let apostrophe = false;
    index += 1;
    for (; index < length; index += 1) {
      const code = text.charCodeAt(index);
      if (code === 39 || code === 0x2019) apostrophe = true;
      else if (code !== 45 && !isLetter(text, index)) break;
    }
    let end = index;
    // Trailing hyphens and apostrophes are not part of the word ("well-" or "dogs'").
    for (let code = text.charCodeAt(end - 1); code === 39 || code === 0x2019 || code === 45; code = text.charCodeAt(end - 1)) end -= 1;
    if (end - start < 4) continue;
    if (apostrophe && /['’]/.test(text.slice(start, end))) continue;
    const word = text.slice(start, end).toLowerCase();
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
  const firstLine = text.trim().split('\n')[0] ?? '';
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
