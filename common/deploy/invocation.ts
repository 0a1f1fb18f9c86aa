/**
 * Calling a twin, the pure part: the request bodies, reading an answer, and splitting a stream. The
 * contract is OpenAI Chat Completions, which the vLLM and LMI containers (and jobs/serve locally)
 * accept; the legacy TGI shape `{"inputs", "parameters"}` is kept as an adapter for older containers.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface InvokeOptions {
  maxTokens?: number;
  temperature?: number;
  system?: string;
  /** `legacy`: the TGI-era `{"inputs", "parameters"}` body, for containers that take only that. */
  format?: 'chat' | 'legacy';
}

export function messagesFor(prompt: string | ChatMessage[], system?: string): ChatMessage[] {
  const messages = typeof prompt === 'string' ? [{ role: 'user' as const, content: prompt }] : prompt;
  return system ? [{ role: 'system', content: system }, ...messages] : messages;
}

export function requestBody(prompt: string | ChatMessage[], options: InvokeOptions, stream: boolean): Record<string, unknown> {
  const maxTokens = options.maxTokens ?? 256;
  if (options.format === 'legacy') {
    const text = messagesFor(prompt, options.system)
      .map((message) => message.content)
      .join('\n\n');
    return {
      inputs: text,
      parameters: { max_new_tokens: maxTokens, temperature: options.temperature ?? 0.7, return_full_text: false },
      ...(stream ? { stream: true } : {}),
    };
  }
  return {
    messages: messagesFor(prompt, options.system),
    max_tokens: maxTokens,
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    stream,
  };
}

export class MalformedAnswerError extends Error {
  override name = 'MalformedAnswerError';
}

/** The text of a whole answer: OpenAI's `choices[0].message.content`, or the legacy `[{generated_text}]`. */
export function answerText(body: unknown): string {
  const chat = (body as { choices?: Array<{ message?: { content?: unknown }; text?: unknown }> } | null)?.choices?.[0];
  if (chat) {
    const content = chat.message?.content ?? chat.text;
    if (typeof content === 'string') return content;
  }
  const legacy = Array.isArray(body)
    ? (body[0] as { generated_text?: unknown } | undefined)
    : (body as { generated_text?: unknown } | null);
  if (typeof legacy?.generated_text === 'string') return legacy.generated_text;
  throw new MalformedAnswerError(
    `the endpoint answered ${JSON.stringify(body)?.slice(0, 300)}, which is neither a chat completion (choices[0].message.content) nor a legacy [{generated_text}]`,
  );
}

/**
 * Server-sent events as they arrive in pieces. InvokeEndpointWithResponseStream's payload parts do not
 * align with lines (a part may end mid-line, or hold several events), so bytes are buffered and only
 * whole lines are parsed.
 */
export class SseSplitter {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  /** The `data:` payloads completed by this piece. */
  push(piece: Uint8Array | string): string[] {
    this.buffer += typeof piece === 'string' ? piece : this.decoder.decode(piece, { stream: true });
    const lines = this.buffer.split(/\r?\n/);
    this.buffer = lines.pop() ?? '';
    return lines.flatMap((line) => (line.startsWith('data:') ? [line.slice(5).trimStart()] : []));
  }

  /** What is left once the stream ended (a last line without its newline). */
  end(): string[] {
    const rest = this.buffer + this.decoder.decode();
    this.buffer = '';
    return rest.startsWith('data:') ? [rest.slice(5).trimStart()] : [];
  }
}

/** The text a stream event adds: a chat.completion.chunk's delta, or a legacy `{"token": {"text"}}`; null for [DONE] and events without text. */
export function streamDelta(data: string): string | null {
  if (data === '[DONE]' || data.length === 0) return null;
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch (error) {
    throw new MalformedAnswerError(`the endpoint streamed a line that is not JSON: ${data.slice(0, 200)}`, { cause: error });
  }
  const delta = (event as { choices?: Array<{ delta?: { content?: unknown } }> }).choices?.[0]?.delta?.content;
  if (typeof delta === 'string') return delta;
  const token = (event as { token?: { text?: unknown; special?: boolean } }).token;
  if (typeof token?.text === 'string' && !token.special) return token.text;
  return null;
}
