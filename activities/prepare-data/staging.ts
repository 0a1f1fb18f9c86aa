import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Files written on local disk as records arrive, in ~1 MiB writes that respect back-pressure: memory
 * holds one buffer, whatever the size. Each record is encoded into that buffer as it comes (outside the
 * JavaScript heap), rather than kept as a string until the next flush, so the heap does not fill with
 * lines that outlive the young generation.
 */

export interface StagedFile {
  path: string;
  sha256: string;
  bytes: number;
  records: number;
}

const BUFFER_BYTES = 1 << 20;

/** Encoded records into one file through a 1 MiB buffer, optionally hashed (sha256) on the way. */
export class BufferedFileWriter {
  private readonly stream: WriteStream;
  private readonly hash: Hash | undefined;
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  bytes = 0;

  constructor(
    readonly path: string,
    options: { hash: boolean },
  ) {
    this.stream = createWriteStream(path);
    this.hash = options.hash ? createHash('sha256') : undefined;
  }

  /** Appends a record of `size` bytes, which `encode` writes at `offset` of `target`. */
  async put(size: number, encode: (target: Buffer, offset: number) => void): Promise<void> {
    if (this.used + size > this.buffer.length) await this.flush();
    if (size > this.buffer.length) {
      // A record larger than the buffer goes out on its own.
      const record = Buffer.allocUnsafe(size);
      encode(record, 0);
      await this.emit(record);
      return;
    }
    encode(this.buffer, this.used);
    this.used += size;
  }

  /** Flushes and closes; the sha256 of everything written (empty when not hashed). */
  async close(): Promise<string> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
    return this.hash?.digest('hex') ?? '';
  }

  /** Closes without a result (after a failure or a cancellation). */
  destroy(): void {
    this.stream.destroy();
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    // The stream owns the filled buffer until it is written; the next records go into a fresh one.
    const filled = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    this.used = 0;
    await this.emit(filled);
  }

  private async emit(chunk: Buffer): Promise<void> {
    this.hash?.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}

/** A JSONL file, hashed (sha256) on the way. */
export class JsonlSink {
  private readonly file: BufferedFileWriter;
  private records = 0;

  constructor(readonly path: string) {
    this.file = new BufferedFileWriter(path, { hash: true });
  }

  /** Appends one record; resolves at once unless a flush has to wait for the disk. */
  async write(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    this.records += 1;
    await this.file.put(Buffer.byteLength(line), (target, offset) => target.write(line, offset, 'utf8'));
  }

  async close(): Promise<StagedFile> {
    const sha256 = await this.file.close();
    return { path: this.path, sha256, bytes: this.file.bytes, records: this.records };
  }

  destroy(): void {
    this.file.destroy();
  }
}
