/**
 * At most this many unknown kids are remembered; the oldest is forgotten first.
 *
 * @example
 * ```ts
 * for (let i = 0; i <= MAX_REMEMBERED_KIDS; i++) unknown.remember(`forged-${i}`, now); // forged-0 is forgotten
 * ```
 */
export const MAX_REMEMBERED_KIDS = 1000;
/**
 * Longer kids are never stored: remembering them would let tokens fill our memory with their kids.
 *
 * @example
 * ```ts
 * unknown.remember('x'.repeat(MAX_REMEMBERED_KID_LENGTH + 1), now); // not stored
 * ```
 */
export const MAX_REMEMBERED_KID_LENGTH = 256;

/**
 * Kids recently found missing from the key set (negative cache). A token naming one is refused at once:
 * it neither triggers a refetch nor waits on one. Entries expire after `ttlMs` (the cooldown), so a kid
 * the provider publishes a little late is looked for again. Memory is bounded in count and kid length;
 * an evicted kid merely falls back to the cooldown, which still bounds fetches.
 *
 * @example
 * ```ts
 * const unknown = new UnknownKids(30_000);
 * unknown.remember('forged', Date.now());
 * unknown.has('forged', Date.now()); // true for 30 s
 * ```
 */
export class UnknownKids {
  // A Map keeps insertion order: the first entry is the oldest, evicted first.
  readonly #until = new Map<string, number>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

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

  remember(kid: string, now: number): void {
    if (kid.length > MAX_REMEMBERED_KID_LENGTH) return;
    this.#until.delete(kid);
    if (this.#until.size >= MAX_REMEMBERED_KIDS) {
      const oldest = this.#until.keys().next();
      if (!oldest.done) this.#until.delete(oldest.value);
    }
    this.#until.set(kid, now + this.#ttlMs);
  }

  /** Forgets everything: a new key set may hold any of them. */
  clear(): void {
    this.#until.clear();
  }
}
