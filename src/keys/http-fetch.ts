import { OutboundError, guardedFetch, type FetchFunction } from '../util/guarded-fetch.ts';

/** Limits of one {@link fetchJson} request. */
interface FetchLimits {
  /** Milliseconds for the whole exchange, headers and body. */
  readonly timeoutMs: number;
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Aborts the request early (the resolver's `close()`). */
  readonly signal?: AbortSignal;
  /** The user's fetch function (option `fetch`); default `globalThis.fetch`. */
  readonly fetch?: FetchFunction | undefined;
  /** Allows plain http to hosts other than loopback (option `allowInsecureHttp`). Default false. */
  readonly allowInsecureHttp?: boolean;
}

/** A JSON document as fetched. */
interface FetchedJson {
  readonly body: unknown;
  /** The `Cache-Control` response header, if any. */
  readonly cacheControl: string | null;
}

/**
 * A fetch that failed: network error, timeout, redirect, HTTP error status, oversized or non-JSON body.
 * `status` is the HTTP status when the server answered with one.
 *
 * @example
 * ```ts
 * try {
 *   await fetchJson(new URL('https://idp.example/.well-known/openid-configuration'), { timeoutMs: 5000, maxBytes: 262144 });
 * } catch (error) {
 *   if (error instanceof FetchError && error.status === 404) console.info('no OpenID Connect document; try RFC 8414');
 * }
 * ```
 */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
  }
}

/** The failure as the key resolvers report it (in `failed` events), with the HTTP status kept. */
function describeFailure(error: unknown): FetchError {
  if (!(error instanceof OutboundError)) return new FetchError('request failed', { cause: error });
  const message = error.failure === 'aborted' ? 'request aborted (resolver closed)' : error.message;
  return new FetchError(message, { ...(error.status === undefined ? {} : { status: error.status }), cause: error });
}

/**
 * GETs a JSON document from an identity provider, defensively, through the configured fetch function
 * ({@link guardedFetch}): the URL rules are checked again before the call; redirects are refused (a
 * compromised or misconfigured route must not send us to keys elsewhere), also when a custom fetch
 * follows them; the whole exchange is bounded by a timeout we enforce (a provider that stalls, or a
 * fetch that ignores its abort signal, must not hold calls or sockets forever); and the body is streamed
 * and cut at `maxBytes` (a provider, or whoever answers for it, must not exhaust our memory). Parsed
 * here, as strict UTF-8 JSON. Throws a {@link FetchError}.
 *
 * @example
 * ```ts
 * const { body, cacheControl } = await fetchJson(new URL('https://idp.example/jwks.json'), { timeoutMs: 5000, maxBytes: 262144 });
 * ```
 */
export async function fetchJson(url: URL, limits: FetchLimits): Promise<FetchedJson> {
  let answer;
  try {
    answer = await guardedFetch({
      url,
      method: 'GET',
      headers: { accept: 'application/json, application/jwk-set+json' },
      fetch: limits.fetch,
      allowInsecureHttp: limits.allowInsecureHttp ?? false,
      timeoutMs: limits.timeoutMs,
      maxBytes: limits.maxBytes,
      ...(limits.signal === undefined ? {} : { signal: limits.signal }),
      readErrorBody: false,
    });
  } catch (error) {
    throw describeFailure(error);
  }
  if (answer.status >= 300) throw new FetchError(`HTTP ${answer.status}`, { status: answer.status });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(answer.bytes);
  } catch (cause) {
    throw new FetchError('response body is not UTF-8', { cause });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new FetchError('response body is not JSON', { cause });
  }
  return { body, cacheControl: answer.cacheControl };
}
