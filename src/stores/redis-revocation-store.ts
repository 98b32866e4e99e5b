/**
 * Revocations shared by replicas through Redis, answered from a local mirror: `match` is a map lookup,
 * Redis is never on the per-call path. The mirror is loaded by `HSCAN` chunks, kept current by the
 * changes channel (each message carries a sequence number and the entry's full state), checked by a
 * heartbeat, and re-synced after reconnects, gaps, clears and wipes. While Redis does not answer the last
 * mirror is enforced for `staleIfError` seconds; past it every check fails closed.
 */
import { checkedClock } from '../util/clock.ts';
import { randomUUID } from 'node:crypto';
import { AuthError } from '../errors/auth-error.ts';
import { backoffDelay } from '../util/backoff.ts';
import { checkOptionNames, optionNames, optionalFunction, optionalInteger, optionalSeconds } from '../util/option-checks.ts';
import { closeConnection, connectionSettings, failureText, openConnection, untilReady, withDeadline, type RedisConnectionOptions } from './redis-client.ts';
import { DEFAULT_MAX_TOKEN_LIFETIME, RevocationWriter } from './redis-revocation-admin.ts';
import { isClearEpoch, parseChange, type RevocationChange } from './redis-scripts.ts';
import {
  entryIdOf,
  entryOfRevocation,
  matchLookup,
  matchToken,
  publicEntry,
  revocationsUnavailable,
  targetOfEntryId,
  type LookupMatcher,
  type MirrorEntry,
  type TokenLookup,
} from './revocation-keys.ts';
import { RevocationListeners, RevocationMirror, mirrorState } from './revocation-mirror.ts';
import type { RevocableToken, RevocationEntry, RevocationEvent, RevocationsState, RevocationsStatus, RevocationStore } from './revocation-store.ts';

/**
 * Options of {@link createRedisRevocationStore}: where Redis is ({@link RedisConnectionOptions}) and how
 * the local mirror is kept.
 *
 * @example
 * ```ts
 * import { createRedisRevocationStore, type RedisRevocationStoreOptions } from 'grpc-jwt-auth';
 * const options: RedisRevocationStoreOptions = { url: 'redis://redis.internal:6379', staleIfError: 120 };
 * const revocations = createRedisRevocationStore(options);
 * ```
 */
export interface RedisRevocationStoreOptions extends RedisConnectionOptions {
  /** Seconds between heartbeats (a PING and a sequence check), 0.1 to 60; default 1. A hung Redis is noticed by these. */
  readonly heartbeat?: number;
  /**
   * Seconds the last synced mirror is still enforced while Redis does not answer (other tokens admitted),
   * 0 to 86,400; default 300. Past it every call with a token is refused with UNAVAILABLE
   * `ERR_AUTH_REVOCATIONS_UNAVAILABLE` until a sync succeeds. 0 fails closed at the first missed heartbeat.
   */
  readonly staleIfError?: number;
  /** As {@link MemoryRevocationStoreOptions.maxTokenLifetime}: seconds, 60 to 31,536,000; default 86,400. */
  readonly maxTokenLifetime?: number;
  /** Most entries held in the mirror (a count, 1 to 100,000,000; default 1,000,000); a bigger list fails the sync (fail closed), never truncated. */
  readonly maxEntries?: number;
  /** The clock, in milliseconds since the epoch; default `Date.now`. */
  readonly clock?: () => number;
  /** Called with each event (as `subscribe` listeners are). */
  readonly onEvent?: (event: RevocationEvent) => void;
}

const OPTION_NAMES = optionNames<RedisRevocationStoreOptions>({
  url: true,
  client: true,
  prefix: true,
  timeout: true,
  heartbeat: true,
  staleIfError: true,
  maxTokenLifetime: true,
  maxEntries: true,
  clock: true,
  onEvent: true,
});
const DEFAULT_TIMEOUT = 2;
const DEFAULT_HEARTBEAT = 1;
/** Revocation is an emergency lever: five minutes of a partitioned replica ignoring new revocations is the most accepted by default. */
const DEFAULT_STALE_IF_ERROR = 300;
const DEFAULT_MAX_ENTRIES = 1_000_000;
/** Expired entries are removed from Redis (by every replica: idempotent) and from the mirror this often. */
const SWEEP_INTERVAL_MS = 60_000;
/** Sync retries: 100 ms doubling to 5 s, like the reconnects. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

type SyncReason = 'start' | 'reconnect' | 'gap' | 'epoch';

/**
 * A {@link RevocationStore} shared by replicas through Redis (or Valkey), with a local mirror in each
 * process: `match` is a map lookup; Redis is never on the per-call path. Changes reach every replica by
 * pub/sub (median under a millisecond on loopback); reconnects, gaps and wiped Redis servers re-sync by
 * themselves. Needs the `redis` package (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, createRedisRevocationStore } from 'grpc-jwt-auth';
 * const revocations = createRedisRevocationStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], revocations });
 * await auth.ready(); // keys fetched and the revocation list loaded
 * ```
 */
export function createRedisRevocationStore(options: RedisRevocationStoreOptions): Required<RevocationStore> {
  return openRedisRevocationStore(options);
}

/** The store with the fast path of the library's own stores (`matchLookup`, from a lookup kept in the token cache). */
function openRedisRevocationStore(options: RedisRevocationStoreOptions): Required<RevocationStore> & LookupMatcher {
  checkOptionNames(options as unknown, OPTION_NAMES);
  const settings = connectionSettings(options, DEFAULT_TIMEOUT);
  const heartbeatMs = (optionalSeconds(options.heartbeat, 'heartbeat', 0.1, 60) ?? DEFAULT_HEARTBEAT) * 1000;
  const staleIfErrorMs = (optionalSeconds(options.staleIfError, 'staleIfError', 0, 86_400) ?? DEFAULT_STALE_IF_ERROR) * 1000;
  const maxTokenLifetime = optionalSeconds(options.maxTokenLifetime, 'maxTokenLifetime', 60, 31_536_000) ?? DEFAULT_MAX_TOKEN_LIFETIME;
  const maxEntries = optionalInteger(options.maxEntries, 'maxEntries', 1, 100_000_000) ?? DEFAULT_MAX_ENTRIES;
  const clock = optionalFunction<() => number>(options.clock, 'clock', 'a function returning milliseconds since the epoch') ?? Date.now;
  const onEvent = optionalFunction<(event: RevocationEvent) => void>(options.onEvent, 'onEvent');

  // Matching reads the clock through the authenticator's check: a NaN reading would make every entry look
  // expired (until > NaN is false) and admit revoked tokens; a checked one refuses the call instead.
  const mirror = new RevocationMirror({ clock: checkedClock(options.clock), maxEntries });
  const listeners = new RevocationListeners();
  if (onEvent !== undefined) listeners.subscribe(onEvent);

  /** The last instant the mirror was confirmed current (a sync, or a heartbeat with no lag). */
  let syncedAt: number | undefined;
  let loaded = false;
  /** Since the last confirmation, something failed: the mirror is no longer `fresh`. */
  let failing = false;
  let lastError: string | undefined;
  let retryAt: number | undefined;
  let nextBeatAt: number | undefined;
  let epoch = '';
  let lastSeq = 0;
  let syncing = false;
  /** Another sync was asked for while one ran: it runs right after. */
  let syncAgain: SyncReason | undefined;
  /** Changes received while a sync loads: applied after the swap, those after the loaded sequence. */
  let buffered: RevocationChange[] | undefined;
  let subscribed = false;
  let syncFailures = 0;
  /** The epoch of a re-seed of ours whose write-back was not acknowledged in full. */
  let unfinishedSeed: string | undefined;
  /**
   * The remote sequence the last heartbeat found ahead of ours: every change up to it was published
   * before that beat, so by the next beat it must have arrived, or it was lost on a live socket.
   */
  let remoteAhead: number | undefined;
  let beating = false;
  /** A heartbeat's commands have not settled yet (a hung Redis holds them). */
  let unanswered = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const waiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>();

  const noteConnectionError = (error: Error): void => {
    lastError = failureText(error, settings.url);
  };
  const command = openConnection(settings, noteConnectionError);
  const subscriber = openConnection(settings, noteConnectionError);
  const writer = new RevocationWriter(command, settings);

  function unavailable(message: string): AuthError {
    return revocationsUnavailable(`redis revocations (${settings.source}): ${message}`);
  }

  function staleUntil(): number | undefined {
    return syncedAt === undefined ? undefined : syncedAt + staleIfErrorMs;
  }

  /** Fresh while confirmed within two heartbeats; a failure seen since makes it stale at once (not two beats later). */
  function state(): RevocationsState {
    if (!loaded) return 'empty';
    const now = clock();
    const base = mirrorState({ now, syncedAt, freshFor: 2 * heartbeatMs, staleIfError: staleIfErrorMs / 1000 });
    if (base !== 'fresh' || !failing) return base;
    return now < (staleUntil() ?? 0) ? 'stale' : 'expired';
  }

  function confirm(): void {
    syncedAt = clock();
    failing = false;
    lastError = undefined;
    retryAt = undefined;
  }

  function noteFailure(error: unknown): void {
    lastError = failureText(error, settings.url);
    if (failing) return;
    // One event per run of failures: the interceptor logs it, and a dead Redis must not log every second.
    failing = true;
    listeners.emit({ type: 'failed', error: lastError, staleUntil: loaded && staleUntil() !== undefined ? new Date(staleUntil() ?? 0) : undefined });
  }

  function emitSet(id: string, entry: MirrorEntry): void {
    const listed = publicEntry(id, entry);
    if (listed !== undefined) listeners.emit({ type: 'revoked', entry: listed });
  }

  function emitRemoved(id: string): void {
    const target = targetOfEntryId(id);
    if (target !== undefined) listeners.emit({ type: 'unrevoked', target });
  }

  /** Puts an entry (a local write or a message) and reports it, once: an echo of what is held already is silent. */
  function applySet(id: string, entry: MirrorEntry): void {
    const held = mirror.get(id);
    if (held !== undefined && held.until === entry.until && held.before === entry.before) return;
    emitSet(id, mirror.put(id, entry));
  }

  function applyRemove(id: string): void {
    if (mirror.remove(id)) emitRemoved(id);
  }

  /** A live change: applied when it is the next one of our epoch; anything else means we missed something. */
  function onChange(change: RevocationChange): void {
    if (change.op === 'clear') {
      // A clear brings a new epoch, so no epoch can vouch for it: applied from the message, a forged one
      // (`{"op":"clear"}` with the next sequence) would empty the mirror and admit every revoked token.
      // The list is read back from Redis instead; the old mirror answers until then.
      if (change.epoch === epoch && change.seq <= lastSeq) return; // already part of the loaded list
      return requestSync('epoch');
    }
    if (change.epoch !== epoch) return requestSync('epoch');
    if (change.seq <= lastSeq) return; // already part of the loaded list
    if (change.seq !== lastSeq + 1) return requestSync('gap');
    try {
      if (change.op === 'set') applySet(change.id, change.entry);
      else applyRemove(change.id);
      lastSeq = change.seq;
    } catch (error) {
      // maxEntries: the mirror cannot hold the list. The sequence stays behind, so no heartbeat confirms
      // this mirror: it goes stale, then expired (fail closed), rather than silently miss a revocation.
      noteFailure(error);
      requestSync('gap');
    }
  }

  /** Whether the mirror holds what a change says (or a later merge of it): then it was loaded already. */
  function reflected(change: Exclude<RevocationChange, { op: 'clear' }>): boolean {
    const held = mirror.get(change.id);
    if (change.op === 'del') return held === undefined;
    const { before, until } = change.entry;
    return held !== undefined && held.until >= until && (before === undefined || (held.before !== undefined && held.before >= before));
  }

  function onMessage(message: string): void {
    if (closed) return;
    const change = parseChange(message);
    if (buffered !== undefined) {
      if (change === undefined) syncAgain ??= 'gap';
      else buffered.push(change);
      return;
    }
    if (!loaded) return; // the first sync is coming
    if (change === undefined) return requestSync('gap');
    // A live change at or below our sequence that the mirror does not reflect: Redis went back (a
    // failover lost writes) and new changes re-used the numbers. Dropped as "already loaded", they were
    // never enforced, and a heartbeat finding the sequence back where we left it saw no gap.
    if (change.op !== 'clear' && change.epoch === epoch && change.seq <= lastSeq && !reflected(change)) return requestSync('gap');
    onChange(change);
  }

  function requestSync(reason: SyncReason): void {
    if (closed) return;
    if (syncing) {
      syncAgain ??= reason;
      return;
    }
    void runSync(reason);
  }

  async function connectedWithin(): Promise<void> {
    const [commandUp, subscriberUp] = await Promise.all([untilReady(command, settings.timeoutMs), untilReady(subscriber, settings.timeoutMs)]);
    if (!commandUp || !subscriberUp) throw unavailable(`not connected within ${settings.timeoutMs} ms${lastError === undefined ? '' : `: ${lastError}`}`);
  }

  /**
   * The list was wiped: give it an epoch (first replica wins) and write our entries back; or join the
   * re-seed epoch another replica already set (`join`).
   */
  async function reseed(join?: string): Promise<number> {
    // Written back under the epoch read in the same script as the SET NX: an admin clear landing during
    // the write-back changes the epoch, and the rest of the write-back is refused by Redis (a clear
    // must never be undone by a re-seed).
    const seeded = join ?? (await writer.createEpoch(randomUUID()));
    // Until the whole write-back is acknowledged, the list under this epoch may be a fragment (the
    // connection dropped half way): the next sync writes back again rather than adopt it.
    unfinishedSeed = seeded;
    const live = mirror.live();
    await Promise.all(live.map(([id, entry]) => writer.writeBack(id, entry, seeded)));
    unfinishedSeed = undefined;
    return live.length;
  }

  async function runSync(reason: SyncReason): Promise<void> {
    syncing = true;
    buffered = [];
    const started = performance.now();
    try {
      await connectedWithin();
      if (!subscribed) {
        // node-redis resubscribes by itself after each reconnect, before `ready`.
        await withDeadline(subscriber.subscribe(writer.names.channel, onMessage), settings.timeoutMs, 'SUBSCRIBE');
        subscribed = true;
      }
      let head = await writer.head();
      let reseeded = 0;
      if (head.epoch !== unfinishedSeed) unfinishedSeed = undefined; // cleared or wiped since: nothing of ours to finish
      if (head.epoch === '' || head.epoch === unfinishedSeed) {
        reseeded = await reseed();
        head = await writer.head();
      } else if (loaded && head.epoch !== epoch && !isClearEpoch(head.epoch)) {
        // Wiped, and re-seeded by another replica before we noticed: maybe one that had nothing to write
        // back (it had just started). Adopting its list would drop every revocation we hold: ours are
        // merged in too. Only a clear's epoch means "adopt the empty list".
        reseeded = await reseed(head.epoch);
        head = await writer.head();
      }
      const now = clock();
      const next = new Map<string, MirrorEntry>();
      await writer.scan((id, entry) => {
        if (entry.until <= now) return;
        if (next.size >= maxEntries) throw unavailable(`the list has more than maxEntries (${maxEntries}) entries; not loaded`);
        next.set(id, entry);
      });
      // HSCAN is no snapshot: a wipe (FLUSHALL, a failover to an empty replica) or a clear during the scan
      // leaves `next` a fragment of a list that no longer exists. Adopted, it would also be all a re-seed
      // writes back: every revocation not yet read would be lost. Not adopted: read again (the old
      // mirror keeps answering, and is what a re-seed writes back).
      if ((await writer.head()).epoch !== head.epoch) throw unavailable('the list was wiped or cleared while it was read; reading again');
      if (closed) return;
      const previous = loaded ? new Map(mirror.live()) : undefined;
      // A clear is read back by a sync (its message is not trusted): reported as one `cleared`, as before.
      const cleared = previous !== undefined && previous.size > 0 && next.size === 0 && reseeded === 0 && head.epoch !== epoch;
      mirror.replace(next);
      epoch = head.epoch;
      lastSeq = head.seq;
      remoteAhead = undefined;
      loaded = true;
      confirm();
      syncFailures = 0;
      if (cleared) listeners.emit({ type: 'cleared' });
      else if (previous !== undefined) reportDifferences(previous, next);
      const pending = buffered;
      buffered = undefined;
      for (const change of pending) onChange(change);
      if (reseeded > 0) listeners.emit({ type: 'reseeded', entries: reseeded });
      listeners.emit({ type: 'synced', entries: mirror.size, ms: Math.round(performance.now() - started), reason });
      for (const waiter of waiters) waiter.resolve();
      waiters.clear();
    } catch (error) {
      buffered = undefined;
      if (closed) return;
      noteFailure(error);
      for (const waiter of waiters) waiter.reject(unavailable(`not loaded: ${lastError ?? 'unknown error'}`));
      waiters.clear();
      syncFailures += 1;
      const delay = backoffDelay(syncFailures, RETRY_FIRST_MS, RETRY_MAX_MS);
      retryAt = clock() + delay;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => requestSync(reason), delay);
      retryTimer.unref();
    } finally {
      syncing = false;
      const again = syncAgain;
      syncAgain = undefined;
      if (again !== undefined && !closed && retryAt === undefined) requestSync(again);
    }
  }

  /** After a re-sync, what changed while we were not listening is reported like a live change (open streams end on `revoked`). */
  function reportDifferences(previous: ReadonlyMap<string, MirrorEntry>, next: ReadonlyMap<string, MirrorEntry>): void {
    for (const [id, entry] of next) {
      const held = previous.get(id);
      if (held === undefined || held.until !== entry.until || held.before !== entry.before) emitSet(id, entry);
    }
    for (const id of previous.keys()) if (!next.has(id)) emitRemoved(id);
  }

  /** Notices what node-redis does not: a hung Redis (its sockets stay open) and a message lost on a live socket. */
  async function beat(): Promise<void> {
    nextBeatAt = clock() + heartbeatMs;
    // A sync that failed is retried on its own schedule; only its success confirms the mirror again.
    if (closed || beating || syncing || !loaded || retryAt !== undefined) return;
    if (unanswered) {
      // The last heartbeat's commands are still queued on a hung socket: adding more would only grow
      // the queue a resumed Redis must answer.
      noteFailure(new Error('redis has not answered the previous heartbeat'));
      return;
    }
    beating = true;
    try {
      const seqAtSend = lastSeq;
      const ping = subscriber.sendCommand(['PING']);
      const head = writer.head();
      unanswered = true;
      void Promise.allSettled([ping, head]).then(() => (unanswered = false));
      const [, current] = await Promise.all([withDeadline(ping, settings.timeoutMs, 'PING'), head]);
      if (closed) return;
      if (current.epoch !== epoch) return requestSync('epoch');
      // The head reply and the change messages come on two connections: changes published after the
      // head was read may already be applied (lastSeq above current.seq), and changes it counts may still
      // be in flight (below). Neither is a gap; a full re-sync for them cost whole seconds of reloading
      // under a steady stream of revocations. A gap is what that cannot explain:
      if (current.seq < seqAtSend) return requestSync('gap'); // Redis went backwards (a failover lost writes)
      if (remoteAhead !== undefined && lastSeq < remoteAhead) return requestSync('gap'); // a change older than a beat never came
      remoteAhead = current.seq > lastSeq ? current.seq : undefined;
      confirm();
    } catch (error) {
      noteFailure(error);
    } finally {
      beating = false;
    }
  }

  async function sweep(): Promise<void> {
    mirror.sweep();
    if (closed || !command.isReady) return;
    try {
      await writer.sweep(clock());
    } catch {
      // Another replica sweeps too; the heartbeat reports a Redis that does not answer.
    }
  }

  const heartbeatTimer = setInterval(() => void beat(), heartbeatMs);
  heartbeatTimer.unref();
  const sweepTimer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  sweepTimer.unref();
  subscriber.on('ready', () => {
    if (subscribed) requestSync(loaded ? 'reconnect' : 'start');
  });
  command.connect().catch(noteConnectionError);
  subscriber.connect().catch(noteConnectionError);
  requestSync('start');

  async function writable(): Promise<void> {
    if (closed) throw unavailable('closed');
    if (!(await untilReady(command, settings.timeoutMs)))
      throw unavailable(`not connected within ${settings.timeoutMs} ms${lastError === undefined ? '' : `: ${lastError}`}`);
  }

  const store: Required<RevocationStore> = {
    match(token: RevocableToken) {
      return matchToken(store as typeof store & LookupMatcher, token);
    },
    async revoke(revocation) {
      const [id, entry] = entryOfRevocation(revocation, clock(), maxTokenLifetime);
      await writable();
      // Applied here at once: the revoking replica does not wait for its own echo. Unless the changes
      // channel is already past this write (the reply came late): then a later change of the same entry
      // (another replica's unrevoke) may be applied already, and this stale state must not undo it.
      const written = await writer.write(id, entry);
      if (written.seq > lastSeq) applySet(id, written.entry);
    },
    async unrevoke(target) {
      const id = entryIdOf(target);
      await writable();
      const { removed, seq } = await writer.remove(id);
      // As revoke: a late reply must not remove an entry another replica has revoked again since. When
      // nothing was removed Redis did not change: neither does the mirror.
      if (removed && seq > lastSeq) applyRemove(id);
      return removed;
    },
    async entries() {
      return mirror.live().flatMap(([id, entry]) => {
        const listed = publicEntry(id, entry);
        return listed === undefined ? [] : [listed];
      }) satisfies RevocationEntry[];
    },
    ready() {
      if (loaded) return Promise.resolve();
      if (closed) return Promise.reject(unavailable('closed'));
      return new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const waiter = {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        // Not connected within the deadline: reject (the store keeps trying). A load under way is let
        // finish: each of its commands has its own deadline.
        const check = (): void => {
          if (syncing && command.isReady) {
            timer = setTimeout(check, settings.timeoutMs);
            return;
          }
          waiters.delete(waiter);
          reject(unavailable(`not loaded within ${settings.timeoutMs} ms${lastError === undefined ? '' : `: ${lastError}`}`));
        };
        timer = setTimeout(check, settings.timeoutMs);
        waiters.add(waiter);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeatTimer);
      clearInterval(sweepTimer);
      clearTimeout(retryTimer);
      for (const waiter of waiters) waiter.reject(unavailable('closed'));
      waiters.clear();
      const bound = Math.min(settings.timeoutMs, 1000);
      await Promise.all([closeConnection(command, bound), closeConnection(subscriber, bound)]);
    },
    status(): RevocationsStatus {
      const now = state();
      const until = staleUntil();
      return Object.freeze({
        source: settings.source,
        state: now,
        entries: mirror.size,
        syncedAt: syncedAt === undefined ? undefined : new Date(syncedAt),
        staleUntil: now === 'stale' && until !== undefined ? new Date(until) : undefined,
        lastError,
        nextRetry: !failing && loaded ? undefined : new Date(retryAt ?? nextBeatAt ?? clock()),
      });
    },
    subscribe(listener) {
      return listeners.subscribe(listener);
    },
  };
  // Not enumerable: a wrapper `{ ...store, match }` must be asked through its own match, not skip it by a
  // copied fast path.
  return Object.defineProperty(store, matchLookup, {
    value: (lookup: TokenLookup) => {
      const now = state();
      if (now === 'expired' || now === 'empty')
        throw unavailable(
          now === 'empty' ? 'the list is not loaded yet' : `not confirmed since ${new Date(syncedAt ?? 0).toISOString()}: ${lastError ?? 'no answer'}`,
        );
      return mirror.match(lookup);
    },
  }) as typeof store & LookupMatcher;
}
