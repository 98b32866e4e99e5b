/**
 * The verification keys named on the command line (`--jwks`, `--issuer-url`, `--secret`, `--secret-file`,
 * `--pem`), built with the library's own resolvers, plus what a diagnosis needs to know about them: the
 * key ids on offer, keys that were skipped and why, the last fetch failure.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { fromIssuer } from '../keys/discovery.ts';
import { fetchJson } from '../keys/http-fetch.ts';
import { importJwks, type SkippedKey } from '../keys/jwk.ts';
import { fromJwks } from '../keys/jwks.ts';
import { fromPem } from '../keys/pem.ts';
import type { RemoteKeysEvent } from '../keys/remote-events.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import { fromSecret } from '../keys/secret.ts';
import { UsageError, flagError, readOptionFile, readSecretFile, stringOption, type ParsedArgs } from './args.ts';

/**
 * One key of a key set as published, for listing.
 *
 * @example
 * ```ts
 * const key: PublishedKey = { kid: 'key-1', algorithms: ['ES256'] };
 * ```
 */
export interface PublishedKey {
  readonly kid: string | undefined;
  /** What it verifies, e.g. `ES256` or `RS256, RS384, ... (RSA)`. */
  readonly algorithms: readonly string[];
}

/**
 * What a key set holds, for diagnoses.
 *
 * @example
 * ```ts
 * const listing: KeySetListing = { keys: [{ kid: 'key-1', algorithms: ['ES256'] }], skipped: [] };
 * ```
 */
export interface KeySetListing {
  readonly keys: readonly PublishedKey[];
  readonly skipped: readonly SkippedKey[];
}

/**
 * Keys from the command line.
 *
 * @example
 * ```ts
 * declare const source: KeySource;
 * const listing = await source.listing(); // the kids on offer, for a KEY_NOT_FOUND diagnosis
 * source.close();
 * ```
 */
export interface KeySource {
  readonly resolver: KeyResolver;
  /** The flag that named them, e.g. `--jwks`. */
  readonly flag: string;
  /** Where they come from, for messages: a URL, a file, `the secret given`. */
  readonly origin: string;
  /** Fetched (and refetched) from a URL, rather than given once. */
  readonly remote: boolean;
  /** The keys on offer and the skipped ones; undefined when they cannot be had. Fetches again for remote keys. */
  listing(): Promise<KeySetListing | undefined>;
  /** The last failed fetch of a remote document, e.g. `HTTP 404`. */
  readonly lastFailure: string | undefined;
  close(): void;
}

/**
 * The flags that name a key source; exactly one may be given.
 *
 * @example
 * ```ts
 * KEY_FLAGS.map((flag) => `--${flag}`).join(', '); // '--jwks, --issuer-url, --secret, --secret-file, --pem'
 * ```
 */
export const KEY_FLAGS = ['jwks', 'issuer-url', 'secret', 'secret-file', 'pem'] as const;

const FETCH_LIMITS = { timeoutMs: 5000, maxBytes: 256 * 1024 };

function listingOf(document: unknown): KeySetListing {
  const { keys, skipped } = importJwks(document);
  return { keys: keys.map((key) => ({ kid: key.kid, algorithms: [...key.algorithms] })), skipped };
}

/** Re-raises a resolver's configuration error as a usage error naming the flag. */
function built<T>(flag: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof AuthConfigError) throw flagError(flag, error);
    throw error;
  }
}

function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** A remote source (JWKS URL or issuer): events tell where the key set is and how fetches failed. */
function remoteSource(flag: string, origin: string, build: (onEvent: (event: RemoteKeysEvent) => void) => KeyResolver): KeySource {
  let jwksUrl: string | undefined;
  let lastFailure: string | undefined;
  const resolver = built(flag, () =>
    build((event) => {
      if (event.type === 'fetched' && event.document === 'jwks') jwksUrl = event.url;
      // Fetch errors usually name their URL already.
      if (event.type === 'failed') lastFailure = event.error.message.includes(event.url) ? event.error.message : `${event.url}: ${event.error.message}`;
    }),
  );
  return {
    resolver,
    flag: `--${flag}`,
    origin,
    remote: true,
    get lastFailure() {
      return lastFailure;
    },
    async listing() {
      if (jwksUrl === undefined) return undefined;
      try {
        // A second, bounded fetch of the same set, only to list it: the resolver does not expose its keys.
        return listingOf((await fetchJson(new URL(jwksUrl), FETCH_LIMITS)).body);
      } catch {
        return undefined;
      }
    },
    close: () => resolver.close?.(),
  };
}

/** Keys given once. A secret or a PEM key has no kid, so it serves every token's: only a JWKS needs listing. */
function localSource(flag: string, origin: string, resolver: KeyResolver, listing?: KeySetListing): KeySource {
  return { resolver, flag: `--${flag}`, origin, remote: false, lastFailure: undefined, listing: async () => listing, close: () => undefined };
}

/**
 * Builds the key source from the parsed flags, or returns undefined when none is given (decode only).
 * Two sources at once, unreadable files and keys the library refuses are usage errors naming the flag.
 *
 * @example
 * ```ts
 * import { parseCommandArgs } from './args.ts';
 * const { values } = parseCommandArgs(['--jwks', 'https://idp.example/jwks.json'], { jwks: { type: 'string' } }, 0);
 * const source = keySourceFromArgs(values); // remote: fetched on first use, origin 'https://idp.example/jwks.json'
 * source?.close();
 * ```
 */
export function keySourceFromArgs(values: ParsedArgs['values']): KeySource | undefined {
  const given = KEY_FLAGS.filter((flag) => values[flag] !== undefined);
  if (given.length > 1) throw new UsageError(`give one key source, not ${given.map((flag) => `--${flag}`).join(' and ')}`);
  const [flag] = given;
  if (flag === undefined) return undefined;
  const value = stringOption(values, flag) as string;
  switch (flag) {
    case 'jwks': {
      if (isUrl(value)) return remoteSource(flag, value, (onEvent) => fromJwks(value, { onEvent }));
      let document: unknown;
      try {
        document = JSON.parse(readOptionFile(value, flag));
      } catch (error) {
        if (error instanceof UsageError) throw error;
        throw new UsageError(`--jwks: ${JSON.stringify(value)} is neither an http(s) URL nor a file holding JSON`);
      }
      const resolver = built(flag, () => fromJwks(document as { keys: object[] }));
      return localSource(flag, value, resolver, listingOf(document));
    }
    case 'issuer-url':
      return remoteSource(flag, value, (onEvent) => fromIssuer(value, { onEvent }));
    case 'secret':
    case 'secret-file': {
      const secret = flag === 'secret' ? value : readSecretFile(value, flag);
      const resolver = built(flag, () => fromSecret(secret));
      return localSource(flag, flag === 'secret' ? 'the secret given' : value, resolver);
    }
    case 'pem': {
      const resolver = built(flag, () => fromPem(readOptionFile(value, flag)));
      return localSource(flag, value, resolver);
    }
  }
}
