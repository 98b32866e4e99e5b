/**
 * What started a fetch of a remote document.
 *
 * @example
 * ```ts
 * import { fromJwks, type FetchTrigger } from 'grpc-jwt-auth';
 * const unplanned: readonly FetchTrigger[] = ['expired', 'unknown-kid', 'retry'];
 * const keys = fromJwks('https://idp.example/jwks.json', {
 *   onEvent: (event) => {
 *     if (event.type === 'fetched' && unplanned.includes(event.trigger)) console.info(`keys fetched (${event.trigger})`);
 *   },
 * });
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
 * What a remote key resolver ({@link fromJwks} with a URL, {@link fromIssuer}) reports for logs and
 * metrics, through its `onEvent` option. `type` tells the four kinds apart; `document` is `'jwks'` for the
 * key set and `'discovery'` for an issuer's metadata document.
 *
 * @example
 * ```ts
 * import { fromIssuer, type RemoteKeysEvent } from 'grpc-jwt-auth';
 * const log = (event: RemoteKeysEvent): void => {
 *   switch (event.type) {
 *     case 'fetched':
 *       return console.info(`${event.document} fetched (${event.trigger}), used for ${event.maxAge} s`);
 *     case 'failed':
 *       return console.warn(`${event.url}: ${event.error.message}; held keys verify until ${event.staleUntil?.toISOString() ?? 'never (none held)'}`);
 *     case 'rotated':
 *       return console.info(`keys added ${event.added.join()}, removed ${event.removed.join()}`);
 *     case 'keySkipped':
 *       return console.warn(`key ${event.kid ?? `#${event.index}`} skipped: ${event.reason}`);
 *   }
 * };
 * const keys = fromIssuer('https://idp.example/', { onEvent: log });
 * ```
 */
export type RemoteKeysEvent =
  /** A document was fetched and accepted. */
  | {
      /** Always `'fetched'`. */
      readonly type: 'fetched';
      /** The key set, or the discovery document. */
      readonly document: 'jwks' | 'discovery';
      /** The document's URL. */
      readonly url: string;
      /** What started the fetch. */
      readonly trigger: FetchTrigger;
      /** Usable keys in the set; undefined for the discovery document. */
      readonly keyCount: number | undefined;
      /** Seconds the document is used before a refresh, after `Cache-Control` and the configured bounds. */
      readonly maxAge: number;
    }
  /** A fetch failed; keys already held go on serving until `staleUntil`. */
  | {
      /** Always `'failed'`. */
      readonly type: 'failed';
      /** The key set, or the discovery document. */
      readonly document: 'jwks' | 'discovery';
      /** The document's URL. */
      readonly url: string;
      /** What started the fetch. */
      readonly trigger: FetchTrigger;
      /** What went wrong (a network, HTTP, size or timeout failure, or a shape check of the document). */
      readonly error: Error;
      /** Until when held keys still verify; undefined when none are held. */
      readonly staleUntil: Date | undefined;
      /** No new fetch is attempted before then. */
      readonly retryAt: Date;
    }
  /** A fetched key set differs from the one before: keys were added or removed. */
  | {
      /** Always `'rotated'`. */
      readonly type: 'rotated';
      /** Always the key set. */
      readonly document: 'jwks';
      /** The key set's URL. */
      readonly url: string;
      /** `kid`s of added keys (`undefined` for a key published without one). */
      readonly added: readonly (string | undefined)[];
      /** `kid`s of removed keys. */
      readonly removed: readonly (string | undefined)[];
    }
  /** A key of a fetched set was not taken (e.g. `use: "enc"`, RSA under 2048 bits); the others were. */
  | {
      /** Always `'keySkipped'`. */
      readonly type: 'keySkipped';
      /** Always the key set. */
      readonly document: 'jwks';
      /** The key set's URL. */
      readonly url: string;
      /** The key's `kid`, when it had a string one. */
      readonly kid: string | undefined;
      /** Position in the set's `keys` array. */
      readonly index: number;
      /** Why it was skipped, e.g. `use is "enc", not "sig"`. */
      readonly reason: string;
    };
