import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * A JSONL file written on local disk as records arrive, hashed (sha256) on the way, in ~1 MiB writes
 * that respect back-pressure: memory holds one buffer, whatever the dataset size.
 */

export interface StagedFile {
  path: string;
  sha256: string;
  bytes: number;
  records: number;
}

const FLUSH_CHARS = 1 << 20;

export class JsonlSink {
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  private buffer: string[] = [];
  private bufferedChars = 0;
  private bytes = 0;
  private records = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
  }

  /** Appends one record; resolves at once unless a flush has to wait for the disk. */
  async write(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    this.buffer.push(line);
    this.bufferedChars += line.length;
    this.records += 1;
    if (this.bufferedChars >= FLUSH_CHARS) await this.flush();
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
    if (this.buffer.length === 0) return;
    const chunk = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.bufferedChars = 0;
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}
