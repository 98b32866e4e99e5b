import { describeForLog, thrownText } from '../errors/log-text.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import type { KeysState, KeysStatus } from '../keys/key-status.ts';
import { isRecord } from '../util/option-checks.ts';
import { isThenable } from '../util/thenable.ts';
import type { RevocationsStatus } from '../stores/revocation-store.ts';

/**
 * The keys of one trusted issuer, as {@link AuthStatus} reports them: the resolver's {@link KeysStatus}
 * and the issuer it serves.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromIssuer, type IssuerStatus } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({ keys: fromIssuer('https://idp.example/'), algorithms: ['RS256'], issuer: 'https://idp.example/' });
 * const line = ({ issuer, state, kids, lastError }: IssuerStatus): string => `${issuer ?? '(any issuer)'}: ${state}, kids ${kids.join(', ')}${lastError ? `; ${lastError}` : ''}`;
 * auth.status().issuers.forEach((issuer) => console.log(line(issuer)));
 * ```
 */
export interface IssuerStatus extends KeysStatus {
  /**
   * The `iss` these keys serve: the entry's `issuer` with `issuers`, else the `issuer` option when it is
   * one string; undefined when none is configured, or when the `issuer` option lists several (they share
   * one key resolver). Entries of `issuers` that share a resolver are each listed, under their own `iss`.
   */
  readonly issuer: string | undefined;
}

/**
 * What `auth.status()` (and an authenticator's `status()`) reports, for readiness probes: per issuer, the
 * keys held and how usable they are, and the revocation list; `serving` is false while some issuer has
 * no usable keys (state `'empty'` or `'expired'`), or the revocation list is `'empty'` or `'expired'`,
 * when tokens can only be refused with UNAVAILABLE.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromJwks, type AuthStatus } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({ keys: fromJwks('https://idp.example/jwks.json'), algorithms: ['RS256'] });
 * await auth.ready();
 * const { serving, issuers }: AuthStatus = auth.status();
 * if (!serving) console.warn(issuers.filter((issuer) => issuer.state === 'expired' || issuer.state === 'empty'));
 * ```
 */
export interface AuthStatus {
  /** False while some issuer has no usable keys, or the revocation list cannot be trusted: report NOT_SERVING then. */
  readonly serving: boolean;
  /** One entry per configured issuer (one for a single `keys`). */
  readonly issuers: readonly IssuerStatus[];
  /**
   * The `revocations` store's status (state `local` for the default memory store); undefined for a store
   * of your own without `status()` (or whose `status()` throws or answers something that is no status).
   */
  readonly revocations: RevocationsStatus | undefined;
}

/**
 * One trusted key source, as the authenticator knows it.
 *
 * @example
 * ```ts
 * import { fromSecret } from '../keys/secret.ts';
 * const source: KeySource = { issuer: 'https://jobs.example/', keys: fromSecret('a-secret-of-thirty-two-bytes-or-more!') };
 * ```
 */
export interface KeySource {
  readonly issuer: string | undefined;
  readonly keys: KeyResolver;
}

function unknownStatus(keys: KeyResolver, lastError: string | undefined): KeysStatus {
  const none = { lastFetch: undefined, freshUntil: undefined, staleUntil: undefined, nextRetry: undefined };
  return { source: keys.description, state: 'unknown', kids: [], lastError, ...none };
}

const STATES: ReadonlySet<unknown> = new Set<KeysState>(['static', 'fresh', 'stale', 'expired', 'empty', 'unknown']);

function ignore(): void {
  // A status() that answered with a promise is reported 'unknown'; its rejection is nobody's business.
}

/**
 * A resolver's status as reported, or `'unknown'` with the reason as `lastError`. A resolver of your own
 * may throw (also from a `status` getter), answer with a promise (an `async status()`) or with something
 * that is no status; a health probe reads this on a timer, where a throw or an unhandled rejection ends
 * the process, and a status without `state` or `kids` would count as serving and break the probe's code.
 */
function statusOf(keys: KeyResolver): KeysStatus {
  let reported: unknown;
  try {
    const { status } = keys;
    if (typeof status !== 'function') return unknownStatus(keys, undefined);
    reported = status.call(keys);
    // Inside the try: reading `then` may run the resolver's code (a getter).
    if (isThenable(reported)) {
      Promise.resolve(reported).then(undefined, ignore);
      return unknownStatus(keys, 'status() returned a promise; it must answer at once (it never fetches)');
    }
  } catch (error) {
    return unknownStatus(keys, `status() threw: ${thrownText(error)}`);
  }
  try {
    if (!isRecord(reported) || !STATES.has(reported.state) || !Array.isArray(reported.kids)) {
      return unknownStatus(keys, `status() returned ${describeForLog(reported)}, not a KeysStatus`);
    }
    // A copy of the fields a status has, read here: the caller spreads it, and a throwing getter on the
    // resolver's object must become 'unknown' like a throwing status(), not a throw out of auth.status().
    const { source, state, kids, lastFetch, freshUntil, staleUntil, lastError, nextRetry } = reported as unknown as KeysStatus;
    return { source, state, kids, lastFetch, freshUntil, staleUntil, lastError, nextRetry };
  } catch (error) {
    return unknownStatus(keys, `status() answered an object that throws when read: ${thrownText(error)}`);
  }
}

/**
 * The status of every key source and of the revocation list, read now. Never fetches.
 *
 * @example
 * ```ts
 * import { fromSecret } from '../keys/secret.ts';
 * authStatus([{ issuer: undefined, keys: fromSecret('a-secret-of-thirty-two-bytes-or-more!') }]).serving; // true: static keys
 * ```
 */
export function authStatus(sources: readonly KeySource[], revocations?: RevocationsStatus): AuthStatus {
  const issuers = sources.map(({ issuer, keys }) => Object.freeze({ ...statusOf(keys), issuer }));
  const usable = (state: string | undefined): boolean => state !== 'empty' && state !== 'expired';
  const serving = issuers.every(({ state }) => usable(state)) && usable(revocations?.state);
  return Object.freeze({ serving, issuers: Object.freeze(issuers), revocations });
}
