/**
 * Every request the library makes to an identity provider (JWKS, discovery, the token endpoint) goes
 * through {@link guardedFetch}, whatever function does the HTTP: the global `fetch`, or one the user
 * passes to reach the provider through a proxy, with a client certificate or a private CA. The rules
 * that keep keys and secrets safe are enforced here, on what the function returns, never left to it.
 * Core: no grpc import.
 */
import { inspect } from 'node:util';
import { BodyShapeError, readCappedBody, type Race } from './http-body.ts';
import { isLoopbackHost } from './loopback.ts';
import { redact } from './redact.ts';
import { escapeForTerminal } from './unsafe-text.ts';

/**
 * The function that sends the library's HTTP requests (option `fetch` of `fromJwks`, `fromIssuer`,
 * `clientCredentials` and `refreshingToken`): `globalThis.fetch` by default, or any function called like
 * it, such as undici's `fetch` with a `dispatcher` for a proxy, a client certificate or a private CA.
 *
 * It gets the URL and a fresh `init` each time; pass `init` on whole (`redirect: 'manual'` and `signal`
 * included), adding what you need (headers, a dispatcher). Whatever the function does, the library still
 * checks the URL before calling it (https, or http to loopback unless `allowInsecureHttp`), refuses an
 * answer that was redirected (`redirected`, a 3xx status, or a `url` on another origin), enforces the
 * timeout itself (also when the function ignores `signal`), reads the body with its own size cap and
 * parses it itself. A function that throws, rejects or returns something else than a response fails
 * the request cleanly. A function that follows redirects itself has still sent the request (for the
 * token endpoint: the client secret) to the redirect's target before the answer is refused: keep
 * `redirect: 'manual'`.
 *
 * @example
 * ```ts
 * import { fromIssuer, type FetchFunction } from 'grpc-jwt-auth';
 * import { fetch, ProxyAgent } from 'undici';
 * const proxy = new ProxyAgent('http://proxy.corp.example:3128');
 * const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, dispatcher: proxy });
 * const keys = fromIssuer('https://idp.example/', { fetch: viaProxy });
 * ```
 */
export type FetchFunction = (
  url: URL,
  init: {
    readonly method: 'GET' | 'POST';
    /** A plain object: spread it to add headers (`{ ...init.headers, 'x-api-key': key }`). */
    readonly headers: Record<string, string>;
    /** The form body of a token request; absent for a GET. */
    readonly body?: string;
    readonly redirect: 'manual';
    /** Aborted at the timeout, and when a key resolver is closed. */
    readonly signal: AbortSignal;
  },
) => Promise<Pick<Response, 'status' | 'url' | 'redirected' | 'headers' | 'body'>>;

/**
 * Why {@link guardedFetch} failed:
 * - `url`: the URL breaks the rules (not https, and not http to loopback or allowed); nothing was sent;
 * - `aborted`: the caller's signal (a key resolver closed);
 * - `timeout`: no complete answer in time, headers and body together;
 * - `network`: the fetch function threw or rejected, or the body failed while being read;
 * - `not-a-response`: the fetch function gave something that is not an HTTP response;
 * - `redirect`: the answer is a redirect, or was redirected;
 * - `too-large`: the body is longer than allowed.
 *
 * @example
 * ```ts
 * import type { OutboundFailure } from './guarded-fetch.ts';
 * const retryable = (failure: OutboundFailure): boolean => failure !== 'url' && failure !== 'aborted';
 * ```
 */
export type OutboundFailure = 'url' | 'aborted' | 'timeout' | 'network' | 'not-a-response' | 'redirect' | 'too-large';

/**
 * A failed request to an identity provider; `failure` says why, `status` is the HTTP status when an
 * answer with one was refused (a redirect). The message never holds a request body or header.
 *
 * @example
 * ```ts
 * try {
 *   await guardedFetch({ url: new URL('https://idp.example/jwks.json'), method: 'GET', headers: {}, fetch: undefined, allowInsecureHttp: false, timeoutMs: 5000, maxBytes: 262144, readErrorBody: false });
 * } catch (error) {
 *   if (error instanceof OutboundError && error.failure === 'timeout') console.warn('identity provider too slow');
 * }
 * ```
 */
export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  readonly failure: OutboundFailure;
  readonly status: number | undefined;

  constructor(failure: OutboundFailure, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.failure = failure;
    this.status = options.status;
  }
}

/** One request, as the JWKS, discovery and token endpoint clients describe it. */
interface OutboundRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The user's fetch function; undefined for `globalThis.fetch`, looked up at each request. */
  readonly fetch: FetchFunction | undefined;
  readonly allowInsecureHttp: boolean;
  /** Milliseconds for the whole exchange, headers and body. */
  readonly timeoutMs: number;
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Aborts the request early (a key resolver's `close()`). */
  readonly signal?: AbortSignal;
  /** Read the body of a 4xx/5xx answer too (it holds an OAuth error); otherwise it is cancelled unread. */
  readonly readErrorBody: boolean;
  /**
   * Values of this request that no message may quote (a client secret, a refresh token, Basic
   * credentials, in every form they were sent in): removed from what the fetch function throws before
   * that text is cut and escaped, since a secret cut in two or escaped would no longer be found later.
   */
  readonly confidential?: readonly string[];
  /** Response headers the caller reads (lower case), e.g. `dpop-nonce`; each read once. */
  readonly responseHeaders?: readonly string[];
}

/** An answer that passed every check: its status, its `Cache-Control`, the headers asked for and its whole body. */
interface OutboundResponse {
  readonly status: number;
  readonly cacheControl: string | null;
  /** The values of `responseHeaders` the answer has (absent ones left out). */
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: Uint8Array;
}

/** The parts of a response the checks read, each read once (a hostile getter gets one chance). */
interface ResponseView {
  readonly status: number;
  readonly redirected: boolean;
  readonly url: string;
  readonly contentLength: string | null;
  readonly cacheControl: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ReadableStream<Uint8Array> | null;
}

function ignore(): void {
  // A late or failed clean-up cannot change the outcome already decided.
}

/** Why `url` must not be requested, or undefined: the rules of the configured URLs, checked again at the call. */
function urlProblem(url: URL, allowInsecureHttp: boolean): string | undefined {
  // Credentials in the URL would be sent to the provider and end up in our logs and events.
  if (url.username !== '' || url.password !== '') return 'the URL contains a user name or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname))) return undefined;
  return `${url.protocol} to ${url.hostname} refused: https only, or http to a loopback host (allowInsecureHttp for others)`;
}

/** What a thrown value says, without the request's secrets, escaped and cut short, without ever throwing. */
function thrownDetail(error: unknown, confidential: readonly string[] = []): string {
  try {
    // Node's fetch throws "fetch failed" and keeps the reason (ECONNREFUSED, a TLS error) in `cause`.
    const cause = (error as { cause?: { message?: unknown } } | null | undefined)?.cause?.message;
    const message = typeof cause === 'string' ? cause : (error as { message?: unknown } | null | undefined)?.message;
    // A function may quote what it was sending: redacted whole, before the cut and the escaping.
    if (typeof message === 'string') return escapeForTerminal(redact(message, confidential).slice(0, 200));
  } catch {
    // A getter that throws: fall through to the type alone.
  }
  return `the fetch function threw a ${error === null ? 'null' : typeof error}, not an Error`;
}

/**
 * The thrown value, to keep as the `cause` of our error (ECONNREFUSED, a TLS error: what an operator
 * needs), unless it holds a secret of the request: a logger prints causes whole, and a function's
 * error may carry what it was sending (in its message, or a `config`/`request` property). Then it is
 * withheld; the message keeps its redacted detail.
 */
function safeCause(error: unknown, confidential: readonly string[] = []): unknown {
  if (confidential.length === 0) return error;
  try {
    const printed = inspect(error, { depth: 20, maxArrayLength: Infinity, maxStringLength: Infinity, breakLength: Infinity });
    return confidential.some((secret) => printed.includes(secret)) ? undefined : error;
  } catch {
    // Cannot be looked at safely: cannot be kept safely.
    return undefined;
  }
}

/** Cancels a body nobody will read, quietly: a failing or hanging `cancel()` changes nothing. */
function discard(body: unknown): void {
  try {
    const cancel = (body as { cancel?: unknown } | null | undefined)?.cancel;
    if (typeof cancel === 'function') Promise.resolve(cancel.call(body)).catch(ignore);
  } catch {
    // Nothing more can be done with a body that cannot even be cancelled.
  }
}

/** Discards the body of a response that came too late, if it is one at all. */
function discardResponse(value: unknown): void {
  try {
    discard((value as { body?: unknown } | null | undefined)?.body);
  } catch {
    // A getter that throws: nothing to cancel.
  }
}

/**
 * The request's deadline, enforced by us: at the timeout (or when the caller's signal aborts) the
 * signal handed to the fetch function is aborted, and every wait on the function ({@link Deadline.race})
 * ends at once, whether the function honours the signal or not. {@link Deadline.end} clears the timer
 * and the listener, so no request leaves one behind.
 */
class Deadline {
  readonly #controller = new AbortController();
  readonly #expired: Promise<never>;
  readonly #timer: NodeJS.Timeout;
  readonly #external: AbortSignal | undefined;
  readonly #onExternalAbort = (): void => this.#stop(new OutboundError('aborted', 'request aborted'));
  #expire: (reason: OutboundError) => void = ignore;
  #reason: OutboundError | undefined;

  constructor(timeoutMs: number, external: AbortSignal | undefined) {
    this.#expired = new Promise<never>((_resolve, reject) => {
      this.#expire = reject;
    });
    // Nobody may be waiting when it fires (between two waits): that is no unhandled rejection.
    this.#expired.catch(ignore);
    this.#timer = setTimeout(() => this.#stop(new OutboundError('timeout', `no complete response within ${timeoutMs / 1000} s`)), timeoutMs);
    this.#external = external;
    external?.addEventListener('abort', this.#onExternalAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the request was stopped, if it was. */
  get reason(): OutboundError | undefined {
    return this.#reason;
  }

  /**
   * `work`, unless the deadline passes first. What `work` gives after that is handed to `late` (a
   * response nobody reads: its body is cancelled), and a late rejection is handled here.
   */
  race<T>(work: Promise<T>, late: (value: T) => void = ignore): Promise<T> {
    work.then((value) => {
      if (this.#reason !== undefined) late(value);
    }, ignore);
    return Promise.race([work, this.#expired]);
  }

  end(): void {
    clearTimeout(this.#timer);
    this.#external?.removeEventListener('abort', this.#onExternalAbort);
  }

  #stop(reason: OutboundError): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    // The wait ends first, then the fetch function is told: its reaction cannot change the reason.
    this.#expire(reason);
    this.#controller.abort(reason);
  }
}

/** Calls the fetch function; a synchronous throw becomes a rejection like any other failure. */
function callFetch(request: OutboundRequest, signal: AbortSignal): Promise<unknown> {
  const fetchFunction: FetchFunction = request.fetch ?? globalThis.fetch;
  const init = {
    method: request.method,
    headers: { ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body }),
    // Never follow: a redirect could send us to keys elsewhere, or re-send a client secret there.
    redirect: 'manual' as const,
    signal,
  };
  try {
    // A copy: a function that changes the URL it was given must not change the one we check answers against.
    return Promise.resolve(fetchFunction(new URL(request.url.href), init));
  } catch (error) {
    return Promise.reject(error);
  }
}

function header(headers: { get(name: string): unknown }, name: string): string | null {
  const value = headers.get(name);
  return typeof value === 'string' ? value : null;
}

/** Reads what the checks need from what the fetch function gave, or throws `not-a-response`. */
function viewOf(value: unknown, wanted: readonly string[] = []): ResponseView {
  const refuse = (what: string, cause?: unknown): OutboundError =>
    new OutboundError('not-a-response', `the fetch function returned ${what}, not an HTTP response`, { cause });
  if (typeof value !== 'object' || value === null) throw refuse(value === null ? 'null' : `a ${typeof value}`);
  try {
    const { status, redirected, url, headers, body } = value as Record<string, unknown>;
    // 1xx never reaches a caller of fetch, and 0 is an opaque or error response: neither is an answer.
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599)
      throw refuse(`a status of ${typeof status === 'number' ? status : typeof status}`);
    if (typeof (headers as { get?: unknown } | null | undefined)?.get !== 'function') throw refuse('an object without headers');
    if (body !== null && typeof (body as { getReader?: unknown } | undefined)?.getReader !== 'function') throw refuse('a body that is not a stream');
    const readable = headers as { get(name: string): unknown };
    const asked: Record<string, string> = {};
    for (const name of wanted) {
      const found = header(readable, name);
      if (found !== null) asked[name] = found;
    }
    return {
      status,
      redirected: redirected === true,
      url: typeof url === 'string' ? url : '',
      contentLength: header(readable, 'content-length'),
      cacheControl: header(readable, 'cache-control'),
      headers: asked,
      body: body as ReadableStream<Uint8Array> | null,
    };
  } catch (error) {
    if (error instanceof OutboundError) throw error;
    throw refuse('an object whose fields cannot be read', error);
  }
}

/** Why the answer counts as a redirect, or undefined. */
function redirection(view: ResponseView, requested: URL): string | undefined {
  if (view.status >= 300 && view.status < 400) return `redirect (HTTP ${view.status}) refused`;
  // The fetch function followed a redirect although told not to: its answer comes from elsewhere.
  if (view.redirected) return 'the fetch function followed a redirect; the answer is refused';
  if (view.url === '') return undefined;
  const answered = URL.parse(view.url);
  if (answered === null || answered.origin !== requested.origin) return 'the answer comes from another origin than the one requested; refused';
  return undefined;
}

/** Checks the answer and reads its body, every wait bounded by the deadline. */
async function readAnswer(value: unknown, request: OutboundRequest, deadline: Deadline): Promise<OutboundResponse> {
  const view = viewOf(value, request.responseHeaders);
  const redirected = redirection(view, request.url);
  if (redirected !== undefined) {
    discard(view.body);
    throw new OutboundError('redirect', redirected, { status: view.status });
  }
  const ok = view.status < 300;
  if (!ok && !request.readErrorBody) {
    discard(view.body);
    return { status: view.status, cacheControl: view.cacheControl, headers: view.headers, bytes: new Uint8Array(0) };
  }
  const tooLarge = (): OutboundError => new OutboundError('too-large', `response body exceeds ${request.maxBytes} bytes`, { status: view.status });
  // Only a claim: a body longer than it says is still cut by the read below.
  const declared = view.contentLength !== null && /^\d+$/.test(view.contentLength) ? Number(view.contentLength) : undefined;
  if (declared !== undefined && declared > request.maxBytes) {
    discard(view.body);
    throw tooLarge();
  }
  const race: Race = (work) => deadline.race(work);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readCappedBody(view.body, request.maxBytes, race);
  } catch (error) {
    if (error instanceof OutboundError) throw error;
    if (error instanceof BodyShapeError)
      throw new OutboundError('not-a-response', `the fetch function returned a response whose ${error.message}`, { cause: error });
    throw new OutboundError('network', `response body failed: ${thrownDetail(error, request.confidential)}`, {
      status: view.status,
      cause: safeCause(error, request.confidential),
    });
  }
  if (bytes === undefined) throw tooLarge();
  return { status: view.status, cacheControl: view.cacheControl, headers: view.headers, bytes };
}

/**
 * Sends one request to an identity provider through the configured fetch function, defensively, and
 * returns the checked answer with its whole body; throws an {@link OutboundError}. The rules hold
 * whatever the function does:
 * - the URL is checked before the call: https, or http to a loopback host unless `allowInsecureHttp`;
 * - redirects are never followed (`redirect: 'manual'`), and an answer that is a redirect or was
 *   redirected anyway is refused (a route or a function that follows them must not send us to keys
 *   elsewhere, or re-send a secret there);
 * - one timeout covers headers and body, enforced here even when the function ignores its abort signal;
 *   an answer that arrives later has its body cancelled, and no timer outlives the request;
 * - the body is streamed and cut at `maxBytes`, whatever `content-length` claims;
 * - a function that throws (anything, an Error or not), rejects, or returns something else than a
 *   response fails the request with an {@link OutboundError}, never with an unhandled rejection.
 *
 * 4xx and 5xx answers are returned with their status (their body only with `readErrorBody`): what they
 * mean is the caller's business.
 *
 * @example
 * ```ts
 * const { status, bytes } = await guardedFetch({
 *   url: new URL('https://idp.example/jwks.json'),
 *   method: 'GET',
 *   headers: { accept: 'application/json' },
 *   fetch: undefined, // globalThis.fetch
 *   allowInsecureHttp: false,
 *   timeoutMs: 5000,
 *   maxBytes: 262144,
 *   readErrorBody: false,
 * });
 * ```
 */
export async function guardedFetch(request: OutboundRequest): Promise<OutboundResponse> {
  const problem = urlProblem(request.url, request.allowInsecureHttp);
  if (problem !== undefined) throw new OutboundError('url', problem);
  if (request.signal?.aborted) throw new OutboundError('aborted', 'request aborted');
  const deadline = new Deadline(request.timeoutMs, request.signal);
  try {
    const answer = await deadline.race(callFetch(request, deadline.signal), discardResponse);
    return await readAnswer(answer, request, deadline);
  } catch (error) {
    // Once the deadline passed, that is the reason, whatever the function threw on being aborted.
    if (deadline.reason !== undefined) throw deadline.reason;
    if (error instanceof OutboundError) throw error;
    throw new OutboundError('network', `request failed: ${thrownDetail(error, request.confidential)}`, { cause: safeCause(error, request.confidential) });
  } finally {
    deadline.end();
  }
}
