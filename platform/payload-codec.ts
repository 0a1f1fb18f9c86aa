import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { LlmtwinConfig } from '../common/config';
import { SettingError } from './setting-error';

/**
 * Optional end-to-end encryption of every Temporal payload (workflow inputs, results, signals, updates,
 * queries, heartbeat details, memos): the Temporal server, its database and anyone reading history see
 * only ciphertext. AES-256-GCM, a fresh 96-bit IV per payload, the key id bound in as associated data
 * so a payload cannot be passed off as one sealed under another key. The key never enters the config:
 * config names its id and the environment variable that holds it (32 bytes, base64).
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export class PayloadKeyError extends SettingError {
  override name = 'PayloadKeyError';
}

export interface PayloadKey {
  keyId: string;
  key: Buffer;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();

  /** Seals with `current`; opens what `current` or any of `previous` (keys rotated out) sealed. */
  constructor(
    private readonly current: PayloadKey,
    previous: readonly PayloadKey[] = [],
  ) {
    for (const { keyId, key } of [current, ...previous]) {
      if (key.length !== KEY_BYTES)
        throw new PayloadKeyError(`payload key ${keyId} is ${key.length} bytes; AES-256-GCM needs ${KEY_BYTES}`);
      this.keys.set(keyId, key);
    }
  }

  // Synchronous work behind the async interface: a payload that does not open rejects, never throws.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((payload) => this.seal(payload))));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((payload) => this.open(payload))));
  }

  private seal(payload: Payload): Payload {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const keyId = Buffer.from(this.current.keyId, 'utf8');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(keyId);
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: keyId }, data: sealed };
  }

  private open(payload: Payload): Payload {
    // Payloads written before encryption was turned on stay readable.
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
    const key = this.keys.get(keyId);
    if (!key) {
      throw new PayloadKeyError(
        `a payload is encrypted with key "${keyId}", which this process does not hold (it holds ${[...this.keys.keys()].map((id) => `"${id}"`).join(', ')}): ` +
          'list it under temporal.encryption.previousKeys with the variable that holds it',
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadKeyError(`an encrypted payload is ${data.length} bytes: too short to be one`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadKeyError(
        `a payload under key "${keyId}" does not decrypt: the key in the environment is not the one that sealed it, or the payload was altered`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}

/** The codec this config asks for, with its keys read from the environment; undefined when encryption is off. */
export function payloadCodecFor(config: LlmtwinConfig, env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const encryption = config.temporal.encryption;
  if (!encryption) return undefined;
  const previous = encryption.previousKeys.map((entry, index) => readKey(entry, env, `temporal.encryption.previousKeys[${index}]`));
  return new AesGcmPayloadCodec(readKey(encryption, env, 'temporal.encryption'), previous);
}

function readKey(entry: { keyId: string; keyEnv: string }, env: NodeJS.ProcessEnv, field: string): PayloadKey {
  const encoded = env[entry.keyEnv]?.trim();
  const how = `${KEY_BYTES} random bytes in base64: \`openssl rand -base64 ${KEY_BYTES}\``;
  if (!encoded)
    throw new PayloadKeyError(`${field}.keyId is "${entry.keyId}" but ${entry.keyEnv} is not set: put its key (${how}) in ${entry.keyEnv}`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== encoded) {
    throw new PayloadKeyError(`${entry.keyEnv} (the key of ${field}) must be ${how}; it decodes to ${key.length} bytes`);
  }
  return { keyId: entry.keyId, key };
}

/** Failure messages and stack traces as payloads, so the codec seals them too (see the module). */
export const ENCODED_FAILURE_CONVERTER_PATH = require.resolve('./encoded-failure-converter');

/**
 * The data converter for clients and workers of this config: the default one, plus, when encryption is
 * on, the codec and a failure converter that hands failure messages and stack traces to it.
 */
export function dataConverterFor(config: LlmtwinConfig, env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = payloadCodecFor(config, env);
  return codec ? { payloadCodecs: [codec], failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH } : undefined;
}
