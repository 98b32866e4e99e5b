import { REFUSAL_STATUS } from '../errors/codes.ts';
import type { AuthenticatorOptions } from '../verify/authenticator.ts';
import type { RejectedEvent } from './events.ts';
import { describeForLog, readSafely } from '../errors/log-text.ts';
import type { RemoteKeysEvent } from '../keys/remote-events.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import { revocationsStatusOf } from '../stores/revocation-checks.ts';
import type { RevocationEvent, RevocationStore } from '../stores/revocation-store.ts';
import { escapeForTerminal } from '../util/unsafe-text.ts';
import { isRecord } from '../util/option-checks.ts';
import { writeLog, type LogEntry, type LogLevel, type Logger } from './logger.ts';

/**
 * Refusals an operator must see, but a flood must not flood the log: at most one warning per code this
 * long (seconds).
 *
 * @example
 * ```ts
 * const quietFor = UNAVAILABLE_WARNING_INTERVAL * 1000; // milliseconds between two warnings of one code
 * ```
 */
export const UNAVAILABLE_WARNING_INTERVAL = 60;

/** Why each UNAVAILABLE code is worth a warning: the server, not the caller, cannot serve. */
const UNAVAILABLE_CAUSES: Readonly<Record<string, string>> = {
  ERR_AUTH_VERIFIER_BUSY: 'maxConcurrentVerifications tokens were already being verified (a flood of new or forged tokens, or a bound too low for this load)',
  ERR_AUTH_KEYS_UNAVAILABLE: 'the verification keys could not be had (the key set cannot be fetched or refreshed)',
  ERR_AUTH_REPLAY_CHECK_UNAVAILABLE: 'the DPoP replay store failed or is full (proofs cannot be checked for reuse)',
  ERR_AUTH_REVOCATIONS_UNAVAILABLE: 'the revocation store has been unreachable longer than its staleIfError, or has not loaded yet',
};

/**
 * Counts refusals with status UNAVAILABLE (shed by `maxConcurrentVerifications`, keys unavailable) and
 * says so at `warn`: at once for the first of a code, then at most once per
 * {@link UNAVAILABLE_WARNING_INTERVAL} with the number refused since the last warning. These are the
 * server's trouble, not the caller's: at `debug` they would go unseen, and once per call they would
 * drown the log during the very flood they report. Refusals held back are written when the interval
 * ends (an unref'd timer, so it never keeps a process alive) or at `close()`: the count of a flood that
 * stopped is never lost.
 */
class UnavailableWarnings {
  readonly #refused = new Map<string, { count: number; lastWarning: number; method: string }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number,
  ) {}

  record(code: string, method: string): void {
    let state = this.#refused.get(code);
    if (state === undefined) {
      state = { count: 0, lastWarning: Number.NEGATIVE_INFINITY, method };
      this.#refused.set(code, state);
    }
    state.count += 1;
    state.method = method;
    const now = this.#now();
    // A clock that fails (already refusing every call with INTERNAL, logged at error) never silences this.
    if (now - state.lastWarning < UNAVAILABLE_WARNING_INTERVAL * 1000) {
      this.#flushLater(state.lastWarning + UNAVAILABLE_WARNING_INTERVAL * 1000 - now);
      return;
    }
    this.#warn(code, state, now);
  }

  /** Writes what was held back, now. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
  }

  #now(): number {
    try {
      return this.clock();
    } catch {
      return Number.NaN;
    }
  }

  #flushLater(delay: number): void {
    if (this.#timer !== undefined) return;
    const interval = UNAVAILABLE_WARNING_INTERVAL * 1000;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#flush();
      },
      Number.isFinite(delay) ? Math.min(Math.max(delay, 0), interval) : interval,
    );
    this.#timer.unref();
  }

  #flush(): void {
    const now = this.#now();
    for (const [code, state] of this.#refused) if (state.count > 0) this.#warn(code, state, now);
  }

  #warn(code: string, state: { count: number; lastWarning: number; method: string }, now: number): void {
    const refused = state.count;
    const { method } = state;
    state.count = 0;
    state.lastWarning = now;
    writeLog(this.logger, 'warn', () => [
      { code, refused, method },
      `grpc-jwt-auth: ${refused} call(s) refused with UNAVAILABLE because ${UNAVAILABLE_CAUSES[code] ?? code}`,
    ]);
  }
}

/**
 * The `onRejected` the interceptor runs: the user's hook, and the logger. A refusal with status INTERNAL
 * is a bug or a broken hook (a `validate`, guard, `tokenFrom` or clock that throws): logged at `error`
 * with the error, whose `cause` holds what was thrown. A refusal with status UNAVAILABLE (shed, keys
 * unavailable) is the server's trouble: also at `warn`, rate-limited. Every refusal that is not INTERNAL
 * is logged at `debug`: code, reason, method, peer and the log message, which never holds the token.
 * Without a logger, the user's hook as it is. `close()` (the interceptor's) writes the UNAVAILABLE
 * refusals the rate limit still holds back.
 *
 * @example
 * ```ts
 * const { onRejected, close } = observeRejections((event) => console.warn(event.error.code), console, Date.now);
 * // on shutdown:
 * close();
 * ```
 */
export function observeRejections(
  hook: ((event: RejectedEvent) => void) | undefined,
  logger: Logger | undefined,
  clock: () => number,
): { readonly onRejected: ((event: RejectedEvent) => unknown) | undefined; close(): void } {
  if (logger === undefined) return { onRejected: hook, close: () => undefined };
  const unavailable = new UnavailableWarnings(logger, clock);
  const onRejected = (event: RejectedEvent): unknown => {
    const { method, peer, error } = event;
    const { code, reason } = error;
    if (error.status === REFUSAL_STATUS.INTERNAL) {
      writeLog(logger, 'error', () => [{ code, reason, method, peer, err: error }, `grpc-jwt-auth: ${method} refused with INTERNAL: ${error.message}`]);
    } else {
      writeLog(logger, 'debug', () => [{ code, reason, method, peer }, `grpc-jwt-auth: ${method} refused (${reason}): ${error.message}`]);
      if (error.status === REFUSAL_STATUS.UNAVAILABLE) unavailable.record(code, method);
    }
    // Returned, so that the caller handles the promise of an async hook.
    return hook?.(event);
  };
  return { onRejected, close: () => unavailable.close() };
}

/** What one key-set event says, at which level: fields for the log sink, a line for people. */
function keyEventEntry(event: RemoteKeysEvent): [LogLevel, LogEntry] {
  switch (event.type) {
    case 'failed': {
      const { document, url, trigger, error, staleUntil, retryAt } = event;
      const held = staleUntil === undefined ? 'no keys are held' : `held keys verify until ${staleUntil.toISOString()}`;
      return [
        'warn',
        [
          { event: 'failed', document, url, trigger, err: error, staleUntil, retryAt },
          `grpc-jwt-auth: ${document} fetch from ${url} failed (${trigger}): ${error.message}; ${held}, next try at ${retryAt.toISOString()}`,
        ],
      ];
    }
    case 'keySkipped': {
      const { url, kid, index, reason } = event;
      return [
        'warn',
        [
          { event: 'keySkipped', url, kid, index, reason },
          `grpc-jwt-auth: key ${kid === undefined ? `#${index}` : describeForLog(kid)} of ${url} skipped: ${reason}`,
        ],
      ];
    }
    case 'rotated': {
      const { url, added, removed } = event;
      return ['info', [{ event: 'rotated', url, added, removed }, `grpc-jwt-auth: keys of ${url} changed: ${added.length} added, ${removed.length} removed`]];
    }
    default: {
      const { document, url, trigger, keyCount, maxAge } = event;
      return ['debug', [{ event: 'fetched', document, url, trigger, keyCount, maxAge }, `grpc-jwt-auth: ${document} fetched from ${url} (${trigger})`]];
    }
  }
}

/**
 * One subscription per logger and resolver, however many interceptors (one per server, or several
 * issuers of one interceptor) share them: each event is logged once. The last holder to close unsubscribes.
 */
const KEY_LOGS = new WeakMap<Logger, WeakMap<KeyResolver, { holders: number; unsubscribe: () => void }>>();

/**
 * Writes the key resolvers' events to the logger, so a key set that cannot be fetched, or keys the
 * provider publishes that are skipped, show up without an `onEvent` hook: failed fetches and skipped
 * keys at `warn`, rotations at `info`, successful fetches at `debug`. Returns the function that stops
 * listening (the interceptor's `close()`). Resolvers without `subscribe` (custom ones) are passed over.
 *
 * @example
 * ```ts
 * import { fromJwks } from 'grpc-jwt-auth';
 * const stop = logKeyEvents(console, [fromJwks('https://idp.example/jwks.json')]);
 * // on shutdown:
 * stop();
 * ```
 */
export function logKeyEvents(logger: Logger | undefined, resolvers: readonly KeyResolver[]): () => void {
  if (logger === undefined) return () => undefined;
  let byResolver = KEY_LOGS.get(logger);
  if (byResolver === undefined) {
    byResolver = new WeakMap();
    KEY_LOGS.set(logger, byResolver);
  }
  const releases: Array<() => void> = [];
  for (const keys of new Set(resolvers)) {
    if (typeof keys.subscribe !== 'function') continue;
    let shared = byResolver.get(keys);
    if (shared === undefined) {
      let unsubscribe: () => void;
      try {
        unsubscribe = keys.subscribe((event) => {
          const [level, entry] = keyEventEntry(event);
          writeLog(logger, level, () => entry);
        });
      } catch {
        // A custom resolver whose subscribe fails: its events cannot be heard, calls are not affected.
        continue;
      }
      shared = { holders: 0, unsubscribe };
      byResolver.set(keys, shared);
    }
    shared.holders += 1;
    const held = shared;
    const listeners = byResolver;
    releases.push(() => {
      held.holders -= 1;
      if (held.holders > 0) return;
      listeners.delete(keys);
      held.unsubscribe();
    });
  }
  // splice: a second close() releases nothing twice.
  return () => {
    for (const release of releases.splice(0)) release();
  };
}

/** What one revocation-store event says, at which level. Ids only (issuer, kind), never a token. */
function revocationEventEntry(event: RevocationEvent, source: string): [LogLevel, LogEntry] | undefined {
  switch (event.type) {
    case 'failed':
      return [
        'warn',
        [
          { event: 'revocationsFailed', source, error: event.error, staleUntil: event.staleUntil },
          `grpc-jwt-auth: revocation store ${source} did not answer: ${event.error}; the last list is enforced${event.staleUntil ? ` until ${event.staleUntil.toISOString()}, then calls are refused` : ''}`,
        ],
      ];
    case 'reseeded':
      return [
        'warn',
        [
          { event: 'revocationsReseeded', source, entries: event.entries },
          `grpc-jwt-auth: revocation store ${source} was found empty (wiped or restarted without persistence); ${event.entries} entries written back from this process`,
        ],
      ];
    case 'cleared':
      return ['warn', [{ event: 'revocationsCleared', source }, `grpc-jwt-auth: every revocation in ${source} was removed`]];
    case 'synced':
      return [
        event.reason === 'start' ? 'debug' : 'info',
        [
          { event: 'revocationsSynced', source, reason: event.reason, entries: event.entries, ms: event.ms },
          `grpc-jwt-auth: revocation list of ${source} loaded (${event.reason}): ${event.entries} entries in ${Math.round(event.ms)} ms`,
        ],
      ];
    default:
      return undefined; // revoked / unrevoked: one per entry, too many for a log; events and status tell them
  }
}

/**
 * Writes a revocation store's events to the logger: a store that stops answering and a wiped one at
 * `warn`, re-syncs at `info`. Returns the function that stops listening. A store without `subscribe`, or
 * whose `subscribe` throws, is passed over.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore } from 'grpc-jwt-auth';
 * const stop = logRevocationEvents(console, createMemoryRevocationStore());
 * stop();
 * ```
 */
export function logRevocationEvents(logger: Logger | undefined, store: RevocationStore): () => void {
  if (logger === undefined || typeof store.subscribe !== 'function') return () => undefined;
  // A status() that throws or names nothing leaves the generic name; the events are still logged.
  const source = namedSource(store) ?? 'revocations';
  try {
    const stop = store.subscribe((event: RevocationEvent) => {
      const entry = isRecord(event) ? revocationEventEntry(event, source) : undefined;
      if (entry !== undefined) writeLog(logger, entry[0], () => entry[1]);
    });
    return typeof stop === 'function' ? () => stop() : () => undefined;
  } catch {
    return () => undefined;
  }
}

/**
 * Where a revocation store's list comes from, for the creation line: `memory`, or the store's
 * `status().source` (the Redis store's shows its URL with the password redacted). A store of your own
 * may answer anything: a `source` getter that throws must not stop a server from starting, and a
 * non-string or a string with control characters must not reach the log raw (escaped, cut short).
 * Reads only the store, never `auth.status()`, whose key resolvers of your own may throw as well.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore } from 'grpc-jwt-auth';
 * revocationsSource(createMemoryRevocationStore()); // 'memory'
 * ```
 */
export function revocationsSource(store: RevocationStore): string {
  if (typeof readSafely(() => store.status) !== 'function') return 'a store without status()';
  if (revocationsStatusOf(store) === undefined) return 'a store whose status() failed or answered no status';
  return namedSource(store) ?? 'a store whose status() names no source';
}

/**
 * The source a store's status() names, escaped and cut at 200 characters; undefined when it names none.
 * Not described otherwise: a junk value is the store's own data, not ours to copy into logs.
 */
function namedSource(store: RevocationStore): string | undefined {
  const source: unknown = readSafely(() => revocationsStatusOf(store)?.source);
  if (typeof source !== 'string') return undefined;
  return escapeForTerminal(source.length > 200 ? `${source.slice(0, 200)}…` : source);
}

/** Issuers whose tokens are accepted for any audience: none given for them, nor at the top level. */
function withoutAudience(options: AuthenticatorOptions): string[] {
  if (options.issuers === undefined) return options.audience === undefined ? [String(options.issuer ?? 'the issuer')] : [];
  if (options.audience !== undefined) return [];
  return options.issuers.filter((entry) => entry.audience === undefined).map((entry) => entry.issuer);
}

/**
 * What the interceptor logs once it is created: an `info` line (where tokens are read, the issuers, the
 * bound, where revocations come from) and a `warn` for each check left off that a production setup wants. Never a secret: issuers,
 * option names and counts only.
 *
 * @example
 * ```ts
 * logConfiguration(console, { keys, algorithms: ['ES256'], issuer: 'https://idp.example/' }, { tokenFrom: 'authorization metadata', maxConcurrentVerifications: 64, revocations: 'memory' });
 * // warn: no audience configured ...
 * ```
 */
export function logConfiguration(
  logger: Logger | undefined,
  options: AuthenticatorOptions,
  facts: {
    readonly tokenFrom: string;
    readonly maxConcurrentVerifications: number;
    /** Where revocations come from: `memory` (this process only) or the store's source, password redacted. */
    readonly revocations: string;
    /** With `dpop`: the origins proofs may name, their algorithms, whether nonces are on and where jtis go. */
    readonly dpop?: {
      readonly origins: readonly string[];
      readonly algorithms: readonly string[];
      readonly nonces: boolean;
      readonly replayStore: 'memory' | 'custom';
    };
  },
): void {
  if (logger === undefined) return;
  const issuers = options.issuers?.map((entry) => entry.issuer) ?? (options.issuer === undefined ? [] : [options.issuer].flat());
  const algorithms = [...new Set(options.algorithms ?? options.issuers?.flatMap((entry) => entry.algorithms))];
  writeLog(logger, 'info', () => [{ ...facts, issuers, algorithms }, 'grpc-jwt-auth: interceptor created']);
  for (const issuer of withoutAudience(options)) {
    writeLog(logger, 'warn', () => [
      { option: 'audience', issuer },
      `grpc-jwt-auth: no audience configured for ${issuer}: tokens it issued for any other service are accepted here (set audience)`,
    ]);
  }
  if (options.issuers === undefined && options.issuer === undefined) {
    writeLog(logger, 'warn', () => [{ option: 'issuer' }, 'grpc-jwt-auth: no issuer configured: the iss claim is not checked (set issuer)']);
  }
}
