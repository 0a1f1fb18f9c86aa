import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PrepareDataSettings } from '../../common/prepare-data/contract';
import type { BuildBatch, BuiltBatch, PreparedBatch } from './batches';
import type { SourceDocument } from './sections';

/**
 * Helper threads for the CPU-bound half of prepare-data: parsing, cleaning, MinHash and staging in the
 * first pass, decoding, chunking, instructions, measuring and JSONL in the second (batches.ts). The
 * main thread keeps the reading, the corpus decisions and the writing, and does a share of the same
 * work itself whenever the helpers are busy, so two cores are used without either waiting. Results
 * come back in the order the work was handed out, and each piece of work is a pure function of its
 * input: a run with helpers writes byte for byte what a run without them writes.
 */

export type HelperRequest =
  | { type: 'prepare'; id: number; documents: SourceDocument[] }
  | { type: 'plan'; boilerplate: number[]; templated: boolean }
  | { type: 'build'; id: number; batch: BuildBatch };

export type HelperReply = { id: number; prepared: PreparedBatch } | { id: number; built: BuiltBatch } | { id: number; error: string };

/**
 * A helper holds one batch of documents at a time, so its heap stays small; without a limit V8 lets an
 * isolate's old generation grow far past what is live before it collects (each one counts in the
 * data worker's RSS).
 */
const HELPER_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 };

interface Waiting {
  resolve(reply: HelperReply): void;
  reject(error: Error): void;
}

export class HelperThreads {
  private readonly waiting = new Map<number, Waiting>();
  private readonly load: number[];
  private nextId = 0;
  private failed: Error | undefined;
  /** Set when the run is over (finished or failed): a failed answer is then not worth redoing. */
  closing = false;

  private constructor(private readonly workers: Worker[]) {
    this.load = workers.map(() => 0);
    workers.forEach((worker, index) => {
      worker.on('message', (reply: HelperReply) => {
        this.load[index] = this.load[index]! - 1;
        const waiting = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if ('error' in reply) waiting?.reject(new Error(`prepare-data helper thread: ${reply.error}`));
        else waiting?.resolve(reply);
      });
      // A thread that dies takes every answer it owed with it: fail them all, loudly.
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        // terminate() ends a thread with code 1: that is the close, not a death.
        if (code !== 0 && !this.closing) this.fail(new Error(`prepare-data helper thread exited with code ${code}`));
      });
    });
  }

  static start(count: number, settings: PrepareDataSettings): HelperThreads {
    const entry = join(__dirname, `helper-thread${extname(__filename)}`);
    const workers = Array.from({ length: count }, () =>
      // From TypeScript sources (tests, `npm run worker`), the thread registers tsx first.
      entry.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, {
            eval: true,
            workerData: { settings },
            resourceLimits: HELPER_LIMITS,
          })
        : new Worker(entry, { workerData: { settings }, resourceLimits: HELPER_LIMITS }),
    );
    return new HelperThreads(workers);
  }

  /** Pieces of work handed out and not yet answered. */
  get inFlight(): number {
    return this.waiting.size;
  }

  get size(): number {
    return this.workers.length;
  }

  async prepare(documents: SourceDocument[]): Promise<PreparedBatch> {
    const reply = await this.send((id) => ({ type: 'prepare', id, documents }));
    if (!('prepared' in reply)) throw new Error('prepare-data helper thread: a prepare request got another answer');
    return reply.prepared;
  }

  /** What the second pass needs to know of the corpus plan; sent once, before any build. */
  plan(boilerplate: Iterable<number>, templated: boolean): void {
    for (const worker of this.workers)
      worker.postMessage({ type: 'plan', boilerplate: [...boilerplate], templated } satisfies HelperRequest);
  }

  async build(batch: BuildBatch): Promise<BuiltBatch> {
    const reply = await this.send((id) => ({ type: 'build', id, batch }));
    if (!('built' in reply)) throw new Error('prepare-data helper thread: a build request got another answer');
    return reply.built;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private send(request: (id: number) => HelperRequest): Promise<HelperReply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    // The least loaded thread takes it.
    let target = 0;
    for (let index = 1; index < this.workers.length; index += 1) if (this.load[index]! < this.load[target]!) target = index;
    this.load[target] = this.load[target]! + 1;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.workers[target]!.postMessage(request(id));
    });
  }

  /** Why the helpers stopped answering (a thread died, or an answer failed): the work is then done on the main thread. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Stops using the helpers: every answer still owed fails, and so does every later request. */
  fail(error: Error): void {
    this.failed ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
