import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { AuthConfigError } from '../errors/config-error.ts';
import { algorithmsForPublicKey } from './key-algorithms.ts';
import type { KeyResolver } from './resolver.ts';
import { resolverByKid } from './static-resolver.ts';
import { PublicVerificationKey } from './verification-key.ts';

const isPem = (value: unknown): value is string => typeof value === 'string';

/**
 * Parses one PEM text into a public key. Accepts SPKI (`PUBLIC KEY`), PKCS#1 (`RSA PUBLIC KEY`) and X.509
 * certificates (`CERTIFICATE`, the public key inside is used; the certificate's validity is not checked).
 * Private keys are refused: a server that verifies tokens should never hold the signing key.
 */
function parsePublicPem(pem: string, option: string): KeyObject {
  const labels = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((match) => match[1] as string);
  const [label] = labels;
  if (label === undefined) throw new AuthConfigError(option, 'not a PEM text (no "-----BEGIN ...-----" line)');
  // Any block, not only the first: OpenSSL reads the first and ignores the rest, so a signing key
  // pasted after the public key would otherwise sit in the configuration unnoticed.
  const privateLabel = labels.find((each) => each.includes('PRIVATE'));
  if (privateLabel !== undefined) {
    throw new AuthConfigError(option, `got a ${privateLabel}; pass the public key (SPKI, PKCS#1 or certificate), never the signing key`);
  }
  // One key per text: a second one would be dropped in silence. A certificate chain is one key, its leaf's.
  if (labels.length > 1 && labels.some((each) => each !== 'CERTIFICATE')) {
    throw new AuthConfigError(option, `holds ${labels.length} PEM blocks (${labels.join(', ')}); give one key per text, and several keys by kid`);
  }
  try {
    return label === 'CERTIFICATE' ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch (cause) {
    throw new AuthConfigError(option, `cannot parse the ${label}: ${(cause as Error).message}`);
  }
}

/**
 * Keys from PEM texts: one, or a map by `kid` for rotation. The algorithms each key may verify follow from
 * its type (RSA: RS*, PS*; EC: the ES algorithm of its curve; Ed25519: EdDSA), never from a token.
 * RSA keys under 2048 bits are refused. Each text holds one key: a text with a private key anywhere in
 * it, or with several blocks (but a certificate chain, whose first certificate's key is used), is refused.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { createAuthInterceptor, fromPem } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys: fromPem({ 'key-1': readFileSync('idp-public.pem', 'utf8') }),
 *   algorithms: ['RS256'],
 * });
 * ```
 */
export function fromPem(pem: string | Readonly<Record<string, string>>): KeyResolver {
  return resolverByKid(pem, {
    factory: 'fromPem',
    kind: 'public',
    noun: 'key',
    option: 'pem',
    expected: 'a PEM string',
    isKey: isPem,
    build(value, kid, option) {
      const key = parsePublicPem(value, option);
      try {
        return new PublicVerificationKey(key, kid, algorithmsForPublicKey(key));
      } catch (cause) {
        throw new AuthConfigError(option, (cause as Error).message);
      }
    },
  });
}
