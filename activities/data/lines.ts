import { createReadStream } from 'node:fs';

/**
 * Lines of a (validated UTF-8) file, streamed: memory holds one read buffer plus the current line,
 * whatever the file size. A line longer than `maxLineBytes` is not accumulated; it is reported as
 * too long (with its number) and skipped, so one runaway record cannot exhaust memory.
 */

export interface Line {
  /** 1-based line number. */
  number: number;
  /** The line without its "\n" (and without a trailing "\r"); empty when `tooLong`. */
  text: string;
  tooLong: boolean;
}

const NEWLINE = 0x0a;

/** Yields the lines of each read buffer as one batch: one await per megabyte rather than per line. */
export async function* readLineBatches(path: string, maxLineBytes: number, signal?: AbortSignal): AsyncGenerator<Line[]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  let number = 0;
  const finish = (tail: Buffer): Line => {
    number += 1;
    if (tooLong) {
      pending = [];
      pendingBytes = 0;
      tooLong = false;
      return { number, text: '', tooLong: true };
    }
    const bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return { number, text: bytes.toString('utf8', 0, end), tooLong: false };
  };
  for await (const raw of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
    const chunk = raw as Buffer;
    const batch: Line[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE, start); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      if (!tooLong && pendingBytes + (newline - start) > maxLineBytes) tooLong = true;
      batch.push(finish(tooLong ? Buffer.alloc(0) : chunk.subarray(start, newline)));
      start = newline + 1;
    }
    if (start < chunk.length && !tooLong) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) {
        tooLong = true;
        pending = [];
      } else {
        // Copy: the stream may reuse its buffer.
        pending.push(Buffer.from(chunk.subarray(start)));
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (pendingBytes > 0 || tooLong) yield [finish(Buffer.alloc(0))];
}
