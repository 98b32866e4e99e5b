/**
 * Bounding a Map that keeps insertion (or recency) order: the oldest entries go first, in batches.
 */

/** The most entries evicted beyond the excess in one batch. */
const MAX_BATCH = 1024;

/**
 * Makes room for one more entry in a Map bounded to `maxSize`: when it is full, deletes the oldest
 * entries (the first in iteration order) down to `maxSize` − 1 − 1% of `maxSize` (at most 1,024 more), through one iterator.
 * Evicting one entry per insert starts a new iterator at the Map's head each time, and that walks every
 * slot deleted since V8 last rehashed the table: a full cache of 10,000 entries paid 15 µs per insert,
 * 100,000 entries 110 µs. A batch pays the walk once per 1% of the bound. `evicted`, if given, hears
 * each entry before it goes (the token cache moves them to another segment or remembers a fingerprint).
 *
 * @example
 * ```ts
 * const recent = new Map<string, number>();
 * makeRoom(recent, 1000); // nothing to do until 1,000 entries are held
 * recent.set('kid-1', Date.now());
 * makeRoom(recent, 1, (kid) => console.log(`forgot ${kid}`)); // forgot kid-1
 * ```
 */
export function makeRoom<K, V>(map: Map<K, V>, maxSize: number, evicted?: (key: K, value: V) => void): void {
  if (map.size < maxSize) return;
  // The batch is capped: at a bound of millions, 1% would be one insert deleting 100,000 entries at once
  // (a stall of 100 ms or more on one call); 1,024 keeps each batch well under a millisecond.
  let surplus = map.size - maxSize + 1 + Math.min(MAX_BATCH, Math.floor(maxSize / 100));
  for (const key of map.keys()) {
    if (surplus <= 0) return;
    if (evicted !== undefined) evicted(key, map.get(key) as V);
    map.delete(key);
    surplus -= 1;
  }
}
