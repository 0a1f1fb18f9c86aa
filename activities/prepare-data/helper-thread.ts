import { parentPort, workerData } from 'node:worker_threads';
import type { PrepareDataSettings } from '../../common/prepare-data/contract';
import { TokenCounter } from '../../common/prepare-data/text/tokens';
import { buildBatch, prepareBatch, type BuiltBatch, type PreparedBatch } from './batches';
import type { BuildPlan } from './document-build';
import { cleanOptionsOf } from './documents';
import type { HelperReply, HelperRequest } from './helper-threads';

// One helper thread (helper-threads.ts): the same pure functions the main thread runs, on its own core.

const { settings } = workerData as { settings: PrepareDataSettings };
const clean = cleanOptionsOf(settings);
const tokens = new TokenCounter();
let plan: BuildPlan = { settings, boilerplate: new Set() };
let templated = true;

parentPort!.on('message', (request: HelperRequest) => {
  if (request.type === 'plan') {
    plan = { settings, boilerplate: new Set(request.boilerplate) };
    templated = request.templated;
    return;
  }
  let reply: HelperReply;
  // The batch's bytes move to the main thread rather than being copied.
  let transfer: ArrayBuffer[] = [];
  try {
    if (request.type === 'prepare') {
      const prepared: PreparedBatch = prepareBatch(request.documents, settings, clean);
      transfer = [prepared.staged.buffer as ArrayBuffer];
      reply = { id: request.id, prepared };
    } else {
      const built: BuiltBatch = buildBatch(request.batch, plan, tokens, templated);
      if (built.lines) transfer = [built.lines.train.bytes.buffer as ArrayBuffer, built.lines.test.bytes.buffer as ArrayBuffer];
      reply = { id: request.id, built };
    }
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  parentPort!.postMessage(reply, transfer);
});
