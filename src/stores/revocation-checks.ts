/**
 * How the authenticator uses a `revocations` store it did not write: the option's shape, a guarded
 * `match` (a foreign store's bug refuses the call, never admits it) and a guarded `status` (a health
 * probe must never throw).
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError, isAuthError } from '../errors/auth-error.ts';
import { describeForLog, readSafely, thrownText } from '../errors/log-text.ts';
import { isRecord } from '../util/option-checks.ts';
import { isThenable } from '../util/thenable.ts';
import { hasLookupMatch, matchLookup, revocationsUnavailable, type TokenLookup } from './revocation-keys.ts';
import type { RevocableToken, RevocationMatch, RevocationStore, RevocationsState, RevocationsStatus } from './revocation-store.ts';

const REQUIRED = ['match', 'revoke', 'unrevoke'] as const;
const OPTIONAL = ['entries', 'ready', 'close', 'status', 'subscribe'] as const;

/**
 * The `revocations` option checked: undefined, or an object with `match`, `revoke` and `unrevoke`
 * functions (and functions for whichever optional members it has). Anything else throws an
 * {@link AuthConfigError} naming the option.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore } from './memory-revocation-store.ts';
 * optionalRevocationStore(createMemoryRevocationStore(), 'revocations'); // the store
 * optionalRevocationStore(undefined, 'revocations'); // undefined: the default applies
 * ```
 */
export function optionalRevocationStore(value: unknown, option: string): RevocationStore | undefined {
  if (value === undefined) return undefined;
  const expected = 'expected a revocation store: { match(token), revoke(revocation), unrevoke(target) }, e.g. createMemoryRevocationStore()';
  if (typeof value !== 'object' || value === null) throw new AuthConfigError(option, expected);
  const store = value as Record<string, unknown>;
  for (const name of REQUIRED) if (typeof store[name] !== 'function') throw new AuthConfigError(option, `${expected}; ${name} is not a function`);
  for (const name of OPTIONAL) {
    if (store[name] !== undefined && typeof store[name] !== 'function') throw new AuthConfigError(option, `${name} must be a function when given`);
  }
  return value as RevocationStore;
}

function ignore(): void {
  // A match() that answered with a promise already refused the call; its outcome is nobody's business.
}

/**
 * Asks `store` whether a verified token is revoked: the library's own stores through their fast path
 * with the lookup kept in the cache entry, any other store through `match(token)`. Never admits on a
 * store's failure: an AuthError it throws refuses the call as it is; anything else it throws, a promise
 * (match must answer from memory) or an answer that is neither a match nor undefined refuses with
 * UNAVAILABLE `ERR_AUTH_REVOCATIONS_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore } from './memory-revocation-store.ts';
 * import { tokenLookup } from './revocation-keys.ts';
 * const token = { claims: { iss: 'https://idp.example/', jti: 'a1' }, tokenId: 'tRw7' };
 * revocationMatch(createMemoryRevocationStore(), tokenLookup(token.claims, token.tokenId), token); // undefined: not revoked
 * ```
 */
export function revocationMatch(store: RevocationStore, lookup: TokenLookup, token: RevocableToken): RevocationMatch | undefined {
  if (hasLookupMatch(store)) return store[matchLookup](lookup);
  let answer: unknown;
  try {
    answer = store.match(token);
    // Inside the try: reading `then` (a getter) is the store's code too.
    if (isThenable(answer)) {
      Promise.resolve(answer).then(undefined, ignore);
      return refuseBroken('revocations.match returned a promise; it must answer synchronously, from memory');
    }
  } catch (error) {
    if (isAuthError(error)) throw error;
    throw revocationsUnavailable(`revocations.match threw: ${thrownText(error)}`, error);
  }
  if (answer === undefined) return undefined;
  if (isRecord(answer)) return answer as unknown as RevocationMatch;
  return refuseBroken(`revocations.match returned ${describeForLog(answer)}, not a RevocationMatch or undefined`);
}

function refuseBroken(message: string): never {
  throw revocationsUnavailable(message);
}

const STATES: ReadonlySet<unknown> = new Set<RevocationsState>(['local', 'fresh', 'stale', 'expired', 'empty']);

/**
 * A store's status as reported, or undefined when it has no `status()`, or its `status()` throws,
 * answers with a promise or with something that is no status: a health probe reads this on a timer,
 * where a throw or an unhandled rejection ends the process.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore } from './memory-revocation-store.ts';
 * revocationsStatusOf(createMemoryRevocationStore())?.state; // 'local'
 * ```
 */
export function revocationsStatusOf(store: RevocationStore): RevocationsStatus | undefined {
  let reported: unknown;
  try {
    const { status } = store;
    if (typeof status !== 'function') return undefined;
    reported = status.call(store);
    if (isThenable(reported)) {
      Promise.resolve(reported).then(undefined, ignore);
      return undefined;
    }
  } catch {
    return undefined;
  }
  return isRecord(reported) && STATES.has(reported.state) ? (reported as unknown as RevocationsStatus) : undefined;
}

/**
 * The refusal of a revoked token: the kind and issuer go to the log message, never the token.
 *
 * @example
 * ```ts
 * throw revokedError({ kind: 'subject', issuer: 'https://idp.example/', before: new Date(), forgetAt: new Date() });
 * ```
 */
export function revokedError(match: RevocationMatch): AuthError {
  // A foreign store's match may be any object, its getters included: reading it never throws here.
  const kind = readSafely(() => match.kind);
  const issuer = readSafely(() => match.issuer);
  return new AuthError(
    'ERR_AUTH_TOKEN_REVOKED',
    `token revoked by a ${typeof kind === 'string' ? kind : describeForLog(kind)} revocation of issuer ${describeForLog(issuer, 200)}`,
  );
}
