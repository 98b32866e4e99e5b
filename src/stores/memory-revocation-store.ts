import { checkOptionNames, optionNames, optionalInteger, optionalSeconds } from '../util/option-checks.ts';
import { checkedClock } from '../util/clock.ts';
import { entryOfRevocation, matchLookup, matchToken, publicEntry, targetOfEntryId, type LookupMatcher, type TokenLookup } from './revocation-keys.ts';
import { RevocationListeners, RevocationMirror } from './revocation-mirror.ts';
import type { Revocation, RevocationEntry, RevocationEvent, RevocationStore, RevocationTarget, RevocableToken, RevocationsStatus } from './revocation-store.ts';

/**
 * Options of {@link createMemoryRevocationStore}.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, type MemoryRevocationStoreOptions } from 'grpc-jwt-auth';
 * const options: MemoryRevocationStoreOptions = { maxTokenLifetime: 3600 };
 * const revocations = createMemoryRevocationStore(options);
 * ```
 */
export interface MemoryRevocationStoreOptions {
  /**
   * The longest lifetime (`exp` − `iat`, seconds) of any token your issuers sign; default 86,400 (a day),
   * from 60 to 31,536,000. A subject or client revocation is kept this long (plus 300 s) after its
   * `before`, and a token revocation without `expiresAt` this long after it is made. Enforce it with
   * `maxTokenAge` if an issuer might sign longer-lived tokens.
   */
  readonly maxTokenLifetime?: number;
  /** At most this many entries (a count, 1 to 100,000,000; default 1,000,000): a revocation beyond it is refused, never one evicted. */
  readonly maxEntries?: number;
  /** The clock, in milliseconds since the epoch; default `Date.now`. A reading that is not a finite number of milliseconds (NaN, seconds) refuses the call with INTERNAL, never admits it. */
  readonly clock?: () => number;
}

const OPTION_NAMES = optionNames<MemoryRevocationStoreOptions>({ maxTokenLifetime: true, maxEntries: true, clock: true });
const DEFAULT_MAX_TOKEN_LIFETIME = 86_400;
const DEFAULT_MAX_ENTRIES = 1_000_000;

/**
 * A {@link RevocationStore} in this process's memory: the default `revocations` of every interceptor, for
 * one process (replicas need `createRedisRevocationStore`). State `local`: always usable. `revoke` and
 * `unrevoke` apply at once (the next call with a revoked token is refused); entries are forgotten by
 * themselves once no token they match can still be valid. No timer, nothing to close.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, createMemoryRevocationStore } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], revocations });
 * await revocations.revoke({ kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' });
 * ```
 */
export function createMemoryRevocationStore(options: MemoryRevocationStoreOptions = {}): Required<RevocationStore> {
  checkOptionNames(options as unknown, OPTION_NAMES);
  const maxTokenLifetime = optionalSeconds(options.maxTokenLifetime, 'maxTokenLifetime', 60, 31_536_000) ?? DEFAULT_MAX_TOKEN_LIFETIME;
  const maxEntries = optionalInteger(options.maxEntries, 'maxEntries', 1, 100_000_000) ?? DEFAULT_MAX_ENTRIES;
  // Checked like the authenticator's: a NaN reading made every entry look expired (`until > NaN` is
  // false), admitting revoked tokens; a clock in seconds made "before now" mean 1970. Both throw
  // ERR_AUTH_INTERNAL instead, refusing the call (or the revoke).
  const clock = checkedClock(options.clock);
  const mirror = new RevocationMirror({ clock, maxEntries });
  const listeners = new RevocationListeners();

  /** Admin input is judged before anything changes: a bad revocation leaves the store as it was. */
  function idAndEntry(revocation: Revocation | RevocationTarget): ReturnType<typeof entryOfRevocation> {
    return entryOfRevocation(revocation as Revocation, clock(), maxTokenLifetime);
  }

  const store: Required<RevocationStore> = {
    match: (token: RevocableToken) => matchToken(fast, token),
    async revoke(revocation: Revocation): Promise<void> {
      const [id, entry] = idAndEntry(revocation);
      const stored = mirror.put(id, entry);
      const listed = publicEntry(id, stored);
      if (listed !== undefined) listeners.emit({ type: 'revoked', entry: listed });
    },
    async unrevoke(target: RevocationTarget): Promise<boolean> {
      const [id] = idAndEntry(target);
      const known = mirror.get(id);
      if (known === undefined) return false;
      mirror.remove(id);
      const removed = targetOfEntryId(id);
      if (removed !== undefined) listeners.emit({ type: 'unrevoked', target: removed });
      // An entry past its end revoked nothing any more.
      return known.until > clock();
    },
    async entries(): Promise<readonly RevocationEntry[]> {
      return Object.freeze(mirror.live().flatMap(([id, entry]) => publicEntry(id, entry) ?? []));
    },
    ready: async () => undefined,
    close: async () => undefined,
    status: (): RevocationsStatus =>
      Object.freeze({
        source: 'memory',
        state: 'local',
        entries: mirror.size,
        syncedAt: undefined,
        staleUntil: undefined,
        lastError: undefined,
        nextRetry: undefined,
      }),
    subscribe: (listener: (event: RevocationEvent) => void) => listeners.subscribe(listener),
  };
  // The fast path is not enumerable: a user's wrapper `{ ...store, match: myMatch }` must not copy it,
  // else the authenticator would take the copied fast path and never ask `myMatch` (its own revocations
  // silently unenforced). A wrapper goes through its `match`; this store itself keeps the fast path.
  // A memory list is always complete: only a faulty clock (ERR_AUTH_INTERNAL) makes it throw.
  const fast = Object.defineProperty(store, matchLookup, { value: (lookup: TokenLookup) => mirror.match(lookup) }) as typeof store & LookupMatcher;
  return fast;
}
