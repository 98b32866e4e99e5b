import { AuthConfigError } from '../errors/config-error.ts';
import { errorCopy } from '../util/error-copy.ts';
import { notify } from '../util/hooks.ts';
import type { RemoteKeysEvent } from './remote-events.ts';

/**
 * A listener of a key resolver's {@link RemoteKeysEvent}s, attached with `keys.subscribe(listener)`.
 *
 * @example
 * ```ts
 * import { fromIssuer, type KeysListener } from 'grpc-jwt-auth';
 * const keys = fromIssuer('https://idp.example/');
 * const countFailures: KeysListener = (event) => {
 *   if (event.type === 'failed') console.warn(`${event.url}: ${event.error.message}`);
 * };
 * const unsubscribe = keys.subscribe(countFailures);
 * // later:
 * unsubscribe();
 * ```
 */
export type KeysListener = (event: RemoteKeysEvent) => void;

/**
 * A copy of the event no other listener can change: its Dates, lists and error are its own (the error
 * is the one `keys.status()` reports and a refusal's `cause`).
 */
function copyOf(event: RemoteKeysEvent): RemoteKeysEvent {
  switch (event.type) {
    case 'failed':
      return Object.freeze({
        ...event,
        error: errorCopy(event.error),
        staleUntil: event.staleUntil && new Date(event.staleUntil),
        retryAt: new Date(event.retryAt),
      });
    case 'rotated':
      return Object.freeze({ ...event, added: Object.freeze([...event.added]), removed: Object.freeze([...event.removed]) });
    default:
      return Object.freeze({ ...event });
  }
}

/**
 * Where a remote resolver's events go: the `onEvent` option, then every subscriber, in the order they
 * subscribed. Each gets a frozen copy of its own and runs isolated (what it throws or rejects with is
 * swallowed), so a logger, a metrics exporter and a health check can listen side by side without one
 * changing or stopping what another sees. A {@link fromIssuer} resolver shares its hub with the key set
 * it follows, so subscribers hear both documents, across a change of `jwks_uri`.
 *
 * @example
 * ```ts
 * const events = new KeyEvents((event) => console.log('onEvent', event.type));
 * const unsubscribe = events.subscribe((event) => console.log('subscriber', event.type));
 * events.emit({ type: 'fetched', document: 'jwks', url: 'https://idp.example/jwks.json', trigger: 'initial', keyCount: 2, maxAge: 300 });
 * unsubscribe();
 * ```
 */
export class KeyEvents {
  readonly #onEvent: KeysListener | undefined;
  /** One entry per subscription, so the same function subscribed twice is two subscriptions. */
  readonly #subscriptions = new Set<{ readonly listener: KeysListener }>();

  constructor(onEvent: KeysListener | undefined) {
    this.#onEvent = onEvent;
  }

  emit(event: RemoteKeysEvent): void {
    notify(this.#onEvent, () => copyOf(event));
    // A copy of the set: a listener subscribed meanwhile hears the next event. One unsubscribed meanwhile
    // (by an earlier listener) is not called any more, this event included: it may have let go of its sink.
    for (const subscription of [...this.#subscriptions]) {
      if (this.#subscriptions.has(subscription)) notify(subscription.listener, () => copyOf(event));
    }
  }

  /** Adds a listener; the function returned removes it (calling it again does nothing). */
  subscribe(listener: KeysListener): () => void {
    if (typeof listener !== 'function') throw new AuthConfigError('listener', 'expected a function (event) => void');
    const subscription = { listener };
    this.#subscriptions.add(subscription);
    return () => void this.#subscriptions.delete(subscription);
  }
}
