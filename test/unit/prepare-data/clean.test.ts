import { cleanText, normalizeCharacters } from '../../../common/prepare-data/text/clean';
import { stripMarkdownNoise, parseFrontMatter, headingText, titleFromFileName } from '../../../common/prepare-data/text/markdown';

const defaults = { stripBoilerplate: true };

describe('cleanText', () => {
  it("keeps the author's punctuation and typography", () => {
    const text = 'Here’s the thing: it isn’t — and never was — about speed; it’s about “brakes”… (mostly). Really?! 😀 ½';
    expect(cleanText(text, defaults)).toBe(text);
  });

  it('composes to NFC, so visually identical text compares equal', () => {
    const decomposed = 'cafe\u0301 cre\u0300me';
    expect(cleanText(decomposed, defaults)).toBe('café crème');
    expect(cleanText(decomposed, defaults)).toBe(cleanText('café crème', defaults));
  });

  it('does not apply NFKC compatibility folding (ligatures, ellipsis, fractions stay)', () => {
    expect(cleanText('ﬁne… ½', defaults)).toBe('ﬁne… ½');
  });

  it('folds exotic spaces, drops invisible and control characters and chat control tokens', () => {
    expect(normalizeCharacters('a\u00A0b\u2009c\u200Bd\u00ADe\uFEFFf\u0007g')).toBe('a b cdefg');
    expect(cleanText('before <|endoftext|>after', defaults)).toBe('before after');
  });

  it('normalises whitespace: CRLF, trailing spaces, runs inside lines, blank-line runs', () => {
    const text = 'First  line   here.  \r\nsecond\tline\r\n\r\n\r\n\r\nNew paragraph.   \n\n\n';
    expect(cleanText(text, defaults)).toBe('First line here.\nsecond line\n\nNew paragraph.');
  });

  it('keeps indentation of lists and alignment inside fenced code', () => {
    const text = '- item\n  - nested  item\n\n```\nconst  a =  1;\n```';
    expect(cleanText(text, defaults)).toBe('- item\n  - nested item\n\n```\nconst  a =  1;\n```');
  });

  it('strips boilerplate lines but not sentences that merely mention the words', () => {
    const text = [
      'I read every comment, and I share this with my team.',
      'Share this post',
      'Subscribe to my newsletter for weekly posts!',
      '© 2023 Wren Castellanos. All rights reserved.',
      'Follow me on Mastodon',
      'Posted in Stories',
      'The end.',
    ].join('\n');
    expect(cleanText(text, defaults)).toBe('I read every comment, and I share this with my team.\nThe end.');
    expect(cleanText(text, { stripBoilerplate: false })).toBe(text);
  });

  it('applies extra boilerplate patterns from the input', () => {
    expect(cleanText('Keep me.\nSponsored by Acme\nAnd me.', { stripBoilerplate: true, boilerplatePatterns: ['sponsored by .+'] })).toBe(
      'Keep me.\nAnd me.',
    );
  });

  it('returns empty text when nothing is left', () => {
    expect(cleanText('  \n\u200B\n Share this post \n', defaults)).toBe('');
  });
});

describe('markdown helpers', () => {
  it('strips images, link targets, reference definitions and comments, keeping the link text and emphasis', () => {
    const text = 'See ![photo](a.png) the [docs](https://x.io/a) and [ref][1] *now*.<!-- hidden -->\n[1]: https://x.io/ref';
    expect(stripMarkdownNoise(text).trim()).toBe('See  the docs and ref *now*.');
  });

  it('reads the title from front matter and knows where it ends', () => {
    expect(parseFrontMatter(['---', 'title: "The pager at 3 a.m."', 'date: 2021-03-04', '---', 'Body'])).toEqual({
      title: 'The pager at 3 a.m.',
      lines: 4,
    });
    expect(parseFrontMatter(['---', 'just a rule'])).toEqual({ lines: 0 });
  });

  it('recognises headings up to a level and derives titles from file names', () => {
    expect(headingText('# On saying *no*')).toBe('On saying no');
    expect(headingText('### Deep', 2)).toBeUndefined();
    expect(titleFromFileName('posts/2021-06-02-harbour-light.md')).toBe('Harbour light');
    expect(titleFromFileName('2021-06-02.md')).toBeUndefined();
  });
});
