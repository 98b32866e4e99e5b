import { toAuthError, type AuthError } from '../errors/auth-error.ts';
import type { RevocationEvent, RevocationStore } from '../stores/revocation-store.ts';

// setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days): longer waits are re-armed.
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Calls `onEnd()` once the clock passes `validUntil`, or `onEnd(error)` when the clock cannot be read
 * (it throws, or the checked clock refuses a NaN reading): the stream must end then too, since without
 * a clock nobody can tell that its token still holds (a NaN delay would otherwise re-arm forever and
 * keep the stream open). The timer is unref'd: an open stream must not keep a process alive by itself.
 * Returns a function that cancels it.
 *
 * @example
 * ```ts
 * const cancel = scheduleExpiry(Date.now() + 60_000, Date.now, (clockError) => console.warn(clockError?.code ?? 'token expired: end the stream'));
 * cancel(); // the stream ended first
 * ```
 */
export function scheduleExpiry(validUntil: number, clock: () => number, onEnd: (clockError?: AuthError) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  // Always through a timer, never synchronously: the caller has not finished admitting the call yet.
  const arm = (): void => {
    let delay: number;
    try {
      delay = validUntil - clock();
    } catch (error) {
      timer = setTimeout(() => end(toAuthError(error, 'clock failed')), 0);
      timer.unref();
      return;
    }
    timer = setTimeout(delay <= 0 ? () => end() : arm, Math.max(0, Math.min(delay, MAX_TIMER_DELAY)));
    timer.unref();
  };
  const end = (clockError?: AuthError): void => {
    timer = undefined;
    onEnd(clockError);
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}

/**
 * The open streams of one interceptor, re-checked against its `revocations` store when the list grows:
 * a stream whose token was revoked while it is open is ended, as a new call with that token would be
 * refused. Subscribed to the store only while some stream is open (a store shared by several
 * interceptors collects no listener of an idle one); a re-check pass runs once per turn of the event
 * loop however many revocations arrived, never inside the store's `revoke()` (which may have been called
 * from the very handler whose stream it ends). O(open streams) per pass.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore } from '../stores/memory-revocation-store.ts';
 * const streams = new StreamRevocations(createMemoryRevocationStore());
 * const stop = streams.watch(() => console.log('re-check this stream'));
 * stop(); // the stream ended
 * streams.close();
 * ```
 */
export class StreamRevocations {
  readonly #store: RevocationStore;
  readonly #rechecks = new Set<{ readonly recheck: () => void }>();
  #unsubscribe: (() => void) | undefined;
  #scheduled = false;
  #closed = false;

  constructor(store: RevocationStore) {
    this.#store = store;
  }

  /** Re-checks `recheck` after each growth of the list until the function returned is called. */
  watch(recheck: () => void): () => void {
    if (this.#closed || typeof this.#store.subscribe !== 'function') return noop;
    const watched = { recheck };
    this.#rechecks.add(watched);
    if (this.#unsubscribe === undefined) this.#subscribe();
    return () => {
      this.#rechecks.delete(watched);
      if (this.#rechecks.size === 0) this.#stopListening();
    };
  }

  /** Stops listening (the interceptor is closed); streams still open are no longer re-checked. */
  close(): void {
    this.#closed = true;
    this.#rechecks.clear();
    this.#stopListening();
  }

  #subscribe(): void {
    try {
      const unsubscribe: unknown = this.#store.subscribe?.((event) => this.#heard(event));
      this.#unsubscribe = typeof unsubscribe === 'function' ? (unsubscribe as () => void) : noop;
    } catch {
      // A store of your own whose subscribe() throws: its streams are checked at admission only.
      this.#unsubscribe = noop;
    }
  }

  #stopListening(): void {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    try {
      unsubscribe?.();
    } catch {
      // Nothing to do: the listener only schedules re-checks of streams that are gone.
    }
  }

  #heard(event: RevocationEvent): void {
    // Only a longer list can end a stream: 'revoked', or a re-sync that may bring revocations missed
    // meanwhile. A store of your own may emit anything (undefined, a throwing getter): this listener must
    // never throw into its emitter, and an event it cannot read may be a revocation, so it re-checks.
    let type: unknown;
    try {
      type = (event as Partial<RevocationEvent> | null | undefined)?.type;
    } catch {
      type = undefined;
    }
    if (type === 'unrevoked' || type === 'cleared' || type === 'failed' || type === 'reseeded') return;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (const watched of [...this.#rechecks]) if (this.#rechecks.has(watched)) watched.recheck();
    });
  }
}

function noop(): void {
  // Nothing to stop.
}
