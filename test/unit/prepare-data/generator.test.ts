import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { chatGeneratorInstructor, type ChatGeneratorOptions } from '../../../activities/prepare-data/generator';
import type { PreparedRecord } from '../../../activities/prepare-data/document-build';
import { templateInstruction } from '../../../common/prepare-data/text/instruct';

/**
 * A tiny OpenAI-compatible chat completions server on a real local port: the generator is exercised
 * over real HTTP, including status codes, headers and concurrency.
 */
interface Recorded {
  body: { model: string; temperature: number; messages: Array<{ role: string; content: string }> };
  authorization?: string;
}

type Responder = (request: Recorded, attempt: number) => { status: number; body?: unknown; headers?: Record<string, string> };

let server: Server;
let baseUrl: string;
let responder: Responder;
let received: Recorded[];
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const recorded: Recorded = {
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Recorded['body'],
        authorization: request.headers.authorization,
      };
      received.push(recorded);
      const reply = responder(recorded, received.length);
      // Answer a little later so concurrent requests overlap.
      setTimeout(() => {
        inFlight -= 1;
        response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      }, 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  inFlight = 0;
  maxInFlight = 0;
});

function options(overrides: Partial<ChatGeneratorOptions> = {}): ChatGeneratorOptions {
  return {
    baseUrl,
    model: 'twin-writer',
    apiKey: 'sk-test',
    concurrency: 3,
    maxRetries: 3,
    timeoutMs: 5000,
    temperature: 0.2,
    inputUsdPerMillionTokens: 2,
    outputUsdPerMillionTokens: 8,
    retryBaseMs: 5,
    ...overrides,
  };
}

function records(count: number): PreparedRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    split: 'train',
    record: { id: `c-${index}`, output: `Passage ${index}.`, source: 'a.md', tokens: 3 },
    context: {
      id: `c-${index}`,
      title: 'Harbour light',
      genre: 'blog-post',
      text: `Passage ${index} about the harbour.`,
      prose: `Passage ${index} about the harbour.`,
      chunkIndex: index,
      hasCode: false,
      author: { name: 'Wren' },
    },
  }));
}

const ok = (content: string) => ({
  status: 200,
  body: { choices: [{ message: { role: 'assistant', content } }], usage: { prompt_tokens: 100, completion_tokens: 10 } },
});

describe('chatGeneratorInstructor against a local OpenAI-compatible server', () => {
  it('sends chat completions with the model and key, returns instructions in order, and reports tokens and cost', async () => {
    responder = (request) => ok(`"Write about ${/Passage (\d+)/.exec(request.body.messages[1]!.content)![1]}."`);
    const generator = chatGeneratorInstructor(options());
    const instructions = await generator.instruct(records(10));

    expect(instructions).toEqual(Array.from({ length: 10 }, (_, index) => `Write about ${index}.`));
    expect(received).toHaveLength(10);
    expect(received[0]!.authorization).toBe('Bearer sk-test');
    expect(received[0]!.body).toMatchObject({ model: 'twin-writer', temperature: 0.2 });
    expect(received[0]!.body.messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(received[0]!.body.messages[1]!.content).toContain('Title: Harbour light');
    expect(generator.report()).toEqual({
      model: 'twin-writer',
      baseUrl,
      requests: 10,
      retries: 0,
      fallbacks: 0,
      promptTokens: 1000,
      completionTokens: 100,
      costUsd: 0.0028,
    });
  });

  it('never has more requests in flight than the configured concurrency', async () => {
    responder = () => ok('Write it.');
    await chatGeneratorInstructor(options({ concurrency: 3 })).instruct(records(12));
    expect(maxInFlight).toBe(3);
  });

  it('retries throttling and server errors with backoff, then succeeds', async () => {
    responder = (_request, attempt) =>
      attempt === 1 ? { status: 429, headers: { 'retry-after': '0' } } : attempt === 2 ? { status: 503 } : ok('Write it.');
    const generator = chatGeneratorInstructor(options({ concurrency: 1 }));
    expect(await generator.instruct(records(1))).toEqual(['Write it.']);
    expect(generator.report()).toMatchObject({ requests: 3, retries: 2, fallbacks: 0 });
  });

  it('falls back to a template instruction, and says so, when the endpoint keeps failing', async () => {
    responder = () => ({ status: 500 });
    const generator = chatGeneratorInstructor(options({ maxRetries: 2, concurrency: 1 }));
    const [item] = records(1);
    expect(await generator.instruct([item!])).toEqual([templateInstruction(item!.context)]);
    expect(generator.report()).toMatchObject({ requests: 3, retries: 2, fallbacks: 1 });
  });

  it('fails at once, non-retryably, when the endpoint rejects the key', async () => {
    responder = () => ({ status: 401, body: { error: { message: 'Incorrect API key provided' } } });
    const error = await chatGeneratorInstructor(options())
      .instruct(records(1))
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).type).toBe('ValidationError');
    expect((error as ApplicationFailure).message).toMatch(/HTTP 401.*Incorrect API key.*LLMTWIN_GENERATOR_API_KEY/);
    expect(received).toHaveLength(1);
  });
});
