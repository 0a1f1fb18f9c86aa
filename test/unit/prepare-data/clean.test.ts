import { textBlocks } from '../../../common/prepare-data/text/blocks';
import { cleanBlocks, normalizeCharacters, plainText } from '../../../common/prepare-data/text/clean';
import { headingText, parseFrontMatter, titleFromFileName } from '../../../common/prepare-data/text/markdown';
import { cleanMarkdown } from '../../helpers/text';

describe('cleaning', () => {
  it("keeps the author's punctuation and typography", () => {
    const text = 'Here’s the thing: it isn’t — and never was — about speed; it’s about “brakes”… (mostly). Really?! 😀 ½';
    expect(cleanMarkdown(text)).toBe(text);
  });

  it('composes to NFC, so visually identical text compares equal', () => {
    expect(cleanMarkdown('cafe\u0301 cre\u0300me')).toBe('café crème');
  });

  it('does not apply NFKC compatibility folding (ligatures, ellipsis, fractions stay)', () => {
    expect(cleanMarkdown('ﬁne… ½')).toBe('ﬁne… ½');
  });

  it('turns half a surrogate pair into U+FFFD, so the text hashed is the text written out as UTF-8', () => {
    const text = normalizeCharacters('broken \ud83d emoji, stray \ude00 low half, whole 😀');
    expect(text).toBe('broken \uFFFD emoji, stray \uFFFD low half, whole 😀');
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
  });

  it('folds exotic spaces, drops invisible and control characters and chat control tokens', () => {
    expect(normalizeCharacters('a\u00A0b\u2009c\u200Bd\u00ADe\uFEFFf\u0007g')).toBe('a b cdefg');
    expect(cleanMarkdown('before <|endoftext|>after')).toBe('before after');
  });

  it('normalises prose whitespace: CRLF, trailing spaces, runs inside lines, blank-line runs', () => {
    expect(cleanMarkdown('First  line   here.  \r\nsecond\tline\r\n\r\n\r\n\r\nNew paragraph.   \n\n\n')).toBe(
      'First line here.\nsecond line\n\nNew paragraph.',
    );
  });

  it('keeps lists, tables and fenced code byte for byte (indentation, alignment, blank lines in code)', () => {
    const text = [
      '- item',
      '  - nested  item',
      '    continued   here',
      '',
      '| name  | value |',
      '|-------|------:|',
      '| a     |     1 |',
      '',
      '```',
      'const  a =  1;',
      '',
      '    indented();',
      '```',
    ].join('\n');
    expect(cleanMarkdown(text)).toBe(text);
  });

  it('keeps fenced code nested in a list item or a quote as written: its links, tags and images are code', () => {
    const text = [
      '- Install it:',
      '',
      '  ```html',
      '  <a href="x">[docs](https://x.dev)</a>',
      '  ![logo](logo.png)',
      '  ```',
      '- After the code, a [link](https://x.dev) becomes its text.',
      '',
      '> ```md',
      '> [a link](https://y.dev) in quoted code',
      '> ```',
    ].join('\n');
    expect(cleanMarkdown(text)).toBe(text.replace('a [link](https://x.dev) becomes', 'a link becomes'));
  });

  it('drops images and badges without leaving empty link husks, and keeps link text', () => {
    const text = [
      '[![npm](https://img.shields.io/npm/v/x.svg)](https://npmjs.com/x) [![build](https://ci/x.svg)](https://ci/x)',
      '',
      'See ![photo](a.png) the [docs](https://x.io/a) and [ref][1] *now*.<!-- hidden -->',
      '',
      '[](https://example.com/empty) A sentence with [](https://husk.example) no husk.',
      '',
      '[1]: https://x.io/ref',
    ].join('\n');
    const cleaned = cleanMarkdown(text);
    expect(cleaned).toBe('See the docs and ref *now*.\n\nA sentence with no husk.');
    expect(cleaned).not.toMatch(/\[\]|\]\(|https?:/);
  });

  it('keeps the text of HTML blocks with words, drops banners and <picture> blocks that only hold images', () => {
    const text = [
      '<p align="center">',
      '  <img src="media/header.png" width="1000">',
      '</p>',
      '',
      '<picture>',
      '  <source media="(prefers-color-scheme: dark)" srcset="logo-dark.svg">',
      '  <img alt="" src="logo.svg">',
      '</picture>',
      '',
      '<div align="center"><b>Fast</b> and <i>small</i> &amp; tested.</div>',
      '',
      'Prose with <kbd>Ctrl</kbd> inline HTML.',
      '',
      '<!-- a comment block -->',
    ].join('\n');
    expect(cleanMarkdown(text)).toBe('Fast and small & tested.\n\nProse with Ctrl inline HTML.');
  });

  it('treats the same noise the same way in plain text blocks as in Markdown', () => {
    const noisy = 'Read [the guide](https://x.io/guide) ![logo](l.png) now.';
    expect(cleanBlocks(textBlocks(noisy), { stripBoilerplate: true })[0]!.text).toBe(cleanMarkdown(noisy));
  });

  it('leaves code spans alone', () => {
    expect(cleanMarkdown('Call `[x](y)` and `<div>` as written.')).toBe('Call `[x](y)` and `<div>` as written.');
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
    expect(cleanMarkdown(text)).toBe('I read every comment, and I share this with my team.\nThe end.');
    expect(cleanMarkdown(text, { stripBoilerplate: false })).toBe(text);
  });

  it('applies extra boilerplate patterns from the input', () => {
    expect(
      cleanMarkdown('Keep me.\nSponsored by Acme\nAnd me.', { stripBoilerplate: true, boilerplatePatterns: ['sponsored by .+'] }),
    ).toBe('Keep me.\nAnd me.');
  });

  it('drops headings that were only an image, and blocks left empty', () => {
    expect(cleanMarkdown('# <img src="x.png">\n\nShare this post\n\nText.')).toBe('Text.');
  });
});

describe('titles and front matter', () => {
  it('makes plain-text titles from heading markup', () => {
    expect(plainText('# np [![npm](https://img.shields.io/x.svg)](https://npm.im/np)')).toBe('np');
    expect(plainText('## The *big* [idea](x) <img src="y.png"> `code`')).toBe('The big idea code');
    expect(plainText('<img src="media/header.png" width="1000">')).toBe('');
    expect(plainText('Getting started\n===============')).toBe('Getting started');
    expect(plainText('## 1\\. Introduction to \\<tbody>')).toBe('1. Introduction to <tbody>');
    expect(plainText('Options\n-------')).toBe('Options');
  });

  it('reads the title and date from front matter and knows where it ends', () => {
    expect(parseFrontMatter(['---', 'title: "The pager at 3 a.m."', 'date: 2021-03-04', '---', 'Body'])).toEqual({
      title: 'The pager at 3 a.m.',
      date: '2021-03-04',
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
