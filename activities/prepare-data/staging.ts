import { createHash, type Hash } from 'node:crypto';
import { open, truncate, type FileHandle } from 'node:fs/promises';

/**
 * Files written on local disk as records arrive, in ~1 MiB writes, one at a time: memory holds two
 * buffers, whatever the size. Each record is encoded into that buffer as it comes (outside the
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

/**
 * Encoded records into one file through two 1 MiB buffers used in turn, optionally hashed (sha256) on
 * the way: one fills while the other is being written, and neither is ever reallocated (a fresh buffer
 * per write left hundreds of dead megabytes for the collector to find, counted in the process's RSS).
 */
export class BufferedFileWriter {
  private readonly handle: Promise<FileHandle>;
  private readonly hash: Hash | undefined;
  private buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private spare = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  /** The write under way, if any; its failure is kept and thrown at the next write or at close. */
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  bytes = 0;

  /**
   * `appendAfter`: keep the file's first that many bytes (cut there; a build resuming from its
   * checkpoint) and write after them; otherwise the file starts empty.
   */
  constructor(
    readonly path: string,
    options: { hash: boolean; appendAfter?: number },
  ) {
    const { appendAfter } = options;
    // A hash of the appended part alone would name no file: hashed files are always written whole.
    if (appendAfter !== undefined && options.hash) throw new Error('BufferedFileWriter: appendAfter is for files that are not hashed');
    this.handle = appendAfter === undefined ? open(path, 'w') : truncate(path, appendAfter).then(() => open(path, 'a'));
    this.bytes = appendAfter ?? 0;
    // Awaited at the first write; a failure to open must not count as unhandled before then.
    this.handle.catch(() => undefined);
    this.hash = options.hash ? createHash('sha256') : undefined;
  }

  /** Appends a record of `size` bytes, which `encode` writes at `offset` of `target`. */
  async put(size: number, encode: (target: Buffer, offset: number) => void): Promise<void> {
    if (this.used + size > this.buffer.length) await this.flush();
    if (size > this.buffer.length) {
      // A record larger than the buffer goes out on its own.
      const record = Buffer.allocUnsafe(size);
      encode(record, 0);
      await this.settle();
      this.emit(record);
      await this.settle();
      return;
    }
    encode(this.buffer, this.used);
    this.used += size;
  }

  /** Appends bytes encoded elsewhere (a helper thread's batch). */
  async append(bytes: Uint8Array): Promise<void> {
    await this.put(bytes.length, (target, offset) => target.set(bytes, offset));
  }

  /** Writes out everything put so far; answers the file's length, all of it on disk (in the OS's hands). */
  async flushed(): Promise<number> {
    await this.flush();
    await this.settle();
    return this.bytes;
  }

  /** Flushes and closes; the sha256 of everything written (empty when not hashed). */
  async close(): Promise<string> {
    await this.flush();
    await this.settle();
    await (await this.handle).close();
    return this.hash?.digest('hex') ?? '';
  }

  /** Closes without a result (after a failure or a cancellation). */
  destroy(): void {
    void this.writing
      .then(() => this.handle)
      .then(
        (handle) => handle.close(),
        () => undefined,
      );
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    // The other buffer's write must be done before it is filled again.
    await this.settle();
    const filled = this.buffer.subarray(0, this.used);
    [this.buffer, this.spare] = [this.spare, this.buffer];
    this.used = 0;
    this.emit(filled);
  }

  private emit(chunk: Buffer): void {
    this.hash?.update(chunk);
    this.bytes += chunk.length;
    this.writing = this.handle
      .then((handle) => writeAll(handle, chunk))
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      });
  }

  private async settle(): Promise<void> {
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
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
    const line = jsonLine(record);
    this.records += 1;
    await this.file.put(Buffer.byteLength(line), (target, offset) => target.write(line, offset, 'utf8'));
  }

  /** Appends `records` lines encoded elsewhere (each `write` would have encoded them the same). */
  async appendLines(bytes: Uint8Array, records: number): Promise<void> {
    this.records += records;
    await this.file.append(bytes);
  }

  async close(): Promise<StagedFile> {
    const sha256 = await this.file.close();
    return { path: this.path, sha256, bytes: this.file.bytes, records: this.records };
  }

  destroy(): void {
    this.file.destroy();
  }
}

/** One JSONL line: what JsonlSink writes for a record, wherever it is encoded. */
export function jsonLine(record: object): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * Bytes gathered in memory, for a batch encoded on a helper thread and handed back whole: one buffer
 * that doubles when full, and a copy of what it holds at the end (its own memory, so it can be transferred).
 */
export class ByteSink {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private used = 0;

  put(size: number, encode: (target: Buffer, offset: number) => void): void {
    if (this.used + size > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + size));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    encode(this.buffer, this.used);
    this.used += size;
  }

  putText(text: string): void {
    const size = Buffer.byteLength(text);
    this.put(size, (target, offset) => target.write(text, offset, size, 'utf8'));
  }

  /** What was put, in a fresh ArrayBuffer of its own; the sink starts over. */
  take(): Uint8Array {
    const bytes = new Uint8Array(this.used);
    bytes.set(this.buffer.subarray(0, this.used));
    this.used = 0;
    return bytes;
  }
}
