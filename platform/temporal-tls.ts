import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { LlmtwinConfig } from '../common/config';
import { SettingError } from './setting-error';

/**
 * The TLS half of the connection options the client and the workers share: off, on (Temporal Cloud
 * with an API key, any server with a public certificate), or mTLS with a client certificate and key,
 * and a private CA and server name for a self-hosted cluster. The files are read here, at connect
 * time, so a path that does not hold a PEM file is an error naming the setting, not a handshake failure.
 */
export function temporalTls(temporal: LlmtwinConfig['temporal']): TLSConfig | boolean {
  const { tlsCert, tlsKey, tlsCa, tlsServerName } = temporal;
  if (tlsCert === undefined && tlsCa === undefined && tlsServerName === undefined) return temporal.tls || Boolean(temporal.apiKey);
  return {
    ...(tlsCert !== undefined && tlsKey !== undefined
      ? {
          clientCertPair: {
            crt: readPem(tlsCert, 'temporal.tlsCert (TEMPORAL_TLS_CERT)', 'CERTIFICATE'),
            key: readPem(tlsKey, 'temporal.tlsKey (TEMPORAL_TLS_KEY)', 'PRIVATE KEY'),
          },
        }
      : {}),
    ...(tlsCa !== undefined ? { serverRootCACertificate: readPem(tlsCa, 'temporal.tlsCa (TEMPORAL_TLS_CA)', 'CERTIFICATE') } : {}),
    ...(tlsServerName !== undefined ? { serverNameOverride: tlsServerName } : {}),
  };
}

/** A PEM file's bytes; `label` is what its BEGIN line must name ("PRIVATE KEY" matches RSA and EC keys too). */
function readPem(path: string, setting: string, label: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SettingError(`${setting} is ${path}, which cannot be read (${code}): point it at the PEM file`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(bytes.toString('latin1'))) {
    throw new SettingError(`${setting} is ${path}, which holds no PEM "${label}" block: point it at the PEM file`);
  }
  return bytes;
}
