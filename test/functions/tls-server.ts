/**
 * A stand-in for a PostgreSQL server with TLS on, for the TLS tests: it answers the client's
 * SSLRequest with `S`, completes the TLS handshake with its certificate, and answers the startup
 * message that follows with an error. A client that gets that error got past the handshake.
 * Nothing else of the protocol is spoken: no PostgreSQL is needed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

/** The message of the error a client gets once the handshake succeeded. */
export const PAST_HANDSHAKE = 'tls test server: startup message received over TLS';

/** SSLRequest: length 8, then the code 1234 5679 (PostgreSQL protocol, "SSL Session Encryption"). */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export interface Certificate {
  readonly key: string;
  /** PEM; self-signed, so it is also the CA a client must trust. */
  readonly cert: string;
}

/** A self-signed certificate for `host` (its subject alternative name), made with openssl. */
export async function selfSignedCertificate(host: string): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), 'fifo-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=DNS:${host}`,
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An ErrorResponse message: severity FATAL, SQLSTATE 08004 (server rejected the connection). */
function errorResponse(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C08004\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

export interface TlsServer {
  readonly port: number;
  /** How many TLS handshakes completed (the server's side). */
  readonly handshakes: () => number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, on a free port, presenting `certificate`. */
export async function startTlsServer(certificate: Certificate): Promise<TlsServer> {
  const sockets = new Set<Socket>();
  let handshakes = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that refuses the certificate resets the connection: expected, not a failure.
    socket.on('error', () => {});
    socket.once('data', (request) => {
      if (!request.equals(SSL_REQUEST)) {
        socket.destroy();
        return;
      }
      socket.write('S');
      const tls = new TLSSocket(socket, { isServer: true, key: certificate.key, cert: certificate.cert });
      tls.on('error', () => {});
      tls.on('secure', () => {
        handshakes += 1;
      });
      tls.once('data', () => tls.end(errorResponse(PAST_HANDSHAKE)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the TLS test server has no port');
  return {
    port: address.port,
    handshakes: () => handshakes,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
