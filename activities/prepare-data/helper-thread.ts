import { parentPort, workerData } from 'node:worker_threads';
import type { PrepareDataSettings } from '../../common/prepare-data/contract';
import { TokenCounter } from '../../common/prepare-data/text/tokens';
import { documentSignature } from './corpus';
import { buildDocument, type BuildPlan } from './document-build';
import { cleanOptionsOf, prepareDocument } from './documents';
import type { HelperReply, HelperRequest, PreparedItem } from './helper-threads';

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
  try {
    if (request.type === 'prepare') {
      reply = {
        id: request.id,
        prepared: request.documents.map((source): PreparedItem => {
          const document = prepareDocument(source, settings, clean);
          return document ? { document, signature: documentSignature(document, settings) } : {};
        }),
      };
    } else {
      reply = {
        id: request.id,
        built: request.items.map((item) => buildDocument(item.document, new Set(item.foreign), plan, tokens, templated)),
      };
    }
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  parentPort!.postMessage(reply);
});
