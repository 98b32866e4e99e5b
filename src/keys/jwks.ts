import { AuthConfigError } from '../errors/config-error.ts';
import { importJwks } from './jwk.ts';
import { createRemoteJwks, type RemoteKeyResolver } from './remote-jwks.ts';
import type { RemoteJwksOptions } from './remote-options.ts';
import type { KeyResolver } from './resolver.ts';
import { StaticKeyResolver } from './static-resolver.ts';

/**
 * A JSON Web Key Set document (RFC 7517 §5).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { fromJwks, type JsonWebKeySet } from 'grpc-jwt-auth';
 * const jwks: JsonWebKeySet = JSON.parse(readFileSync('jwks.json', 'utf8'));
 * const keys = fromJwks(jwks);
 * ```
 */
export interface JsonWebKeySet {
  /** The keys (JWKs); those that cannot or must not verify signatures are skipped. */
  readonly keys: readonly object[];
}

/**
 * Keys from a JSON Web Key Set: a URL to fetch (and refetch as the provider rotates keys), or a JWKS
 * object held locally. Only public signature keys are taken; keys with `use: "enc"`, with a `key_ops`
 * that is malformed (not an array of unique strings), lacks `verify` or allows more than `sign`/`verify`,
 * with private members, of unknown types, RSA under 2048 bits or with a weak exponent, and Ed25519 keys
 * of small order or non-canonical encoding are skipped.
 *
 * A URL must be `https:` (or `http:` to a loopback host, or any `http:` with `allowInsecureHttp`).
 * Fetches follow no redirect, time out (`timeout`, 5 s) and are cut at `maxResponseBytes` (256 KiB).
 * Keys are cached for the response's `Cache-Control: max-age`, held between `minCacheMaxAge` (60 s) and
 * `maxCacheMaxAge` (24 h), `cacheMaxAge` (10 min) without one, and refreshed in the background at 80 % of
 * that age. Tokens with unknown `kid`s trigger at most one refetch per `cooldown` (30 s); start-up,
 * scheduled and retry fetches do not count, so a key rotated in right after one is fetched at once.
 * While the provider fails, keys held keep verifying for `staleIfError` (1 h) past their age; then calls
 * get UNAVAILABLE. Tokens without `kid` are verified only when exactly one key fits (`tokensWithoutKid`).
 * Every duration is in seconds: see {@link RemoteJwksOptions}. A key set held locally takes no options.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromJwks } from 'grpc-jwt-auth';
 * const keys = fromJwks('https://idp.example/.well-known/jwks.json', {
 *   onEvent: (event) => { if (event.type === 'failed') console.warn(event.error.message); },
 * });
 * const auth = createAuthInterceptor({ keys, algorithms: ['RS256'], issuer: 'https://idp.example/' });
 * await auth.ready(); // fetch the keys before serving
 * ```
 */
export function fromJwks(url: string | URL, options?: RemoteJwksOptions): RemoteKeyResolver;
export function fromJwks(jwks: JsonWebKeySet): KeyResolver;
export function fromJwks(source: string | URL | JsonWebKeySet, options?: RemoteJwksOptions): KeyResolver {
  if (typeof source === 'string' || source instanceof URL) return createRemoteJwks(source, options);
  // Fetch and cache options mean nothing to keys held in memory: ignoring them would hide a mistake.
  if (options !== undefined) throw new AuthConfigError('options', 'a key set given as an object takes no options; pass a URL to fetch it');
  let imported;
  try {
    imported = importJwks(source);
  } catch (cause) {
    throw new AuthConfigError('jwks', (cause as Error).message);
  }
  if (imported.keys.length === 0) {
    const why = imported.skipped.map((s) => `#${s.index}${s.kid === undefined ? '' : ` (${s.kid})`}: ${s.reason}`).join('; ');
    throw new AuthConfigError('jwks', `the key set has no usable verification key${why ? ` (${why})` : ''}`);
  }
  return new StaticKeyResolver('public', `fromJwks(local, ${imported.keys.length} keys)`, imported.keys);
}
