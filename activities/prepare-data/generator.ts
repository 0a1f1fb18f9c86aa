import { mapWithConcurrency } from '../../common/shared/concurrency';
import type { GeneratorReport } from '../../common/prepare-data/contract';
import { templateInstruction } from '../../common/prepare-data/text/instruct';
import type { PreparedRecord } from './document-build';
import { validationFailure } from '../../common/shared/validation';

/**
 * Instructions for chunks: from templates (default, no model), or from any OpenAI-compatible chat
 * completions endpoint (OpenAI, vLLM, TGI's Messages API, Ollama, LiteLLM...). The endpoint's key
 * lives in the worker's config only; it never enters workflow input or history.
 */

export interface Instructor {
  instruct(batch: readonly PreparedRecord[], signal?: AbortSignal): Promise<string[]>;
  report(): GeneratorReport | undefined;
  /** Records to hand over at once: enough to keep a generator's lanes busy, no more (they hold chunk text). */
  batchSize: number;
}

export const templateInstructor: Instructor = {
  // Synchronous work: small batches, so records are written while still young garbage to V8.
  batchSize: 16,
  instruct(batch) {
    return Promise.resolve(batch.map((item) => templateInstruction(item.context)));
  },
  report: () => undefined,
};

export interface ChatGeneratorOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  concurrency: number;
  maxRetries: number;
  timeoutMs: number;
  temperature: number;
  inputUsdPerMillionTokens: number;
  outputUsdPerMillionTokens: number;
  /** First backoff; doubles per retry (tests make it small). */
  retryBaseMs?: number;
}

/** Bumped when the prompt changes: part of the dataset hash in generator mode. */
export const GENERATOR_PROMPT_VERSION = 'instruct-prompt/1';

const SYSTEM_PROMPT =
  'You turn passages from a writer into training prompts. Given a passage, reply with the one instruction a reader could give ' +
  'that the passage answers, written to the writer in the second person ("Write...", "Explain...", "Tell me..."). One sentence, no quotes, nothing else.';

export function chatGeneratorInstructor(options: ChatGeneratorOptions): Instructor {
  const report: GeneratorReport = {
    model: options.model,
    baseUrl: options.baseUrl,
    requests: 0,
    retries: 0,
    fallbacks: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
  };
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;

  async function generate(item: PreparedRecord, signal?: AbortSignal): Promise<string> {
    const who = item.context.author.name ?? item.context.author.handle;
    const user = `${who ? `Writer: ${who}\n` : ''}${item.context.title ? `Title: ${item.context.title}\n` : ''}Passage:\n${item.context.text}`;
    const body = JSON.stringify({
      model: options.model,
      temperature: options.temperature,
      max_tokens: 120,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: user },
      ],
    });
    for (let attempt = 0; ; attempt += 1) {
      signal?.throwIfAborted();
      report.requests += 1;
      const outcome = await callOnce(url, body, options, signal);
      if (outcome.kind === 'ok') {
        report.promptTokens += outcome.promptTokens;
        report.completionTokens += outcome.completionTokens;
        report.costUsd =
          (report.promptTokens * options.inputUsdPerMillionTokens + report.completionTokens * options.outputUsdPerMillionTokens) /
          1_000_000;
        const instruction = outcome.content
          .trim()
          .replace(/^["“']+|["”']+$/g, '')
          .trim();
        if (instruction) return instruction;
        report.fallbacks += 1;
        return templateInstruction(item.context);
      }
      if (outcome.kind === 'fatal') {
        throw validationFailure(outcome.message);
      }
      if (attempt >= options.maxRetries) {
        // Transient trouble that outlasted every retry: this chunk gets a template instruction, and the report says so.
        report.fallbacks += 1;
        return templateInstruction(item.context);
      }
      report.retries += 1;
      const backoff = (options.retryBaseMs ?? 500) * 2 ** attempt;
      await sleep(Math.min(outcome.retryAfterMs ?? backoff, 30_000), signal);
    }
  }

  return {
    batchSize: Math.max(64, options.concurrency * 8),
    async instruct(batch, signal) {
      return mapWithConcurrency(batch, options.concurrency, (record) => generate(record, signal));
    },
    report: () => ({ ...report, costUsd: Math.round(report.costUsd * 1e6) / 1e6 }),
  };
}

type CallOutcome =
  | { kind: 'ok'; content: string; promptTokens: number; completionTokens: number }
  | { kind: 'retry'; retryAfterMs?: number }
  | { kind: 'fatal'; message: string };

async function callOnce(url: string, body: string, options: ChatGeneratorOptions, signal?: AbortSignal): Promise<CallOutcome> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch {
    if (signal?.aborted) throw signal.reason;
    return { kind: 'retry' }; // network error or timeout
  }
  if (response.status === 429 || response.status >= 500) {
    await response.body?.cancel();
    const retryAfter = Number(response.headers.get('retry-after'));
    return { kind: 'retry', ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
  }
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).slice(0, 300);
    const advice =
      response.status === 401 || response.status === 403
        ? 'check LLMTWIN_GENERATOR_API_KEY'
        : response.status === 404
          ? 'check LLMTWIN_GENERATOR_BASE_URL (it should end with /v1) and LLMTWIN_GENERATOR_MODEL'
          : 'check the generator settings';
    return { kind: 'fatal', message: `instruction generator at ${url} answered HTTP ${response.status}: ${detail}; ${advice}` };
  }
  const payload = (await response.json().catch(() => undefined)) as
    | { choices?: Array<{ message?: { content?: string | null } }>; usage?: { prompt_tokens?: number; completion_tokens?: number } }
    | undefined;
  return {
    kind: 'ok',
    content: payload?.choices?.[0]?.message?.content ?? '',
    promptTokens: payload?.usage?.prompt_tokens ?? 0,
    completionTokens: payload?.usage?.completion_tokens ?? 0,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
