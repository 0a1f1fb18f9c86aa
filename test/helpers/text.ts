import { joinBlocks, markdownBlocks } from '../../common/prepare-data/text/blocks';
import { cleanBlocks, normalizeCharacters, type CleanOptions } from '../../common/prepare-data/text/clean';

/** A Markdown text the way prepare-data cleans a document: characters normalised, parsed, cleaned, joined. */
export function cleanMarkdown(text: string, options: CleanOptions = { stripBoilerplate: true }): string {
  return joinBlocks(cleanBlocks(markdownBlocks(normalizeCharacters(text)), options));
}
