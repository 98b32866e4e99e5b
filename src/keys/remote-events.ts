/** What started a fetch of a remote document. */
export type FetchTrigger =
  /** The first fetch, from `ready()` or the first call. */
  | 'initial'
  /** The background refresh ahead of expiry. */
  | 'refresh-ahead'
  /** A call found the keys expired (refresh ahead failed or could not run). */
  | 'expired'
  /** A token named a `kid` the key set does not have (a rotation, or a forged kid). */
  | 'unknown-kid'
  /** A background retry after a failed fetch. */
  | 'retry';

/** Which document a remote resolver fetched. */
export type RemoteDocument = 'jwks' | 'discovery';

/** A document was fetched and accepted. */
export interface FetchedEvent {
  readonly type: 'fetched';
  readonly document: RemoteDocument;
  readonly url: string;
  readonly trigger: FetchTrigger;
  /** Usable keys in the set (JWKS only). */
  readonly keyCount: number | undefined;
  /** How long the document is used before a refresh, after `Cache-Control` and the configured bounds. */
  readonly maxAgeMs: number;
}

/** A fetch failed; keys already held go on serving until `staleUntil`. */
export interface FailedEvent {
  readonly type: 'failed';
  readonly document: RemoteDocument;
  readonly url: string;
  readonly trigger: FetchTrigger;
  /** What went wrong (a `FetchError`, or a shape check of the document). */
  readonly error: Error;
  /** Epoch milliseconds until which held keys still verify; undefined when none are held. */
  readonly staleUntil: number | undefined;
  /** Epoch milliseconds before which no new fetch is attempted. */
  readonly retryAt: number;
}

/** A fetched key set differs from the one before: keys were added or removed. */
export interface RotatedEvent {
  readonly type: 'rotated';
  readonly document: 'jwks';
  readonly url: string;
  /** `kid`s of added keys (`undefined` for a key published without one). */
  readonly added: readonly (string | undefined)[];
  /** `kid`s of removed keys. */
  readonly removed: readonly (string | undefined)[];
}

/** A key of a fetched set was not taken (e.g. `use: "enc"`, RSA under 2048 bits); the others were. */
export interface KeySkippedEvent {
  readonly type: 'keySkipped';
  readonly document: 'jwks';
  readonly url: string;
  readonly kid: string | undefined;
  /** Position in the set's `keys` array. */
  readonly index: number;
  readonly reason: string;
}

/**
 * What a remote key resolver reports for logs and metrics, through the `onEvent` option.
 *
 * @example
 * ```ts
 * import { fromJwks, type RemoteKeysEvent } from 'grpc-jwt-auth';
 * const keys = fromJwks('https://idp.example/jwks.json', {
 *   onEvent: (event: RemoteKeysEvent) => {
 *     if (event.type === 'failed') console.warn(`JWKS fetch failed: ${event.error.message}`);
 *   },
 * });
 * ```
 */
export type RemoteKeysEvent = FetchedEvent | FailedEvent | RotatedEvent | KeySkippedEvent;

/** A listener for {@link RemoteKeysEvent}s. */
export type RemoteKeysListener = (event: RemoteKeysEvent) => void;

/**
 * Calls the listener; a throwing logger must never break key refresh.
 *
 * @example
 * ```ts
 * emitEvent(options.onEvent, { type: 'rotated', document: 'jwks', url, added: ['k2'], removed: [] });
 * ```
 */
export function emitEvent(listener: RemoteKeysListener | undefined, event: RemoteKeysEvent): void {
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // Swallowed on purpose: see above.
  }
}
