import { readFile } from 'node:fs/promises';
import type { PrepareDataSettings, SkippedItem, SourceFormat } from '../../common/prepare-data/contract';
import { readHtmlDocuments } from './html';
import { readLineBatches } from './lines';
import { cutLongRecord, Sectioner, type SourceDocument } from './sections';

/**
 * One reader per format, all streaming except plain .json (which must be parsed whole, so it has a
 * size cap and the advice to export JSONL instead). Records that cannot be used (bad JSON, no text in
 * the configured field, a line too long) are yielded as skips with their line number, never dropped
 * silently.
 */

export type ReadItem = { document: SourceDocument } | { skipped: SkippedItem };

/** One JSONL record may be at most this long; a longer line is skipped and reported. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Plain JSON is parsed whole: above this it is skipped with the advice to export JSONL. */
export const MAX_JSON_FILE_BYTES = 32 * 1024 * 1024;

export interface ReadRequest {
  localPath: string;
  /** Relative path used in reports and records. */
  path: string;
  format: SourceFormat;
  bytes: number;
  /** The file's bytes, when the inspection already read them whole. */
  content?: Buffer;
}

export async function* readDocuments(request: ReadRequest, settings: PrepareDataSettings, signal?: AbortSignal): AsyncGenerator<ReadItem> {
  const maxChars = settings.clean.maxDocumentChars;
  switch (request.format) {
    case 'markdown':
    case 'text': {
      const sectioner = new Sectioner(request.path, request.format, maxChars);
      for await (const batch of readLineBatches(request.localPath, MAX_RECORD_BYTES, signal, request.content)) {
        for (const line of batch) {
          // A 16 MiB line of prose does not exist; cut it rather than hold it.
          const document = line.tooLong ? sectioner.push('') : sectioner.push(line.text);
          if (line.tooLong)
            yield { skipped: { source: `${request.path}#L${line.number}`, reason: `line longer than ${MAX_RECORD_BYTES} bytes` } };
          if (document) yield { document };
        }
      }
      const last = sectioner.end();
      if (last) yield { document: last };
      return;
    }
    case 'html':
      for await (const document of readHtmlDocuments(request.localPath, request.path, maxChars, signal, request.content))
        yield { document };
      return;
    case 'jsonl':
      for await (const batch of readLineBatches(request.localPath, MAX_RECORD_BYTES, signal, request.content)) {
        // One record at a time, decoded and parsed only when it is its turn (see lines.ts).
        for (const line of batch) {
          const source = `${request.path}#L${line.number}`;
          if (line.tooLong) {
            yield { skipped: { source, reason: `record longer than ${MAX_RECORD_BYTES} bytes` } };
            continue;
          }
          const text = line.text;
          if (text.trim() !== '') yield* recordItems(recordItem(parseJson(text), source, 'jsonl', settings), maxChars);
        }
      }
      return;
    case 'json': {
      if (request.bytes > MAX_JSON_FILE_BYTES) {
        yield {
          skipped: {
            source: request.path,
            reason: `JSON file over ${MAX_JSON_FILE_BYTES / 1024 / 1024} MiB: export it as JSONL (one post per line), which is streamed`,
          },
        };
        return;
      }
      const parsed = parseJson(
        request.content ? request.content.toString('utf8') : await readFile(request.localPath, { encoding: 'utf8', signal }),
      );
      const records = recordsOf(parsed, settings.formats.json.recordsField);
      if (typeof records === 'string') {
        yield { skipped: { source: request.path, reason: records } };
        return;
      }
      for (let index = 0; index < records.length; index += 1)
        yield* recordItems(recordItem(records[index], `${request.path}#${index}`, 'json', settings), maxChars);
      return;
    }
  }
}

/** A record as one document, or as several when it is longer than clean.maxDocumentChars. */
function recordItems(item: ReadItem, maxChars: number): ReadItem[] {
  return 'document' in item ? cutLongRecord(item.document, maxChars).map((document) => ({ document })) : [item];
}

type Parsed = { value: unknown } | { error: string };

function parseJson(text: string): Parsed {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: `invalid JSON: ${(error as Error).message}` };
  }
}

function recordsOf(parsed: Parsed, recordsField: string | undefined): unknown[] | string {
  if ('error' in parsed) return parsed.error;
  const { value } = parsed;
  if (Array.isArray(value)) return value as unknown[];
  if (value !== null && typeof value === 'object') {
    if (recordsField) {
      const records = valueAt(value, recordsField);
      return Array.isArray(records) ? records : `no array at field "${recordsField}" (formats.json.recordsField)`;
    }
    const arrays = Object.entries(value).filter(([, item]) => Array.isArray(item));
    const [only] = arrays;
    if (arrays.length === 1 && only) return only[1] as unknown[];
    return `expected an array of posts, or an object with one array field; set formats.json.recordsField (found ${arrays.length} array fields)`;
  }
  return 'expected an array of posts or an object holding one';
}

function recordItem(parsed: unknown, source: string, format: 'json' | 'jsonl', settings: PrepareDataSettings): ReadItem {
  const value = format === 'jsonl' ? (parsed as Parsed) : ({ value: parsed } as Parsed);
  if ('error' in value) return { skipped: { source, reason: value.error } };
  const record = value.value;
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { skipped: { source, reason: 'not a JSON object' } };
  const { textField, titleField } = settings.formats.json;
  const text = valueAt(record, textField);
  if (typeof text !== 'string') return { skipped: { source, reason: `no text at field "${textField}" (formats.json.textField)` } };
  if (text.trim() === '') return { skipped: { source, reason: `empty text at field "${textField}"` } };
  const title = valueAt(record, titleField);
  const date = valueAt(record, settings.formats.json.dateField);
  const dated =
    typeof date === 'string'
      ? date
      : typeof date === 'number' && Number.isFinite(date)
        ? new Date(date > 1e11 ? date : date * 1000).toISOString()
        : undefined;
  return {
    document: {
      source,
      text,
      format,
      ...(typeof title === 'string' && title.trim() ? { title: title.trim() } : {}),
      ...(dated ? { date: dated } : {}),
    },
  };
}

/** `content.body` -> record.content.body */
function valueAt(record: object, path: string): unknown {
  let node: unknown = record;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
