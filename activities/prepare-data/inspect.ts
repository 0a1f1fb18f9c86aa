import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import { errnoCode, UNREADABLE_CODES } from './failures';
import { validationFailure } from '../../common/shared/validation';

/**
 * One streaming pass over a file before any of it is used: its MD5 (the fingerprint, comparable with
 * an S3 ETag), and whether it is text we can read. A file that turns out binary or non-UTF-8 is skipped
 * whole with the reason, rather than half-used: we know before the first document leaves it.
 */

export interface FileInspection {
  md5: string;
  bytes: number;
  /** Why the file cannot be used, if it cannot. */
  skipReason?: string;
  /** The file's bytes, when it was small enough to be read whole (its readers then need not read it again). */
  content?: Buffer;
}

const SNIFF_BYTES = 8192;
/** A file up to this size (as it is when opened) is read in one call, not streamed: far fewer round trips. */
const WHOLE_FILE_BYTES = 4 * 1024 * 1024;

export async function inspectFile(path: string, displayName: string, signal?: AbortSignal): Promise<FileInspection> {
  const md5 = createHash('md5');
  let bytes = 0;
  let skipReason: string | undefined;
  let carry: Buffer = Buffer.alloc(0);
  let content: Buffer | undefined;
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    if ((await handle.stat()).size <= WHOLE_FILE_BYTES) content = await handle.readFile({ signal });
    const chunks = content ? [content] : handle.createReadStream({ highWaterMark: 1 << 20, signal, autoClose: false });
    for await (const raw of chunks) {
      const chunk = raw as Buffer;
      md5.update(chunk);
      if (skipReason === undefined) {
        if (bytes === 0) skipReason = sniff(chunk);
        if (skipReason === undefined) {
          const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
          const complete = completeLength(data);
          if (!isUtf8(data.subarray(0, complete)))
            skipReason = `not valid UTF-8 (somewhere in bytes ${bytes - carry.length}-${bytes + chunk.length}); re-save it as UTF-8`;
          else if (bytes < SNIFF_BYTES && data.subarray(0, Math.min(complete, SNIFF_BYTES)).includes(0))
            skipReason = 'binary file (contains NUL bytes)';
          carry = Buffer.from(data.subarray(complete));
        }
      }
      bytes += chunk.length;
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const code = errnoCode(error);
    if (code && UNREADABLE_CODES.has(code))
      throw validationFailure(`cannot read ${displayName}: ${code}; fix its permissions or remove it from the source`, { cause: error });
    throw error;
  } finally {
    await handle?.close();
  }
  if (skipReason === undefined && carry.length > 0) skipReason = 'not valid UTF-8 (truncated character at the end); re-save it as UTF-8';
  if (skipReason === undefined && bytes === 0) skipReason = 'empty file';
  return { md5: md5.digest('hex'), bytes, ...(skipReason ? { skipReason } : content ? { content } : {}) };
}

/** Recognisable non-text starts: UTF-16/32 byte order marks and common binary signatures. */
function sniff(head: Buffer): string | undefined {
  if (head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    return 'UTF-16 text (byte order mark); re-save it as UTF-8';
  }
  const signatures: Array<[string, number[]]> = [
    ['PNG image', [0x89, 0x50, 0x4e, 0x47]],
    ['JPEG image', [0xff, 0xd8, 0xff]],
    ['GIF image', [0x47, 0x49, 0x46, 0x38]],
    ['PDF document', [0x25, 0x50, 0x44, 0x46]],
    ['ZIP archive (or DOCX/EPUB)', [0x50, 0x4b, 0x03, 0x04]],
    ['gzip archive', [0x1f, 0x8b]],
  ];
  for (const [name, signature] of signatures) {
    if (signature.every((byte, index) => head[index] === byte)) return `binary file (${name})`;
  }
  return undefined;
}

/** Length of `data` up to the last complete UTF-8 sequence (a chunk may end inside a character). */
function completeLength(data: Buffer): number {
  const end = data.length;
  for (let back = 1; back <= Math.min(3, end); back += 1) {
    const byte = data[end - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? end - back : end;
  }
  return end;
}
