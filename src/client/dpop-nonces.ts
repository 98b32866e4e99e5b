/**
 * Server nonces (RFC 9449 §8, §9), remembered per DPoP key and per origin, so the token interceptor and
 * the token requests of one key share what each server last asked for. Module-private: nothing outside
 * this entry can read or plant a nonce.
 */
import { isDpopNonce, type DpopKey } from './dpop-key.ts';
import { makeRoom } from '../util/map-eviction.ts';

/** Origins remembered per key, least recently used dropped first (oauth4webapi keeps the same 100). */
const MAX_ORIGINS = 100;

const nonces = new WeakMap<DpopKey, Map<string, string>>();

/**
 * The nonce `origin` last gave for `key`, if any.
 *
 * @example
 * ```ts
 * import { createDpopKey } from 'grpc-jwt-auth/client';
 * const key = await createDpopKey();
 * rememberNonce(key, 'https://orders.example', 'n-1');
 * nonceFor(key, 'https://orders.example'); // 'n-1'
 * ```
 */
export function nonceFor(key: DpopKey, origin: string): string | undefined {
  const map = nonces.get(key);
  const nonce = map?.get(origin);
  if (map !== undefined && nonce !== undefined) {
    // Most recently used last.
    map.delete(origin);
    map.set(origin, nonce);
  }
  return nonce;
}

/**
 * Remembers the nonce `origin` sent (a `dpop-nonce` header or trailer). A value that cannot be a nonce
 * (wrong characters, over 1024 characters) is ignored: a hostile server must not make us sign anything.
 * Returns true when the value was stored.
 *
 * @example
 * ```ts
 * import { createDpopKey } from 'grpc-jwt-auth/client';
 * const key = await createDpopKey();
 * rememberNonce(key, 'https://orders.example', 'n-2'); // true
 * rememberNonce(key, 'https://orders.example', 'a "quoted" value'); // false
 * ```
 */
export function rememberNonce(key: DpopKey, origin: string, value: unknown): value is string {
  if (!isDpopNonce(value)) return false;
  let map = nonces.get(key);
  if (map === undefined) {
    map = new Map();
    nonces.set(key, map);
  }
  map.delete(origin);
  makeRoom(map, MAX_ORIGINS);
  map.set(origin, value);
  return true;
}
