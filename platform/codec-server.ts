import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { issuesOf } from '../common/shared/validation';

/**
 * A codec server (Temporal's protocol: POST /encode and /decode with `{payloads: [...]}` in proto JSON,
 * bytes as base64): the Temporal Web UI and `temporal workflow show --codec-endpoint` send it the
 * encrypted payloads they display, and show what it answers. It holds the key, so it binds to loopback
 * by default and answers browsers only from the origins it is given (the UI's).
 */

const MAX_BODY_BYTES = 16 * 1024 * 1024;

const Base64Schema = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const PayloadsBodySchema = z.strictObject({
  payloads: z.array(
    z.strictObject({
      metadata: z.record(z.string(), Base64Schema).optional(),
      data: Base64Schema.optional(),
      externalPayloads: z.array(z.record(z.string(), z.unknown())).optional(),
    }),
  ),
});

export interface CodecServerOptions {
  codec: PayloadCodec;
  host?: string;
  port?: number;
  /** Browser origins allowed to call it (the Web UI's, such as http://localhost:8233). */
  allowedOrigins: readonly string[];
}

export interface RunningCodecServer {
  url: string;
  close: () => Promise<void>;
}

export async function startCodecServer({
  codec,
  host = '127.0.0.1',
  port = 8888,
  allowedOrigins,
}: CodecServerOptions): Promise<RunningCodecServer> {
  const server = createServer((request, response) => {
    void answer(codec, allowedOrigins, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

async function answer(codec: PayloadCodec, allowedOrigins: readonly string[], request: IncomingMessage, response: ServerResponse) {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    if (!allowedOrigins.includes(origin))
      return reply(response, 403, { error: `origin ${origin} is not allowed: start the codec server with --origin ${origin}` });
    response.setHeader('Access-Control-Allow-Origin', origin);
    response.setHeader('Access-Control-Allow-Credentials', 'true');
    response.setHeader('Vary', 'Origin');
  }
  if (request.method === 'OPTIONS') {
    response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    response.setHeader('Access-Control-Max-Age', '600');
    return reply(response, 204);
  }
  const operation = new URL(request.url ?? '/', 'http://codec').pathname.replace(/\/+$/, '');
  if (operation !== '/encode' && operation !== '/decode') return reply(response, 404, { error: 'POST /encode or /decode' });
  if (request.method !== 'POST') return reply(response, 405, { error: `${operation} takes POST` });
  try {
    const body = PayloadsBodySchema.safeParse(JSON.parse(await readBody(request)));
    if (!body.success) {
      const issues = issuesOf(body.error, PayloadsBodySchema).map((issue) => `${issue.field}: ${issue.message}`);
      return reply(response, 400, { error: issues.join('; ') });
    }
    const payloads = body.data.payloads.map((payload) => temporal.api.common.v1.Payload.fromObject(payload) as Payload);
    const done = operation === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    return reply(response, 200, { payloads: done.map(toJson) });
  } catch (error) {
    return reply(response, error instanceof SyntaxError || error instanceof BodyTooLargeError ? 400 : 422, {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

function toJson(payload: Payload): Record<string, unknown> {
  return temporal.api.common.v1.Payload.toObject(temporal.api.common.v1.Payload.fromObject(payload), { bytes: String });
}

class BodyTooLargeError extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`the body is over ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
