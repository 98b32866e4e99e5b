/**
 * Which DPoP key a token source binds its tokens to. `clientCredentials` and `refreshingToken` with a
 * `dpop` key register their source here, so the token interceptor sends those tokens with proofs of the
 * same key without being told twice (and refuses a different one: the server would refuse every call).
 */
import type { DpopKey } from './dpop-key.ts';

const keys = new WeakMap<object, DpopKey>();

/**
 * Records that the tokens of `source` are bound to `key`; returns `source`.
 *
 * @example
 * ```ts
 * import { cachedToken, createDpopKey } from 'grpc-jwt-auth/client';
 * const source = bindSourceToKey(cachedToken(async () => 'opaque'), await createDpopKey());
 * ```
 */
export function bindSourceToKey<S extends object>(source: S, key: DpopKey): S {
  keys.set(source, key);
  return source;
}

/**
 * The DPoP key the tokens of `source` are bound to, if it is a source made with one.
 *
 * @example
 * ```ts
 * import { clientCredentials, createDpopKey } from 'grpc-jwt-auth/client';
 * const key = await createDpopKey();
 * const source = clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: secret, dpop: key });
 * keyOfSource(source) === key; // true
 * ```
 */
export function keyOfSource(source: unknown): DpopKey | undefined {
  return typeof source === 'object' && source !== null ? keys.get(source) : undefined;
}
