import { describeForLog } from '../errors/log-text.ts';
import { OutboundError, guardedFetch } from '../util/guarded-fetch.ts';
import { isRecord } from '../util/option-checks.ts';
import { redact, wireForms } from '../util/redact.ts';
import { isDpopNonceChallenge } from './dpop-challenge.ts';
import { proofTarget } from './dpop-key.ts';
import { nonceFor, rememberNonce } from './dpop-nonces.ts';
import type { TokenEndpoint } from './token-endpoint-options.ts';
import { TokenError } from './token-error.ts';
import type { FetchedToken } from './token-source.ts';

/**
 * How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
 *
 * @example
 * ```ts
 * import type { ClientAuthMethod } from 'grpc-jwt-auth/client';
 * const authMethod: ClientAuthMethod = 'client_secret_post';
 * ```
 */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** One request to an OAuth 2.0 token endpoint. */
interface TokenRequest {
  /** Where and how: URL, client authentication method, timeout, fetch function. */
  readonly endpoint: TokenEndpoint;
  /** The grant's form parameters (`grant_type`, `scope`, `refresh_token`, ...). */
  readonly params: Readonly<Record<string, string>>;
  readonly clientId: string | undefined;
  /** Absent for a public client, which only sends its `client_id`. */
  readonly clientSecret: string | undefined;
  /**
   * Told, synchronously, the refresh token of any 2xx answer that carries one, before the rest of the
   * answer is checked. With rotation the endpoint has spent the old refresh token as soon as it answered:
   * an answer refused later (not Bearer, no access_token) must still hand over the new one, or the next
   * request spends the old one again, and reuse detection revokes the whole session.
   */
  readonly onRefreshToken?: (refreshToken: string) => void;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
// OAuth errors that mean "try later" rather than "this request will never work".
const RETRYABLE_OAUTH_ERRORS = new Set(['server_error', 'temporarily_unavailable', 'slow_down']);

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 requires for Basic credentials. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function endpointName(url: URL): string {
  // Origin and path only: a query string could hold something the user did not mean to log.
  return `${url.origin}${url.pathname}`;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function toSeconds(value: unknown): number | undefined {
  // RFC 6749 says a number; some providers send a numeric string.
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number >= 0 ? number : undefined;
}

/**
 * The text the endpoint sent as `error_description`, safe for a log: secrets of this request removed,
 * JSON-quoted (no forged log lines) and cut short.
 */
function describeServerText(value: unknown, secrets: readonly string[]): string {
  if (typeof value !== 'string' || value.length === 0) return '';
  return `: ${describeForLog(redact(value, secrets), 200)}`;
}

/**
 * What no message about this request may quote: the client secret and the refresh token in every form
 * they were sent in (form-encoded in the body, inside Basic credentials), and the Basic credentials
 * themselves, which are the secret in base64. An endpoint or a custom fetch function may echo any of them.
 */
function confidentialValues(request: TokenRequest, authorization: string | undefined): string[] {
  const secrets = [request.clientSecret, request.params.refresh_token].filter((value): value is string => value !== undefined);
  const credentials = authorization?.slice('Basic '.length);
  return [...secrets.flatMap(wireForms), ...(credentials === undefined ? [] : [credentials])];
}

function rejection(
  request: TokenRequest,
  status: number,
  body: Record<string, unknown> | undefined,
  refreshing: boolean,
  secrets: readonly string[],
  dpop: boolean,
): TokenError {
  const where = `token endpoint ${endpointName(request.endpoint.tokenUrl)}`;
  const oauthError = typeof body?.error === 'string' ? body.error.slice(0, 64) : undefined;
  if (oauthError === undefined) {
    const retryable = status >= 500 || status === 429 || status === 408;
    return retryable
      ? new TokenError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `${where} answered HTTP ${status}`, { retryable, httpStatus: status })
      : new TokenError('ERR_TOKEN_REQUEST_REJECTED', `${where} answered HTTP ${status} without an OAuth error`, { retryable, httpStatus: status });
  }
  const description = describeServerText(body?.error_description, secrets);
  const options = { httpStatus: status, oauthError };
  if (status >= 500 || status === 429 || RETRYABLE_OAUTH_ERRORS.has(oauthError)) {
    return new TokenError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `${where} is unavailable (${oauthError})${description}`, { ...options, retryable: true });
  }
  if (refreshing && oauthError === 'invalid_grant') {
    return new TokenError(
      'ERR_TOKEN_REFRESH_TOKEN_INVALID',
      `${where} refused the refresh token (invalid_grant)${description}. It was already used (refresh tokens rotate: each works once), revoked or expired; sign in again to get a new one`,
      { ...options, retryable: false },
    );
  }
  const hint = oauthError === 'invalid_client' ? ' (check clientId, clientSecret and authMethod)' : '';
  // Still wanting a nonce after the one retry (it rotated meanwhile): the nonce it sent is stored, so the
  // next request can succeed; not a configuration mistake to back off from for the maximum. Without a DPoP
  // key no nonce is ever sent: the endpoint wants DPoP for this client, which only a configuration change gives.
  const retryable = dpop && oauthError === 'use_dpop_nonce';
  return new TokenError('ERR_TOKEN_REQUEST_REJECTED', `${where} refused the request (${oauthError})${hint}${description}`, { ...options, retryable });
}

/**
 * The failure of the exchange itself as a {@link TokenError}: nothing usable came back. All are worth
 * trying again later (the caching layer backs off), except a URL the rules refuse, which never improves.
 * The `cause` is kept for logs; the message holds no secret of the request.
 */
function exchangeFailure(error: unknown, request: TokenRequest, where: string, secrets: readonly string[]): TokenError {
  const failure = error instanceof OutboundError ? error : new OutboundError('network', 'request failed', { cause: error });
  const status = failure.status === undefined ? {} : { httpStatus: failure.status };
  // guardedFetch already removed them from what the function threw; again here, should any other part quote them.
  const detail = redact(failure.message, secrets);
  const timeoutMs = request.endpoint.timeout;
  switch (failure.failure) {
    case 'url':
      return new TokenError('ERR_TOKEN_REQUEST_REJECTED', `${where} refused before sending: ${detail}`, { retryable: false, cause: failure });
    case 'timeout':
      return new TokenError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `${where} did not answer within ${timeoutMs / 1000} s`, { retryable: true, cause: failure });
    case 'too-large':
      return new TokenError('ERR_TOKEN_RESPONSE_INVALID', `${where} sent more than ${MAX_RESPONSE_BYTES} bytes`, {
        retryable: true,
        ...status,
        cause: failure,
      });
    case 'redirect':
      // Following it would re-send the client secret or refresh token to wherever it points.
      return new TokenError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `${where} answered with a redirect, which is not followed: ${detail}`, {
        retryable: true,
        ...status,
        cause: failure,
      });
    default:
      return new TokenError('ERR_TOKEN_ENDPOINT_UNAVAILABLE', `${where} could not be reached: ${detail}`, { retryable: true, ...status, cause: failure });
  }
}

/** One exchange with the endpoint: what guardedFetch gave, the body read as JSON. */
interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly json: Record<string, unknown> | undefined;
}

/**
 * True when the endpoint refused for want of a DPoP nonce (RFC 9449 §8): a 400 or 401 whose JSON `error` is
 * `use_dpop_nonce`, or a 401 whose one `WWW-Authenticate` challenge is `DPoP error="use_dpop_nonce"`
 * (oauth4webapi's isDPoPNonceError takes both).
 */
function isNonceRefusal(answer: Answer): boolean {
  if ((answer.status === 400 || answer.status === 401) && answer.json?.error === 'use_dpop_nonce') return true;
  const challenge = answer.headers['www-authenticate'];
  return answer.status === 401 && challenge !== undefined && isDpopNonceChallenge([challenge]);
}

/** The `DPoP` header of a token request (RFC 9449 §5): htm POST, htu the endpoint, no `ath`, the nonce asked for, else the one last seen. */
async function signProof(
  endpoint: TokenEndpoint,
  key: NonNullable<TokenEndpoint['dpop']>,
  asked?: string,
): Promise<{ proof: string; nonce: string | undefined }> {
  // The nonce a refusal asked for, not the cache: a concurrent request's late answer may have put an older one there.
  const nonce = asked ?? nonceFor(key, endpoint.tokenUrl.origin);
  try {
    const proof: unknown = await key.proof({ htu: proofTarget(endpoint.tokenUrl, 'tokenUrl'), htm: 'POST', nonce });
    if (typeof proof !== 'string') throw new TypeError('the proof is not a string');
    return { proof, nonce };
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_SOURCE_FAILED', 'the DPoP key could not sign a proof for the token request', { retryable: false, cause });
  }
}

/**
 * Posts one token request through the configured fetch function ({@link guardedFetch}: URL rules,
 * no redirects, a timeout we enforce, a capped body) and returns the access token with its `expires_in`
 * (RFC 6749 §5.1), or throws a {@link TokenError} saying what went wrong. A rotated refresh token goes
 * to `onRefreshToken`. No retries here, the caching layer decides when to try again, but one: with a DPoP
 * key, an answer `use_dpop_nonce` with a new `DPoP-Nonce` is asked again at once with a proof carrying it
 * (the endpoint refused before looking at the grant, so nothing was spent).
 *
 * @example
 * ```ts
 * import { tokenEndpointOptions } from './token-endpoint-options.ts';
 * const fetched = await requestToken({
 *   endpoint: tokenEndpointOptions({ tokenUrl: 'https://idp.example/oauth/token', timeout: 10 }),
 *   params: { grant_type: 'client_credentials' },
 *   clientId: 'worker',
 *   clientSecret: secret,
 * }); // { token: 'eyJ...', expiresIn: 3600 }
 * ```
 */
export async function requestToken(request: TokenRequest): Promise<FetchedToken> {
  const { endpoint } = request;
  const where = `token endpoint ${endpointName(endpoint.tokenUrl)}`;
  const body = new URLSearchParams(request.params);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (request.clientId !== undefined) {
    if (request.clientSecret === undefined) body.set('client_id', request.clientId);
    else if (endpoint.authMethod === 'client_secret_post') {
      body.set('client_id', request.clientId);
      body.set('client_secret', request.clientSecret);
    } else {
      headers.authorization = `Basic ${Buffer.from(`${formEncode(request.clientId)}:${formEncode(request.clientSecret)}`).toString('base64')}`;
    }
  }
  // The DPoP proofs join them as they are signed: a proof echoed in an error (a fetch wrapper that prints
  // its request) must not reach a log, where it could be replayed at the endpoint within its iat window.
  const secrets = confidentialValues(request, headers.authorization);
  const exchange = async (): Promise<Answer> => {
    let response: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly bytes: Uint8Array };
    try {
      response = await guardedFetch({
        url: endpoint.tokenUrl,
        method: 'POST',
        headers,
        body: body.toString(),
        fetch: endpoint.fetch,
        allowInsecureHttp: endpoint.allowInsecureHttp,
        timeoutMs: endpoint.timeout,
        // Capped: a broken or hostile endpoint must not exhaust memory.
        maxBytes: MAX_RESPONSE_BYTES,
        // An error answer carries its OAuth error code in the body.
        readErrorBody: true,
        confidential: secrets,
        responseHeaders: ['dpop-nonce', 'www-authenticate'],
      });
    } catch (error) {
      throw exchangeFailure(error, request, where, secrets);
    }
    const text = Buffer.from(response.bytes.buffer, response.bytes.byteOffset, response.bytes.byteLength).toString('utf8');
    return { status: response.status, headers: response.headers, json: parseJson(text) };
  };
  const key = endpoint.dpop;
  let answer: Answer;
  if (key === undefined) answer = await exchange();
  else {
    const origin = endpoint.tokenUrl.origin;
    let signed = await signProof(endpoint, key);
    headers.dpop = signed.proof;
    secrets.push(signed.proof);
    answer = await exchange();
    // Any answer may carry the nonce to use next (RFC 9449 §8.2, also on success).
    const fresh = rememberNonce(key, origin, answer.headers['dpop-nonce']) ? answer.headers['dpop-nonce'] : undefined;
    const wantsNonce = isNonceRefusal(answer);
    if (wantsNonce && fresh !== undefined && fresh !== signed.nonce) {
      signed = await signProof(endpoint, key, fresh);
      headers.dpop = signed.proof;
      secrets.push(signed.proof);
      answer = await exchange();
      rememberNonce(key, origin, answer.headers['dpop-nonce']);
    }
  }
  const { json } = answer;
  const response = answer;
  if (response.status >= 300) {
    // A refusal only by its challenge (a 401 without a JSON body) is described by that challenge's error.
    const body = json ?? (isNonceRefusal(response) ? { error: 'use_dpop_nonce' } : undefined);
    throw rejection(request, response.status, body, request.params.grant_type === 'refresh_token', secrets, key !== undefined);
  }
  const refreshToken = typeof json?.refresh_token === 'string' && json.refresh_token.length > 0 ? json.refresh_token : undefined;
  if (refreshToken !== undefined) request.onRefreshToken?.(refreshToken);
  if (!json)
    throw new TokenError('ERR_TOKEN_RESPONSE_INVALID', `${where} answered HTTP ${response.status} with a body that is not a JSON object`, {
      retryable: true,
      httpStatus: response.status,
    });
  const accessToken = json.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw new TokenError('ERR_TOKEN_RESPONSE_INVALID', `${where} answered without an access_token`, { retryable: true, httpStatus: response.status });
  }
  // Without a key, only Bearer tokens can be sent as they are (a DPoP token needs proofs). With a key, only
  // DPoP: a Bearer token works for whoever holds it, which is what the user asked DPoP to prevent.
  const expected = key === undefined ? 'Bearer' : 'DPoP';
  if (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== expected.toLowerCase()) {
    throw new TokenError('ERR_TOKEN_RESPONSE_INVALID', `${where} issued a token of type ${describeForLog(json.token_type, 20)}, not ${expected}`, {
      retryable: false,
      httpStatus: response.status,
    });
  }
  const expiresIn = toSeconds(json.expires_in);
  return expiresIn === undefined ? accessToken : { token: accessToken, expiresIn };
}
