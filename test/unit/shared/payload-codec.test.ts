import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError, resolveConfig, resolveConfigWithWarnings } from '../../../common/config';
import { startCodecServer } from '../../../platform/codec-server';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, payloadCodecFor, PayloadKeyError } from '../../../platform/payload-codec';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const input = { datasetUri: 's3://bucket/llmtwin/datasets/abc/', twin: 'wren', secretish: 'hf-token-ref' };
const payload = () => defaultPayloadConverter.toPayload(input);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('the AES-GCM payload codec', () => {
  const codec = new AesGcmPayloadCodec({ keyId: 'k-2026-12', key: keyA });

  it('seals a payload so its bytes hold nothing of the value, and opens it back to the same payload', async () => {
    const [sealed] = await codec.encode([payload()]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata!['encryption-key-id'])).toBe('k-2026-12');
    expect(Buffer.from(sealed!.data!).includes(Buffer.from('wren'))).toBe(false);
    expect(Buffer.from(sealed!.data!).includes(Buffer.from('json/plain'))).toBe(false);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(input);
  });

  it('uses a fresh IV each time: the same value seals to different bytes', async () => {
    const [first, second] = await codec.encode([payload(), payload()]);
    expect(Buffer.from(first!.data!).equals(Buffer.from(second!.data!))).toBe(false);
  });

  it('passes payloads written before encryption was on through unchanged', async () => {
    const plain = payload();
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('refuses an altered payload, and one sealed under another key id, naming the key', async () => {
    const [sealed] = await codec.encode([payload()]);
    const altered: Payload = { ...sealed!, data: Buffer.from(sealed!.data!).map((byte, index) => (index === 20 ? byte ^ 1 : byte)) };
    await expect(codec.decode([altered])).rejects.toThrow(/under key "k-2026-12" does not decrypt/);
    // The key id is bound in: relabelling a payload as another key's does not open it with that key.
    const relabelled: Payload = { ...sealed!, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('other') } };
    const other = new AesGcmPayloadCodec({ keyId: 'other', key: keyA });
    await expect(other.decode([relabelled])).rejects.toThrow(PayloadKeyError);
    await expect(new AesGcmPayloadCodec({ keyId: 'k-new', key: keyB }).decode([sealed!])).rejects.toThrow(
      /encrypted with key "k-2026-12", which this process does not hold \(it holds "k-new"\)/,
    );
  });

  it('after a rotation, seals with the new key and still opens what the old one sealed', async () => {
    const [old] = await codec.encode([payload()]);
    const rotated = new AesGcmPayloadCodec({ keyId: 'k-2027-01', key: keyB }, [{ keyId: 'k-2026-12', key: keyA }]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toEqual(input);
    const [fresh] = await rotated.encode([payload()]);
    expect(text(fresh!.metadata!['encryption-key-id'])).toBe('k-2027-01');
    await expect(codec.decode([fresh!])).rejects.toThrow(/k-2027-01/);
  });
});

describe('payload encryption in the config', () => {
  const on = { LLMTWIN_PAYLOAD_KEY_ID: 'k-2026-12' };

  it('is off by default, and reads its key from the variable the config names', () => {
    expect(payloadCodecFor(resolveConfig({}))).toBeUndefined();
    const config = resolveConfig(on);
    expect(config.temporal.encryption).toEqual({ keyId: 'k-2026-12', keyEnv: 'LLMTWIN_PAYLOAD_KEY', previousKeys: [] });
    expect(payloadCodecFor(config, { LLMTWIN_PAYLOAD_KEY: keyA.toString('base64') })).toBeInstanceOf(AesGcmPayloadCodec);
  });

  it('names the variable and how to make a key when the key is missing or not 32 bytes of base64', () => {
    const config = resolveConfig(on);
    expect(() => payloadCodecFor(config, {})).toThrow(/LLMTWIN_PAYLOAD_KEY is not set: .*openssl rand -base64 32/);
    expect(() => payloadCodecFor(config, { LLMTWIN_PAYLOAD_KEY: randomBytes(16).toString('base64') })).toThrow(
      /LLMTWIN_PAYLOAD_KEY \(the key of temporal.encryption\) must be 32 random bytes in base64.*decodes to 16 bytes/,
    );
    expect(() => payloadCodecFor(config, { LLMTWIN_PAYLOAD_KEY: 'not base64 at all!' })).toThrow(/must be 32 random bytes in base64/);
    const rotated = resolveConfig({}, { temporal: { encryption: { keyId: 'new', previousKeys: [{ keyId: 'old', keyEnv: 'OLD_KEY' }] } } });
    expect(() => payloadCodecFor(rotated, { LLMTWIN_PAYLOAD_KEY: keyA.toString('base64') })).toThrow(
      /temporal.encryption.previousKeys\[0\].keyId is "old" but OLD_KEY is not set/,
    );
  });

  it('rejects unknown keys, bad ids and two keys in one variable, naming the field', () => {
    const issues = (file: unknown) => {
      try {
        resolveConfig({}, file);
      } catch (error) {
        if (error instanceof ConfigError) return error.issues.join('\n');
      }
      throw new Error('expected a ConfigError');
    };
    expect(issues({ temporal: { encryption: { keyId: 'k', key: 'abc' } } })).toMatch(
      /temporal\.encryption\.key \(config file\): unknown key; did you mean "keyId"\?/,
    );
    expect(issues({ temporal: { encryption: { keyId: 'has space' } } })).toMatch(/temporal\.encryption\.keyId.*1-64 letters/);
    expect(issues({ temporal: { encryption: { keyId: 'a', previousKeys: [{ keyId: 'b', keyEnv: 'LLMTWIN_PAYLOAD_KEY' }] } } })).toMatch(
      /temporal\.encryption\.previousKeys.*its own keyEnv/,
    );
    expect(issues({ temporal: { encryption: { keyId: 'a', previousKeys: [{ keyId: 'a', keyEnv: 'OLD' }] } } })).toMatch(/its own keyId/);
  });

  it('knows the key variables it names (no "unknown variable" warning), and hints at the id when only a key is set', () => {
    expect(resolveConfigWithWarnings({ ...on, LLMTWIN_PAYLOAD_KEY: 'x' }).warnings).toEqual([]);
    expect(resolveConfigWithWarnings({ LLMTWIN_PAYLOAD_KEY: 'x' }).warnings.join('\n')).toMatch(/did you mean LLMTWIN_PAYLOAD_KEY_ID/);
  });
});

describe('the codec server', () => {
  const codec = new AesGcmPayloadCodec({ keyId: 'k-2026-12', key: keyA });
  const ui = 'http://localhost:8233';
  let server: Awaited<ReturnType<typeof startCodecServer>>;
  beforeAll(async () => (server = await startCodecServer({ codec, port: 0, allowedOrigins: [ui] })));
  afterAll(() => server.close());

  const toJson = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  });
  const post = (path: string, body: unknown, origin = ui) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(body) });

  it('decodes what the UI sends it (proto JSON, bytes in base64) for an allowed origin', async () => {
    const sealed = await codec.encode([payload()]);
    const response = await post('/decode', { payloads: sealed.map(toJson) });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ui);
    const { payloads } = (await response.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual(input);
  });

  it('encodes, so the UI can send a signal with an encrypted payload', async () => {
    const response = await post('/encode', { payloads: [toJson(payload())] });
    const { payloads } = (await response.json()) as { payloads: Array<{ metadata: Record<string, string> }> };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
  });

  it('answers a preflight, and refuses an origin it was not given, an unknown key and a wrong key', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: ui, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    const foreign = await post('/decode', { payloads: [] }, 'https://evil.example');
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const unknownKey = await post('/decode', { payloads: [], extra: true });
    expect(unknownKey.status).toBe(400);
    expect(((await unknownKey.json()) as { error: string }).error).toMatch(/extra: unknown key \(valid in the input: payloads\)/);
    const otherKey = await new AesGcmPayloadCodec({ keyId: 'other', key: keyB }).encode([payload()]);
    const refused = await post('/decode', { payloads: otherKey.map(toJson) });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: string }).error).toMatch(/key "other"/);
  });
});
