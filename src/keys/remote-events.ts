/**
 * What started a fetch of a remote document.
 *
 * @example
 * ```ts
 * onEvent: (event) => { if (event.type === 'fetched' && event.trigger === 'unknown-kid') log.info('keys refetched for a new kid'); }
 * ```
 */
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

/**
 * Which document a remote resolver fetched.
 *
 * @example
 * ```ts
 * onEvent: (event) => { if (event.type === 'failed' && event.document === 'discovery') alertDiscoveryDown(); }
 * ```
 */
export type RemoteDocument = 'jwks' | 'discovery';

/**
 * A document was fetched and accepted.
 *
 * @example
 * ```ts
 * onEvent: (event) => { if (event.type === 'fetched') metrics.gauge('jwks_keys', event.keyCount ?? 0); }
 * ```
 */
export interface FetchedEvent {
  /** Always `'fetched'`. */
  readonly type: 'fetched';
  /** The key set, or the discovery document. */
  readonly document: RemoteDocument;
  /** The document's URL. */
  readonly url: string;
  /** What started the fetch. */
  readonly trigger: FetchTrigger;
  /** Usable keys in the set (JWKS only). */
  readonly keyCount: number | undefined;
  /** How long the document is used before a refresh, after `Cache-Control` and the configured bounds. */
  readonly maxAgeMs: number;
}

/**
 * A fetch failed; keys already held go on serving until `staleUntil`.
 *
 * @example
 * ```ts
 * onEvent: (event) => { if (event.type === 'failed') log.warn(`${event.url}: ${event.error.message}; stale until ${event.staleUntil}`); }
 * ```
 */
export interface FailedEvent {
  /** Always `'failed'`. */
  readonly type: 'failed';
  /** The key set, or the discovery document. */
  readonly document: RemoteDocument;
  /** The document's URL. */
  readonly url: string;
  /** What started the fetch. */
  readonly trigger: FetchTrigger;
  /** What went wrong (a `FetchError`, or a shape check of the document). */
  readonly error: Error;
  /** Epoch milliseconds until which held keys still verify; undefined when none are held. */
  readonly staleUntil: number | undefined;
  /** Epoch milliseconds before which no new fetch is attempted. */
  readonly retryAt: number;
}

/**
 * A fetched key set differs from the one before: keys were added or removed.
 *
 * @example
 * ```ts
 * onEvent: (event) => { if (event.type === 'rotated') log.info(`keys added ${event.added.join()}, removed ${event.removed.join()}`); }
 * ```
 */
export interface RotatedEvent {
  /** Always `'rotated'`. */
  readonly type: 'rotated';
  /** Always the key set. */
  readonly document: 'jwks';
  /** The document's URL. */
  readonly url: string;
  /** `kid`s of added keys (`undefined` for a key published without one). */
  readonly added: readonly (string | undefined)[];
  /** `kid`s of removed keys. */
  readonly removed: readonly (string | undefined)[];
}

/**
 * A key of a fetched set was not taken (e.g. `use: "enc"`, RSA under 2048 bits); the others were.
 *
 * @example
 * ```ts
 * onEvent: (event) => { if (event.type === 'keySkipped') log.warn(`key ${event.kid ?? event.index} skipped: ${event.reason}`); }
 * ```
 */
export interface KeySkippedEvent {
  /** Always `'keySkipped'`. */
  readonly type: 'keySkipped';
  /** Always the key set. */
  readonly document: 'jwks';
  /** The document's URL. */
  readonly url: string;
  /** The key's `kid`, when it had a string one. */
  readonly kid: string | undefined;
  /** Position in the set's `keys` array. */
  readonly index: number;
  /** Why it was skipped, e.g. `use is "enc", not "sig"`. */
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

/**
 * A listener for {@link RemoteKeysEvent}s.
 *
 * @example
 * ```ts
 * const onEvent: RemoteKeysListener = (event) => log.info(event.type, event.url);
 * ```
 */
export type RemoteKeysListener = (event: RemoteKeysEvent) => void;
