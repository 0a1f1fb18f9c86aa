import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The log's bytes from `offset` (negative: that many from the end) and where the next read starts. */
export function readFrom(path: string, offset: number): { text: string; next: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { text: '', next: Math.max(offset, 0) };
  }
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(64 * 1024);
    let position = offset;
    if (offset < 0) {
      position = Math.max(0, fstatSync(fd).size + offset);
    }
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, read)));
      position += read;
    }
    // A multi-byte character cut at the end waits for the next read.
    const all = Buffer.concat(chunks);
    const complete = completeUtf8Length(all);
    return { text: all.subarray(0, complete).toString('utf8'), next: position - (all.length - complete) };
  } finally {
    closeSync(fd);
  }
}

function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const width = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return width > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}
