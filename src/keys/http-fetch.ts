import { readCappedBody } from '../util/http-body.ts';

/** Limits of one {@link fetchJson} request. */
interface FetchLimits {
  /** Milliseconds for the whole exchange, headers and body. */
  readonly timeoutMs: number;
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Aborts the request early (the resolver's `close()`). */
  readonly signal?: AbortSignal;
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

function describeFailure(error: unknown, timeoutMs: number): FetchError {
  if (error instanceof FetchError) return error;
  const name = (error as Error)?.name;
  if (name === 'TimeoutError') return new FetchError(`no complete response within ${timeoutMs} ms`, { cause: error });
  if (name === 'AbortError') return new FetchError('request aborted (resolver closed)', { cause: error });
  const detail = (error as { cause?: { message?: unknown } })?.cause?.message ?? (error as Error)?.message ?? String(error);
  return new FetchError(`request failed: ${String(detail)}`, { cause: error });
}

/**
 * GETs a JSON document from an identity provider, defensively: redirects are refused (a compromised or
 * misconfigured route must not send us to keys elsewhere), the whole exchange is bounded by a timeout
 * (a provider that stalls must not hold calls or sockets forever), and the body is streamed and cut at
 * `maxBytes` (a provider, or whoever answers for it, must not exhaust our memory). Throws a
 * {@link FetchError}.
 *
 * @example
 * ```ts
 * const { body, cacheControl } = await fetchJson(new URL('https://idp.example/jwks.json'), { timeoutMs: 5000, maxBytes: 262144 });
 * ```
 */
export async function fetchJson(url: URL, limits: FetchLimits): Promise<FetchedJson> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal === undefined ? timeout : AbortSignal.any([timeout, limits.signal]);
  try {
    const response = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'application/json, application/jwk-set+json' } });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const redirect = response.status >= 300 && response.status < 400;
      throw new FetchError(redirect ? `redirect (HTTP ${response.status}) refused` : `HTTP ${response.status}`, { status: response.status });
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > limits.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new FetchError(`response body of ${declared} bytes exceeds ${limits.maxBytes} bytes`);
    }
    const bytes = await readCappedBody(response.body, limits.maxBytes);
    if (bytes === undefined) throw new FetchError(`response body exceeds ${limits.maxBytes} bytes`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (cause) {
      throw new FetchError('response body is not UTF-8', { cause });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new FetchError('response body is not JSON', { cause });
    }
    return { body, cacheControl: response.headers.get('cache-control') };
  } catch (error) {
    throw describeFailure(error, limits.timeoutMs);
  }
}
