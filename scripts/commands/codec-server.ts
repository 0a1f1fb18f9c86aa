import { InvalidArgumentError, type Command } from 'commander';
import { startCodecServer } from '../../platform/codec-server';
import { payloadCodecFor } from '../../platform/payload-codec';
import { SettingError } from '../../platform/setting-error';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { notice, printJson } from '../cli-output';

interface CodecServerOptions {
  host: string;
  port: number;
  origin?: string[];
  json?: boolean;
}

const DEFAULT_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

/**
 * `llmtwin codec-server`: decodes encrypted payloads for the Temporal Web UI (and the temporal CLI's
 * --codec-endpoint), with the keys of this config's temporal.encryption, until Ctrl-C.
 */
export function registerCodecServer(command: Command, context: CliContext): void {
  command
    .option('--host <address>', 'the address to listen on (it holds the key: keep it on loopback or behind your auth)', '127.0.0.1')
    .option('--port <n>', 'the port to listen on', parsePort, 8888)
    .option('--origin <url>', `a Web UI origin allowed to call it; repeatable (default: ${DEFAULT_ORIGINS.join(', ')})`, collectOrigin)
    .option('--json', 'print {url} as JSON once listening')
    .addHelpText(
      'after',
      '\nThen point the UI at it: temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8888\n' +
        '(or the UI\'s "Data Encoder" setting), or read a history: temporal workflow show -w <id> --codec-endpoint http://127.0.0.1:8888',
    )
    .action(async (options: CodecServerOptions) => {
      const codec = codecOf(context);
      if (!codec)
        throw new UsageError('payload encryption is off: set temporal.encryption.keyId (or LLMTWIN_PAYLOAD_KEY_ID) and its key variable');
      const origins = options.origin ?? DEFAULT_ORIGINS;
      const server = await startCodecServer({ codec, host: options.host, port: options.port, allowedOrigins: origins }).catch(
        (error: unknown) => {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EADDRINUSE')
            throw new UsageError(`${options.host}:${options.port} is in use: pass another --port (0 picks a free one)`);
          if (code === 'EADDRNOTAVAIL') throw new UsageError(`--host ${options.host} is not an address of this machine`);
          throw error;
        },
      );
      if (options.json) printJson({ url: server.url, allowedOrigins: origins });
      else notice(`codec server on ${server.url} for ${origins.join(', ')}; Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}

function codecOf(context: CliContext) {
  try {
    return payloadCodecFor(context.config);
  } catch (error) {
    if (error instanceof SettingError) throw new UsageError(error.message);
    throw error;
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return port;
}

function collectOrigin(value: string, previous: string[] = []): string[] {
  let origin: string;
  try {
    origin = new URL(value).origin;
  } catch {
    throw new InvalidArgumentError(`${value} is not a URL such as http://localhost:8233`);
  }
  if (origin === 'null')
    throw new InvalidArgumentError(`${value} has no origin: give scheme, host and port, such as http://localhost:8233`);
  return [...previous, origin];
}
