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
