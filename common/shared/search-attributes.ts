import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes the project registers on the Temporal server, so runs can be found in the
 * Web UI by stage, dataset or endpoint. The dev stack registers exactly these at start.
 */
export const SEARCH_ATTRIBUTES = {
  stage: defineSearchAttributeKey('LlmtwinStage', SearchAttributeType.KEYWORD),
  datasetHash: defineSearchAttributeKey('LlmtwinDatasetHash', SearchAttributeType.KEYWORD),
  endpointName: defineSearchAttributeKey('LlmtwinEndpoint', SearchAttributeType.KEYWORD),
} as const;

/** `Name=Type` pairs as the `temporal server start-dev --search-attribute` flag expects them. */
export function searchAttributeFlags(): string[] {
  const cliType: Record<string, string> = {
    [SearchAttributeType.KEYWORD]: 'Keyword',
    [SearchAttributeType.TEXT]: 'Text',
    [SearchAttributeType.INT]: 'Int',
    [SearchAttributeType.DOUBLE]: 'Double',
    [SearchAttributeType.BOOL]: 'Bool',
    [SearchAttributeType.DATETIME]: 'Datetime',
    [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  };
  return Object.values(SEARCH_ATTRIBUTES).map((key) => `${key.name}=${cliType[key.type]}`);
}
