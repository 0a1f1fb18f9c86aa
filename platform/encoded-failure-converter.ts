import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter used when payload encryption is on: a failure's message and stack trace travel
 * as an encoded payload (which the codec then seals) instead of plain text in history, and the server
 * keeps only "Encoded failure". Error messages name buckets, paths and endpoints just as inputs do.
 * Loaded by path (DataConverter.failureConverterPath) so the worker builds it into the workflow bundle
 * too: workflow code cannot import the codec, and must not need to.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
