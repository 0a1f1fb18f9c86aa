import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * A JSONL file written on local disk as records arrive, hashed (sha256) on the way, in ~1 MiB writes
 * that respect back-pressure: memory holds one buffer, whatever the dataset size. Each line is encoded
 * into that buffer as it comes (outside the JavaScript heap), rather than kept as a string until the
 * next flush, so the heap does not fill with lines that outlive the young generation.
 */

export interface StagedFile {
  path: string;
  sha256: string;
  bytes: number;
  records: number;
}

const BUFFER_BYTES = 1 << 20;

export class JsonlSink {
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private bytes = 0;
  private records = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
  }

  /** Appends one record; resolves at once unless a flush has to wait for the disk. */
  async write(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    this.records += 1;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: check cheaply before measuring exactly.
    if (this.used + line.length * 3 > this.buffer.length && this.used + Buffer.byteLength(line) > this.buffer.length) {
      await this.flush();
      if (Buffer.byteLength(line) > this.buffer.length) {
        // A record larger than the buffer goes out on its own.
        await this.emit(Buffer.from(line, 'utf8'));
        return;
      }
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
  }

  async close(): Promise<StagedFile> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
    return { path: this.path, sha256: this.hash.digest('hex'), bytes: this.bytes, records: this.records };
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
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}
