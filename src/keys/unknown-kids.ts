import { makeRoom } from '../util/map-eviction.ts';

/**
 * At most this many unknown kids are remembered; the oldest is forgotten first.
 *
 * @example
 * ```ts
 * const unknown = new UnknownKids();
 * for (let i = 0; i <= MAX_REMEMBERED_KIDS; i++) unknown.remember(`forged-${i}`, Date.now() + 30_000);
 * unknown.has('forged-0', Date.now()); // false: the oldest was forgotten
 * ```
 */
export const MAX_REMEMBERED_KIDS = 1000;
/**
 * Longer kids are never stored: remembering them would let tokens fill our memory with their kids.
 *
 * @example
 * ```ts
 * const unknown = new UnknownKids();
 * unknown.remember('x'.repeat(MAX_REMEMBERED_KID_LENGTH + 1), Date.now() + 30_000);
 * unknown.size; // 0: not stored
 * ```
 */
export const MAX_REMEMBERED_KID_LENGTH = 256;

/**
 * Kids recently found missing from the key set (negative cache). A token naming one is refused at once:
 * it neither triggers a refetch nor waits on one. Each entry lasts until the next refetch for an unknown
 * kid may run (the end of the cooldown), so a kid the provider publishes a little late is looked for
 * again then; any newly fetched set forgets them all. Memory is bounded in count and kid length; an
 * evicted kid merely falls back to the cooldown, which still bounds fetches.
 *
 * @example
 * ```ts
 * const unknown = new UnknownKids();
 * unknown.remember('forged', Date.now() + 30_000);
 * unknown.has('forged', Date.now()); // true for 30 s
 * ```
 */
export class UnknownKids {
  // A Map keeps insertion order: the first entry is the oldest, evicted first.
  readonly #until = new Map<string, number>();

  get size(): number {
    return this.#until.size;
  }

  has(kid: string, now: number): boolean {
    const until = this.#until.get(kid);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(kid);
    return false;
  }

  /** Remembers `kid` as unknown until `until` (epoch milliseconds). */
  remember(kid: string, until: number): void {
    if (kid.length > MAX_REMEMBERED_KID_LENGTH) return;
    this.#until.delete(kid);
    makeRoom(this.#until, MAX_REMEMBERED_KIDS);
    this.#until.set(kid, until);
  }

  /** Forgets everything: a new key set may hold any of them. */
  clear(): void {
    this.#until.clear();
  }
}
