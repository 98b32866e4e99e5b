/**
 * Throw-away TLS certificates for the demo and the mTLS example: a private CA, a server certificate for
 * 127.0.0.1 and localhost, and client certificates, all made by the machine's `openssl` in a temporary
 * directory that is deleted before this function returns. Nothing is ever written anywhere else.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private key and its certificate, PEM. */
export interface KeyAndCertificate {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** What {@link makeCertificates} returns. */
export interface Certificates {
  /** The CA certificate both sides trust. */
  readonly ca: Buffer;
  /** The server's key and certificate (subjectAltName IP:127.0.0.1, DNS:localhost). */
  readonly server: KeyAndCertificate;
  /** One key and certificate per requested client, by common name. */
  readonly clients: Readonly<Record<string, KeyAndCertificate>>;
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/**
 * Makes a CA and certificates signed by it, valid for one day. Uses `openssl x509 -req` with an
 * extensions file, which works on OpenSSL 1.1 and 3.x alike.
 *
 * @example
 * ```ts
 * const { ca, server, clients } = makeCertificates(['orders-app']);
 * const serverCredentials = grpc.ServerCredentials.createSsl(ca, [{ private_key: server.key, cert_chain: server.cert }], true);
 * const channel = grpc.credentials.createSsl(ca, clients['orders-app']!.key, clients['orders-app']!.cert);
 * ```
 */
export function makeCertificates(clientNames: readonly string[] = []): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-demo-tls-'));
  const file = (name: string): string => join(dir, name);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const issue = (name: string, subject: string, extensions: string): KeyAndCertificate => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(['req', '-new', ...ecKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', subject]);
    openssl([
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    ]);
    return { key: readFileSync(file(`${name}.key`)), cert: readFileSync(file(`${name}.crt`)) };
  };
  try {
    openssl(['req', '-x509', ...ecKey, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-subj', '/CN=grpc-jwt-auth demo CA', '-days', '1']);
    const server = issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    const clients: Record<string, KeyAndCertificate> = {};
    clientNames.forEach((name, index) => {
      clients[name] = issue(`client-${index}`, `/CN=${name}`, 'extendedKeyUsage=clientAuth\n');
    });
    return { ca: readFileSync(file('ca.crt')), server, clients };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
