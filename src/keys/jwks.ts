import { AuthConfigError } from '../errors.ts';
import { importJwks } from './jwk.ts';
import { RemoteJwksResolver, type RemoteJwksOptions } from './remote-jwks.ts';
import type { KeyResolver } from './resolver.ts';
import { StaticKeyResolver } from './static-resolver.ts';

/** A JSON Web Key Set document (RFC 7517 §5). */
export interface JsonWebKeySet {
  readonly keys: readonly object[];
}

/**
 * Keys from a JSON Web Key Set: a URL to fetch (and refetch as the provider rotates keys), or a JWKS
 * object held locally. Only public signature keys are taken; keys with `use: "enc"`, without `verify` in
 * `key_ops`, with private members, of unknown types or RSA under 2048 bits are skipped.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromJwks } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys: fromJwks('https://idp.example/.well-known/jwks.json'),
 *   algorithms: ['RS256'],
 *   issuer: 'https://idp.example/',
 * });
 * ```
 */
export function fromJwks(source: string | URL | JsonWebKeySet, options: RemoteJwksOptions = {}): KeyResolver {
  if (typeof source === 'string' || source instanceof URL) return new RemoteJwksResolver(source, options);
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
