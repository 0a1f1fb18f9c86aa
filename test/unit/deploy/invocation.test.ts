import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { invokeTwin, MalformedAnswerError } from '../../../client/invoke';
import { answerText, requestBody, SseSplitter, streamDelta } from '../../../common/deploy/invocation';

// What moto cannot do: InvokeEndpointWithResponseStream, and answers in each container's shape.
const runtime = mockClient(SageMakerRuntimeClient);
beforeEach(() => runtime.reset());
const twin = { kind: 'sagemaker' as const, endpointName: 'ep', runtime: new SageMakerRuntimeClient({ region: 'us-east-1' }) };

const chunk = (content: string) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;

describe('calling a twin', () => {
  it('sends an OpenAI chat body, or the legacy TGI one when asked', () => {
    expect(requestBody('Hi', { maxTokens: 16, temperature: 0, system: 'Be brief.' }, false)).toEqual({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 16,
      temperature: 0,
      stream: false,
    });
    expect(requestBody('Hi', { maxTokens: 16, format: 'legacy' }, false)).toEqual({
      inputs: 'Hi',
      parameters: { max_new_tokens: 16, temperature: 0.7, return_full_text: false },
    });
  });

  it('reads chat and legacy answers, and names a malformed one', () => {
    expect(answerText({ choices: [{ message: { content: 'yes' } }] })).toBe('yes');
    expect(answerText([{ generated_text: 'legacy' }])).toBe('legacy');
    expect(() => answerText({ error: 'boom' })).toThrow(MalformedAnswerError);
  });

  it('splits a stream whose parts cut lines anywhere, and skips [DONE] and role-only chunks', () => {
    const whole = `data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n${chunk('Salt ')}${chunk('and solder')}data: [DONE]\n\n`;
    const splitter = new SseSplitter();
    const events: string[] = [];
    for (let at = 0; at < whole.length; at += 7) events.push(...splitter.push(new TextEncoder().encode(whole.slice(at, at + 7))));
    events.push(...splitter.end());
    expect(events.map(streamDelta).filter((delta) => delta !== null)).toEqual(['Salt ', 'and solder']);
    expect(streamDelta('{"token":{"text":"tgi","special":false}}')).toBe('tgi');
  });

  it('InvokeEndpoint: the exact request, the text of the answer', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .resolves({ Body: new TextEncoder().encode(JSON.stringify({ choices: [{ message: { content: 'Tides.' } }] })) as never });
    const answer = await invokeTwin(twin, 'What do you write about?', { maxTokens: 8 });

    expect(answer).toMatchObject({ text: 'Tides.', streamed: false });
    const [call] = runtime.commandCalls(InvokeEndpointCommand);
    expect(call?.args[0].input).toEqual({
      EndpointName: 'ep',
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: JSON.stringify({ messages: [{ role: 'user', content: 'What do you write about?' }], max_tokens: 8, stream: false }),
    });
  });

  it('InvokeEndpointWithResponseStream: tokens as they arrive, from payload parts that do not align with lines', async () => {
    const whole = `${chunk('Harbour ')}${chunk('light')}data: [DONE]\n\n`;
    const bytes = new TextEncoder().encode(whole);
    async function* parts() {
      for (let at = 0; at < bytes.length; at += 11) yield { PayloadPart: { Bytes: bytes.slice(at, at + 11) } };
    }
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: parts() as never });
    const tokens: string[] = [];
    const answer = await invokeTwin(twin, 'Hi', { onToken: (text) => tokens.push(text) });

    expect(tokens).toEqual(['Harbour ', 'light']);
    expect(answer).toMatchObject({ text: 'Harbour light', streamed: true });
    expect(JSON.parse(runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)[0]?.args[0].input.Body as string)).toMatchObject({
      stream: true,
    });
  });

  it('a stream that breaks off is an error naming the endpoint', async () => {
    async function* parts() {
      yield { PayloadPart: { Bytes: new TextEncoder().encode(chunk('Half')) } };
      yield { ModelStreamError: { name: 'ModelStreamError', message: 'CUDA out of memory', $fault: 'client' } };
    }
    runtime.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: parts() as never });
    await expect(invokeTwin(twin, 'Hi', { onToken: () => undefined })).rejects.toThrow(
      /endpoint ep broke off its stream: CUDA out of memory/,
    );
  });
});
