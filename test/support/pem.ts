import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The public key of a published JWK, as SPKI PEM. */
export function jwkToSpkiPem(jwk: object): string {
  return createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
}

/** A self-signed X.509 certificate (PEM) for a private key, made by the machine's openssl. */
export function selfSignedCertificate(privateKey: KeyObject): string {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-cert-'));
  try {
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const certFile = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-key', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=grpc-jwt-auth test'], { stdio: 'ignore' });
    return readFileSync(certFile, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh RSA key pair of the given size. */
export function rsaKeyPair(modulusLength = 2048): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength });
}

/** A throw-away certificate for 127.0.0.1 and localhost, with its key; the files stay in `dir`. */
export interface LocalhostCertificate {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The folder holding `key.pem` and `cert.pem`; remove it when done. */
  readonly dir: string;
  /** The certificate's PEM file, e.g. for NODE_EXTRA_CA_CERTS. */
  readonly certFile: string;
}

/**
 * A self-signed P-256 certificate for 127.0.0.1 and localhost, made by the machine's openssl for this run
 * only; undefined when openssl is not there (tests that need it skip).
 */
export function localhostCertificate(prefix = 'grpc-jwt-auth-tls-'): LocalhostCertificate | undefined {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-days',
        '1',
      ],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(keyFile), cert: readFileSync(certFile), dir, certFile };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** A certificate issued by a {@link TestCertificateAuthority}, with its key (PEM). */
export interface IssuedCertificate {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/**
 * A throw-away certificate authority made by the machine's openssl for one test run: a private CA as
 * companies run for internal identity providers, which no default trust store knows.
 */
export interface TestCertificateAuthority {
  /** The CA certificate (PEM), what a client or server must be told to trust. */
  readonly cert: Buffer;
  /** The CA certificate's PEM file, e.g. for NODE_EXTRA_CA_CERTS. */
  readonly certFile: string;
  /**
   * Issues a P-256 certificate: for a TLS server (`usage: 'server'`, with `names` as its DNS and IP
   * subject alternative names) or a TLS client (`usage: 'client'`, for mutual TLS).
   */
  issue(commonName: string, usage: 'server' | 'client', names?: readonly string[]): IssuedCertificate;
  /** Removes the folder holding the CA's files. */
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A new test CA, or undefined when openssl is not there (tests that need it skip).
 *
 * @example
 * ```ts
 * const ca = testCertificateAuthority();
 * const server = ca?.issue('idp.test', 'server', ['idp.test', '127.0.0.1']);
 * ca?.remove();
 * ```
 */
export function testCertificateAuthority(): TestCertificateAuthority | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-ca-'));
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.pem');
  const openssl = (args: readonly string[]): void => void execFileSync('openssl', args, { stdio: 'ignore', timeout: 10_000 });
  try {
    openssl([
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      caKey,
      '-out',
      caCert,
      '-subj',
      '/CN=grpc-jwt-auth test CA',
      '-days',
      '1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  let serial = 0;
  return {
    cert: readFileSync(caCert),
    certFile: caCert,
    issue(commonName, usage, names = []) {
      serial += 1;
      const base = join(dir, `leaf-${serial}`);
      const altNames = names.map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`));
      const extensions = [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
      ];
      writeFileSync(`${base}.ext`, `${extensions.join('\n')}\n`);
      openssl(['req', ...EC_KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${commonName}`]);
      openssl([
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        caCert,
        '-CAkey',
        caKey,
        '-set_serial',
        String(serial + 1000),
        '-out',
        `${base}.pem`,
        '-days',
        '1',
        '-extfile',
        `${base}.ext`,
      ]);
      return { key: readFileSync(`${base}.key`), cert: readFileSync(`${base}.pem`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
