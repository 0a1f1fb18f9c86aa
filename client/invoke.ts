import { DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  type SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import {
  answerText,
  MalformedAnswerError,
  requestBody,
  SseSplitter,
  streamDelta,
  type ChatMessage,
  type InvokeOptions,
} from '../common/deploy/invocation';
import { findLocalServer, type LocalServing } from '../platform/local-endpoints';

export type { LocalServing } from '../platform/local-endpoints';

export { MalformedAnswerError, type ChatMessage, type InvokeOptions } from '../common/deploy/invocation';

/**
 * `invokeTwin()`: call a deployed twin from a service, the way the CLI's `invoke` and the deploy
 * stage's smoke test do. On SageMaker it is InvokeEndpoint (or InvokeEndpointWithResponseStream when
 * streaming) with the caller's own SigV4 credentials; a local endpoint (local compute on the embedded
 * stack) is its local server's /invocations, the same contract.
 */

export type TwinTarget =
  | { kind: 'sagemaker'; endpointName: string; runtime: Pick<SageMakerRuntimeClient, 'send'> }
  | { kind: 'local'; endpointName: string; url: string };

export class EndpointUnavailableError extends Error {
  override name = 'EndpointUnavailableError';
  constructor(
    message: string,
    readonly endpointName: string,
    readonly status: string | null,
  ) {
    super(message);
  }
}

/**
 * The endpoint, checked: it must exist and be InService (an Updating endpoint still serves, so it
 * passes too). With `local`, the endpoint is served by a local server, found by its config.
 */
export async function openTwin(
  clients: { sagemaker: Pick<SageMakerClient, 'send'>; runtime: Pick<SageMakerRuntimeClient, 'send'> },
  endpointName: string,
  local?: LocalServing,
): Promise<TwinTarget> {
  let described;
  try {
    described = await clients.sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  } catch (error) {
    if ((error as Error).name === 'ValidationException' && /could not find/i.test((error as Error).message)) {
      throw new EndpointUnavailableError(
        `endpoint ${endpointName} does not exist (llmtwin endpoints list shows the endpoints; deploy one with llmtwin deploy)`,
        endpointName,
        null,
      );
    }
    throw error;
  }
  const status = described.EndpointStatus ?? 'unknown';
  if (status !== 'InService' && status !== 'Updating') {
    throw new EndpointUnavailableError(
      `endpoint ${endpointName} is ${status}, not InService${described.FailureReason ? ` (${described.FailureReason})` : ''}: it cannot answer now`,
      endpointName,
      status,
    );
  }
  if (!local) return { kind: 'sagemaker', endpointName, runtime: clients.runtime };
  const configName = described.EndpointConfigName ?? '';
  const server = findLocalServer(local.jobsDir, local.resourceNamePrefix, configName);
  if (!server) {
    throw new EndpointUnavailableError(
      `endpoint ${endpointName} is a local endpoint whose server (for config ${configName}) is not running; deploy it again (llmtwin deploy), or see llmtwin jobs logs`,
      endpointName,
      status,
    );
  }
  return { kind: 'local', endpointName, url: server.url };
}

export interface InvokeTwinOptions extends InvokeOptions {
  /** Stream the answer: each piece of text goes to onToken as it arrives. */
  onToken?: (text: string) => void;
  abortSignal?: AbortSignal;
}

export interface TwinAnswer {
  text: string;
  latencyMs: number;
  streamed: boolean;
}

export async function invokeTwin(target: TwinTarget, prompt: string | ChatMessage[], options: InvokeTwinOptions = {}): Promise<TwinAnswer> {
  const started = Date.now();
  const stream = options.onToken !== undefined;
  const body = JSON.stringify(requestBody(prompt, options, stream));
  const pieces = stream ? streamPieces(target, body, options.abortSignal) : undefined;
  let text: string;
  if (pieces) {
    const splitter = new SseSplitter();
    const parts: string[] = [];
    const take = (events: string[]) => {
      for (const event of events) {
        const delta = streamDelta(event);
        if (delta === null) continue;
        parts.push(delta);
        options.onToken?.(delta);
      }
    };
    for await (const piece of pieces) take(splitter.push(piece));
    take(splitter.end());
    text = parts.join('');
  } else {
    text = answerText(await wholeAnswer(target, body, options.abortSignal));
  }
  return { text, latencyMs: Date.now() - started, streamed: stream };
}

async function wholeAnswer(target: TwinTarget, body: string, abortSignal?: AbortSignal): Promise<unknown> {
  if (target.kind === 'local') return JSON.parse(await (await postLocal(target, body, abortSignal)).text()) as unknown;
  const answer = await target.runtime.send(
    new InvokeEndpointCommand({
      EndpointName: target.endpointName,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: body,
    }),
    { abortSignal },
  );
  const text = new TextDecoder().decode(answer.Body);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedAnswerError(`endpoint ${target.endpointName} answered something that is not JSON: ${text.slice(0, 300)}`, {
      cause: error,
    });
  }
}

async function* streamPieces(target: TwinTarget, body: string, abortSignal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (target.kind === 'local') {
    const response = await postLocal(target, body, abortSignal);
    if (!response.body) return;
    for await (const piece of response.body) yield piece as Uint8Array;
    return;
  }
  const answer = await target.runtime.send(
    new InvokeEndpointWithResponseStreamCommand({ EndpointName: target.endpointName, ContentType: 'application/json', Body: body }),
    { abortSignal },
  );
  for await (const event of answer.Body ?? []) {
    if (event.PayloadPart?.Bytes) yield event.PayloadPart.Bytes;
    const failure = event.ModelStreamError ?? event.InternalStreamFailure;
    if (failure) throw new MalformedAnswerError(`endpoint ${target.endpointName} broke off its stream: ${failure.message ?? failure.name}`);
  }
}

async function postLocal(target: Extract<TwinTarget, { kind: 'local' }>, body: string, abortSignal?: AbortSignal): Promise<Response> {
  const response = await fetch(new URL('/invocations', target.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(abortSignal ? { signal: abortSignal } : {}),
  });
  if (!response.ok) {
    throw new MalformedAnswerError(
      `local endpoint ${target.endpointName} answered HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`,
    );
  }
  return response;
}
