import { open } from 'node:fs/promises';
import { BufferedFileWriter } from './staging';
import type { Block } from '../../common/prepare-data/text/blocks';
import type { PreparedDocument } from './documents';

/**
 * The first pass's documents, waiting on local disk for the second. Each is written as a small JSON
 * header (everything but the blocks' text) and the blocks' text, raw, one after the other: the text is
 * most of the bytes, and raw it costs no escaping on the way out and no unescaping on the way back
 * (as JSON it was about a tenth of the whole stage's time). Nothing is hashed: the file never leaves
 * the machine. Memory holds two 1 MiB buffers to write and one to read, reused.
 *
 * A record: u32 header bytes, u32 text bytes (little-endian), the header (UTF-8 JSON), the text (UTF-8).
 */

type StagedHeader = Omit<PreparedDocument, 'blocks'> & { blocks: Array<Omit<Block, 'text'> & { length: number }> };

const BUFFER_BYTES = 1 << 20;
const PREFIX_BYTES = 8;

export class DocumentStageWriter {
  private readonly file: BufferedFileWriter;

  /** `appendAfter`: the staged length a checkpoint recorded; the documents after it are cut off and written again. */
  constructor(
    readonly path: string,
    appendAfter?: number,
  ) {
    // Never hashed: the file never leaves the machine.
    this.file = new BufferedFileWriter(path, { hash: false, ...(appendAfter === undefined ? {} : { appendAfter }) });
  }

  /** Every document written so far is on disk; answers the file's length (what a checkpoint records). */
  flushed(): Promise<number> {
    return this.file.flushed();
  }

  async write(document: PreparedDocument): Promise<void> {
    const header: StagedHeader = { ...document, blocks: document.blocks.map(({ text, ...rest }) => ({ ...rest, length: text.length })) };
    const headerText = JSON.stringify(header);
    const text = document.blocks.map((block) => block.text).join('');
    const headerBytes = Buffer.byteLength(headerText);
    const textBytes = Buffer.byteLength(text);
    await this.file.put(PREFIX_BYTES + headerBytes + textBytes, (target, offset) =>
      encode(target, offset, headerText, headerBytes, text, textBytes),
    );
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  destroy(): void {
    this.file.destroy();
  }
}

function encode(target: Buffer, offset: number, headerText: string, headerBytes: number, text: string, textBytes: number): void {
  target.writeUInt32LE(headerBytes, offset);
  target.writeUInt32LE(textBytes, offset + 4);
  target.write(headerText, offset + PREFIX_BYTES, headerBytes, 'utf8');
  target.write(text, offset + PREFIX_BYTES + headerBytes, textBytes, 'utf8');
}

/**
 * The staged documents, in the order they were written, read through one buffer that is reused
 * (grown only for a record larger than it): every document's text is copied out as it is decoded.
 */
export async function* readStagedDocuments(path: string, signal?: AbortSignal): AsyncGenerator<PreparedDocument> {
  const handle = await open(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    let start = 0;
    let end = 0;
    for (;;) {
      signal?.throwIfAborted();
      let needed = 0;
      while (end - start >= PREFIX_BYTES) {
        const headerBytes = buffer.readUInt32LE(start);
        const textBytes = buffer.readUInt32LE(start + 4);
        needed = PREFIX_BYTES + headerBytes + textBytes;
        if (start + needed > end) break;
        yield decode(buffer, start + PREFIX_BYTES, headerBytes, textBytes);
        start += needed;
        needed = 0;
      }
      // What is left of a record goes to the front; a record larger than the buffer grows it.
      buffer.copyWithin(0, start, end);
      end -= start;
      start = 0;
      if (needed > buffer.length) {
        const grown = Buffer.allocUnsafe(needed);
        buffer.copy(grown, 0, 0, end);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, end, buffer.length - end, null);
      if (bytesRead === 0) break;
      end += bytesRead;
    }
    if (end > start) throw new Error(`${path} ends inside a record (${end - start} bytes left)`);
  } finally {
    await handle.close();
  }
}

function decode(source: Buffer, offset: number, headerBytes: number, textBytes: number): PreparedDocument {
  const header = JSON.parse(source.toString('utf8', offset, offset + headerBytes)) as StagedHeader;
  const text = source.toString('utf8', offset + headerBytes, offset + headerBytes + textBytes);
  let at = 0;
  const blocks = header.blocks.map(({ length, ...rest }) => {
    const block = { ...rest, text: text.slice(at, at + length) };
    at += length;
    return block;
  });
  return { ...header, blocks };
}
