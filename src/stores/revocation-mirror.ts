/**
 * STUB (issue 15 phase 0): final signatures, bodies by R1. The in-memory revocation list every store
 * answers `match` from: a Map of entry id → entry, merged by max, swept by expiry, bounded.
 */
import type { MirrorEntry, TokenLookup } from './revocation-keys.ts';
import type { RevocationEvent, RevocationMatch } from './revocation-store.ts';

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
  constructor(options: { readonly clock: () => number; readonly maxEntries: number }) {
    void options;
    throw new Error('not implemented');
  }

  /** Entries held (expired ones not yet swept included). */
  get size(): number {
    throw new Error('not implemented');
  }

  /** The entry under `id`, expired or not. */
  get(id: string): MirrorEntry | undefined {
    void id;
    throw new Error('not implemented');
  }

  /** Merges `entry` into `id` (later `before`, later `until` win) and returns the stored entry. Throws an AuthError ERR_AUTH_REVOCATIONS_UNAVAILABLE when a new id would pass `maxEntries` (never evicts a revocation). */
  put(id: string, entry: MirrorEntry): MirrorEntry {
    void id;
    void entry;
    throw new Error('not implemented');
  }

  /** Removes `id`; true when it was there. */
  remove(id: string): boolean {
    void id;
    throw new Error('not implemented');
  }

  /** Removes every entry. */
  clear(): void {
    throw new Error('not implemented');
  }

  /** Swaps in a whole list at once (a sync); throws like `put` when it has more than `maxEntries`. */
  replace(entries: ReadonlyMap<string, MirrorEntry>): void {
    void entries;
    throw new Error('not implemented');
  }

  /** Every entry not yet expired, as [id, entry]. */
  live(): [string, MirrorEntry][] {
    throw new Error('not implemented');
  }

  /** The revocation matching a verified token's lookup, ignoring entries whose `until` has passed. Never throws. */
  match(lookup: TokenLookup): RevocationMatch | undefined {
    void lookup;
    throw new Error('not implemented');
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    throw new Error('not implemented');
  }
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
  subscribe(listener: (event: RevocationEvent) => void): () => void {
    void listener;
    throw new Error('not implemented');
  }

  emit(event: RevocationEvent): void {
    void event;
    throw new Error('not implemented');
  }
}
