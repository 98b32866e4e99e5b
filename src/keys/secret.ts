import { AuthConfigError } from '../errors/config-error.ts';
import { MIN_SECRET_BYTES, algorithmsForSecret } from './key-algorithms.ts';
import type { KeyResolver } from './resolver.ts';
import { resolverByKid } from './static-resolver.ts';
import { SecretVerificationKey } from './verification-key.ts';

/**
 * An HMAC secret: a string (its UTF-8 bytes are the key) or bytes.
 *
 * @example
 * ```ts
 * import { fromSecret, type Secret } from 'grpc-jwt-auth';
 * const secret: Secret = Buffer.from(process.env.JWT_SECRET_BASE64!, 'base64');
 * const keys = fromSecret(secret);
 * ```
 */
export type Secret = string | Uint8Array;

const isSecret = (value: unknown): value is Secret => typeof value === 'string' || value instanceof Uint8Array;

/**
 * Keys for HS256/HS384/HS512 from shared secrets: one secret, or a map by `kid` so that a new secret can
 * be added before tokens use it and the old one removed after (rotation without downtime).
 *
 * Secrets shorter than the hash output are refused (32/48/64 bytes for HS256/384/512, RFC 7518 §3.2):
 * short secrets can be brute-forced offline from a single token.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromSecret } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys: fromSecret({ '2026-11': process.env.JWT_SECRET_NEW!, '2026-10': process.env.JWT_SECRET_OLD! }),
 *   algorithms: ['HS256'],
 * });
 * ```
 */
export function fromSecret(secret: Secret | Readonly<Record<string, Secret>>): KeyResolver {
  return resolverByKid(secret, {
    factory: 'fromSecret',
    kind: 'secret',
    noun: 'secret',
    option: 'secret',
    expected: 'a string or a Uint8Array',
    isKey: isSecret,
    build(value, kid, option) {
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(value);
      if (bytes.byteLength < MIN_SECRET_BYTES.HS256) {
        throw new AuthConfigError(option, `secret has ${bytes.byteLength} bytes; HS256 needs at least 32 (HS384 48, HS512 64)`);
      }
      return new SecretVerificationKey(bytes, kid, algorithmsForSecret(bytes.byteLength));
    },
  });
}
