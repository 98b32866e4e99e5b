/**
 * The in-memory revocation list every store answers `match` from: a Map of entry id → entry, merged by
 * max, swept by expiry, bounded. The per-call check is at most four `Map.get`s on ids computed once per
 * verified token, and nothing at all while the list is empty.
 */
import { AuthError } from '../errors/auth-error.ts';
import { notify } from '../util/hooks.ts';
import type { MirrorEntry, TokenLookup } from './revocation-keys.ts';
import type { RevocationEntry, RevocationEvent, RevocationMatch, RevocationsState } from './revocation-store.ts';

/** A full sweep walks every entry: at most once a minute from `put`, so a busy admin costs no O(n) per revocation. */
const SWEEP_INTERVAL = 60_000;
/** When full, a sweep to make room at most once a second. */
const FULL_SWEEP_INTERVAL = 1000;

const later = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

/**
 * The entries of one store, in this process. Synchronous; no I/O. The memory store is one of these; the
 * Redis store keeps one current from Redis.
 *
 * @example
 * ```ts
 * const mirror = new RevocationMirror({ clock: Date.now, maxEntries: 1_000_000 });
 * mirror.put('["t","https://idp.example/","a1"]', { before: undefined, until: Date.now() + 60_000 });
 * ```
 */
export class RevocationMirror {
  readonly #clock: () => number;
  readonly #maxEntries: number;
  #entries = new Map<string, MirrorEntry>();
  #lastSweep: number;
  #lastFullSweep = Number.NEGATIVE_INFINITY;

  constructor(options: { readonly clock: () => number; readonly maxEntries: number }) {
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries;
    this.#lastSweep = Number.NEGATIVE_INFINITY;
  }

  /** Entries held (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry under `id`, expired or not. */
  get(id: string): MirrorEntry | undefined {
    return this.#entries.get(id);
  }

  /** Merges `entry` into `id` (later `before`, later `until` win) and returns the stored entry. Throws an AuthError ERR_AUTH_REVOCATIONS_UNAVAILABLE when a new id would pass `maxEntries` (never evicts a revocation). */
  put(id: string, entry: MirrorEntry): MirrorEntry {
    const now = this.#clock();
    if (now - this.#lastSweep >= SWEEP_INTERVAL) this.#sweep(now);
    const known = this.#entries.get(id);
    if (known === undefined) {
      if (this.#entries.size >= this.#maxEntries && now - this.#lastFullSweep >= FULL_SWEEP_INTERVAL) {
        this.#lastFullSweep = now;
        this.#sweep(now);
      }
      // Fail closed: evicting an entry would re-admit the tokens it revokes.
      if (this.#entries.size >= this.#maxEntries) {
        throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `revocation list is full (maxEntries ${this.#maxEntries} entries that have not expired)`);
      }
      const stored = Object.freeze({ before: entry.before, until: entry.until });
      this.#entries.set(id, stored);
      return stored;
    }
    // Merging by max makes revoking idempotent and commutative: two admins (or replicas) revoking the
    // same target in any order end with the same entry, and a merge never shortens a revocation.
    const merged = Object.freeze({ before: later(known.before, entry.before), until: Math.max(known.until, entry.until) });
    this.#entries.set(id, merged);
    return merged;
  }

  /** Removes `id`; true when it was there. */
  remove(id: string): boolean {
    return this.#entries.delete(id);
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries = new Map();
  }

  /** Swaps in a whole list at once (a sync); throws like `put` when it has more than `maxEntries`. */
  replace(entries: ReadonlyMap<string, MirrorEntry>): void {
    if (entries.size > this.#maxEntries) {
      throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `revocation list has ${entries.size} entries, over maxEntries ${this.#maxEntries}`);
    }
    // A copy: the caller's map may change later, and the old list answers until this very line.
    const copy = new Map<string, MirrorEntry>();
    for (const [id, entry] of entries) copy.set(id, Object.freeze({ before: entry.before, until: entry.until }));
    this.#entries = copy;
  }

  /** Every entry not yet expired, as [id, entry]. */
  live(): [string, MirrorEntry][] {
    const now = this.#clock();
    const live: [string, MirrorEntry][] = [];
    for (const [id, entry] of this.#entries) if (entry.until > now) live.push([id, entry]);
    return live;
  }

  /** The revocation matching a verified token's lookup, ignoring entries whose `until` has passed. Never throws. */
  match(lookup: TokenLookup): RevocationMatch | undefined {
    const entries = this.#entries;
    // The common case by far: nothing revoked, no lookup at all.
    if (entries.size === 0) return undefined;
    let now: number | undefined;
    for (const id of lookup.tokenIds) {
      const entry = entries.get(id);
      if (entry !== undefined && entry.until > (now ??= this.#clock())) return matched('token', lookup.issuer, entry);
    }
    if (lookup.subjectId !== undefined) {
      const entry = entries.get(lookup.subjectId);
      if (entry !== undefined && revokes(entry, lookup.issuedAt) && entry.until > (now ??= this.#clock())) return matched('subject', lookup.issuer, entry);
    }
    if (lookup.clientId !== undefined) {
      const entry = entries.get(lookup.clientId);
      if (entry !== undefined && revokes(entry, lookup.issuedAt) && entry.until > (now ?? this.#clock())) return matched('client', lookup.issuer, entry);
    }
    return undefined;
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    return this.#sweep(this.#clock());
  }

  #sweep(now: number): number {
    this.#lastSweep = now;
    let dropped = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.until <= now) {
        this.#entries.delete(id);
        dropped++;
      }
    }
    return dropped;
  }
}

/** A watermark revokes a token issued before it, and a token without `iat` (nothing proves it is newer). */
function revokes(entry: MirrorEntry, issuedAt: number | undefined): boolean {
  return entry.before !== undefined && (issuedAt === undefined || issuedAt < entry.before);
}

function matched(kind: RevocationMatch['kind'], issuer: string, entry: MirrorEntry): RevocationMatch {
  const forgetAt = new Date(entry.until);
  return Object.freeze(entry.before === undefined ? { kind, issuer, forgetAt } : { kind, issuer, before: new Date(entry.before), forgetAt });
}

/**
 * The state of a shared store's mirror at `now` (ms): `empty` before the first sync, `fresh` while the
 * last confirmation (`syncedAt`) is at most `freshFor` ms old, `stale` until `syncedAt + staleIfError`
 * seconds (the last list still enforced), `expired` after.
 *
 * @example
 * ```ts
 * mirrorState({ now: Date.now(), syncedAt: Date.now() - 5000, freshFor: 2000, staleIfError: 300 }); // 'stale'
 * ```
 */
export function mirrorState(at: {
  readonly now: number;
  readonly syncedAt: number | undefined;
  readonly freshFor: number;
  readonly staleIfError: number;
}): RevocationsState {
  if (at.syncedAt === undefined) return 'empty';
  const age = at.now - at.syncedAt;
  if (age <= at.freshFor) return 'fresh';
  return age < at.staleIfError * 1000 ? 'stale' : 'expired';
}

/**
 * The listeners of one store: `subscribe` and `emit` (frozen events; a throwing listener is isolated).
 *
 * @example
 * ```ts
 * const listeners = new RevocationListeners();
 * const stop = listeners.subscribe((event) => console.log(event.type));
 * listeners.emit({ type: 'cleared' });
 * stop();
 * ```
 */
export class RevocationListeners {
  /** One entry per subscription, so the same function subscribed twice is two subscriptions. */
  readonly #subscriptions = new Set<{ readonly listener: (event: RevocationEvent) => void }>();

  /** Whether anyone listens: a store may skip building events nobody hears. */
  get size(): number {
    return this.#subscriptions.size;
  }

  subscribe(listener: (event: RevocationEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('revocation listener must be a function (event) => void');
    const subscription = { listener };
    this.#subscriptions.add(subscription);
    return () => void this.#subscriptions.delete(subscription);
  }

  emit(event: RevocationEvent): void {
    // Each listener gets its own frozen copy (its Dates too), so one listener cannot change what the next
    // one sees; one that throws or rejects is isolated by notify().
    for (const subscription of [...this.#subscriptions]) {
      if (this.#subscriptions.has(subscription)) notify(subscription.listener, () => copyOf(event));
    }
  }
}

const copyDate = (date: Date | undefined): Date | undefined => date && new Date(date.getTime());

function copyEntry(entry: RevocationEntry): RevocationEntry {
  const target = Object.freeze({ ...entry.target });
  const forgetAt = new Date(entry.forgetAt.getTime());
  return Object.freeze(entry.before === undefined ? { target, forgetAt } : { target, before: new Date(entry.before.getTime()), forgetAt });
}

function copyOf(event: RevocationEvent): RevocationEvent {
  switch (event.type) {
    case 'revoked':
      return Object.freeze({ type: event.type, entry: copyEntry(event.entry) });
    case 'unrevoked':
      return Object.freeze({ type: event.type, target: Object.freeze({ ...event.target }) });
    case 'failed':
      return Object.freeze({ ...event, staleUntil: copyDate(event.staleUntil) });
    default:
      return Object.freeze({ ...event });
  }
}
