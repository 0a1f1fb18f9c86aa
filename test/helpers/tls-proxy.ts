import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer } from 'node:tls';

/**
 * mTLS in front of a plain Temporal server, for tests: the dev server speaks no TLS, so a TLS
 * terminator that demands a client certificate signed by its CA stands before it and pipes the
 * decrypted bytes through (gRPC over HTTP/2 with ALPN "h2", as Temporal Cloud's front end does).
 */

export interface TestCertificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by another CA, which the proxy must refuse. */
  strangerCert: string;
  strangerKey: string;
}

/** A CA, a server certificate for `localhost` and client certificates (openssl), as PEM files under `dir`. */
export function makeCertificates(dir: string): TestCertificates {
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const authority = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.pem`),
    );
  const signed = (name: string, ca: string, extensions: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`));
    writeFileSync(at(`${name}.ext`), extensions);
    openssl(
      ...['x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${ca}.pem`), '-CAkey', at(`${ca}.key`), '-CAcreateserial'],
      ...['-days', '2', '-sha256', '-extfile', at(`${name}.ext`), '-out', at(`${name}.pem`)],
    );
  };
  authority('test-ca');
  authority('stranger-ca');
  signed('server', 'test-ca', 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'test-ca', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  signed('stranger', 'stranger-ca', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return {
    ca: at('test-ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    strangerCert: at('stranger.pem'),
    strangerKey: at('stranger.key'),
  };
}

export interface TlsProxy {
  address: string;
  /** Connections whose client certificate the proxy accepted, and those it refused. */
  accepted: () => number;
  refused: () => number;
  close: () => Promise<void>;
}

export async function startMtlsProxy(target: string, certificates: TestCertificates): Promise<TlsProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let accepted = 0;
  let refused = 0;
  const open = new Set<{ destroy: () => void }>();
  const server = createServer(
    {
      key: readFileSync(certificates.serverKey),
      cert: readFileSync(certificates.serverCert),
      ca: readFileSync(certificates.ca),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      accepted += 1;
      const upstream = connect(port, host);
      open.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      const end = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', end);
      upstream.on('error', end);
      socket.on('close', end);
      upstream.on('close', end);
    },
  );
  server.on('tlsClientError', () => {
    refused += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    refused: () => refused,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
