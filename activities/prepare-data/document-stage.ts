import { open } from 'node:fs/promises';
import { BufferedFileWriter, type ByteSink } from './staging';
import type { Block } from '../../common/prepare-data/text/blocks';
import type { PreparedDocument } from './documents';

/**
 * The first pass's documents, waiting on local disk for the second. Each is written as a small JSON
 * header (everything but the blocks' text) and the blocks' text, raw, one after the other: the text is
 * most of the bytes, and raw it costs no escaping on the way out and no unescaping on the way back
 * (as JSON it was about a tenth of the whole stage's time). Nothing is hashed: the file never leaves
 * the machine. Memory holds two 1 MiB buffers to write and one to read, reused. Documents are staged
 * into a batch's bytes where they are prepared (stageDocument, on a helper thread or here), and those
 * bytes appended in reading order; the second pass hands the records on undecoded (readStagedRecords).
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

  /** Appends records staged elsewhere (stageDocument on a helper thread), as they came. */
  async append(records: Uint8Array): Promise<void> {
    await this.file.append(records);
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  destroy(): void {
    this.file.destroy();
  }
}

/** A document as one staged record: its size, and how to write it at an offset of a buffer. */
function stagedRecord(document: PreparedDocument): { size: number; encode: (target: Buffer, offset: number) => void } {
  const header: StagedHeader = { ...document, blocks: document.blocks.map(({ text, ...rest }) => ({ ...rest, length: text.length })) };
  const headerText = JSON.stringify(header);
  const text = document.blocks.map((block) => block.text).join('');
  const headerBytes = Buffer.byteLength(headerText);
  const textBytes = Buffer.byteLength(text);
  return {
    size: PREFIX_BYTES + headerBytes + textBytes,
    encode(target, offset) {
      target.writeUInt32LE(headerBytes, offset);
      target.writeUInt32LE(textBytes, offset + 4);
      target.write(headerText, offset + PREFIX_BYTES, headerBytes, 'utf8');
      target.write(text, offset + PREFIX_BYTES + headerBytes, textBytes, 'utf8');
    },
  };
}

/** Stages a document into a batch's bytes (a helper thread's share of the first pass). */
export function stageDocument(document: PreparedDocument, sink: ByteSink): void {
  const { size, encode } = stagedRecord(document);
  sink.put(size, encode);
}

/** The documents of consecutive staged records (a batch of the second pass), in order. */
export function decodeStagedRecords(records: Uint8Array): PreparedDocument[] {
  const source = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  const documents: PreparedDocument[] = [];
  for (let offset = 0; offset < source.length;) {
    const headerBytes = source.readUInt32LE(offset);
    const textBytes = source.readUInt32LE(offset + 4);
    documents.push(decode(source, offset + PREFIX_BYTES, headerBytes, textBytes));
    offset += PREFIX_BYTES + headerBytes + textBytes;
  }
  return documents;
}

/**
 * The staged documents, in the order they were written, read through one buffer that is reused
 * (grown only for a record larger than it): every document's text is copied out as it is decoded.
 */
export async function* readStagedDocuments(path: string, signal?: AbortSignal): AsyncGenerator<PreparedDocument> {
  for await (const record of readStagedRecords(path, signal))
    yield decode(record, PREFIX_BYTES, record.readUInt32LE(0), record.readUInt32LE(4));
}

/**
 * The staged records as they are on disk, undecoded (the second pass hands them to a helper thread
 * as bytes). Each is a view of a buffer that is reused: valid until the next one is asked for.
 */
export async function* readStagedRecords(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
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
        yield buffer.subarray(start, start + needed);
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
