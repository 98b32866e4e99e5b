import { AuthConfigError } from '../errors/config-error.ts';
import type { FetchFunction } from '../util/guarded-fetch.ts';
import { checkOptionNames, optionNames, optionalFunction, optionalString } from '../util/option-checks.ts';
import { createCachedToken, type CachedToken } from './cached-token.ts';
import type { DpopKey } from './dpop-key.ts';
import { bindSourceToKey } from './dpop-sources.ts';
import type { CachedTokenOptions } from './cached-token-options.ts';
import { storeRefreshToken, type RefreshTokenStore } from './refresh-token-store.ts';
import { TOKEN_REQUEST_OPTIONS, tokenEndpointOptions } from './token-endpoint-options.ts';
import { requestToken, type ClientAuthMethod } from './token-endpoint-request.ts';
import { TokenError } from './token-error.ts';
import type { FetchedToken } from './token-source.ts';

/**
 * Options of {@link refreshingToken}. Durations are numbers of seconds.
 *
 * @example
 * ```ts
 * import type { RefreshingTokenOptions } from 'grpc-jwt-auth/client';
 * declare const store: { get(key: string): Promise<string>; set(key: string, value: string): Promise<void> };
 * const options: RefreshingTokenOptions = {
 *   tokenUrl: 'https://idp.example/oauth/token',
 *   clientId: 'orders-cli',
 *   refreshToken: await store.get('refresh-token'),
 *   onRefreshToken: (next) => store.set('refresh-token', next),
 *   timeout: 5, // seconds, for the request and for the store
 * };
 * ```
 */
export interface RefreshingTokenOptions extends CachedTokenOptions {
  /** The OAuth 2.0 token endpoint. https, or http to a loopback address. */
  readonly tokenUrl: string | URL;
  /** The refresh token to start from, e.g. from the sign-in or from where `onRefreshToken` stored it. */
  readonly refreshToken: string;
  /** The client id; a public client (no secret) sends it in the body. */
  readonly clientId?: string;
  /** The client secret of a confidential client. */
  readonly clientSecret?: string;
  /** Default `client_secret_basic`. Only used with a `clientSecret`. */
  readonly authMethod?: ClientAuthMethod;
  /** Scopes to ask for; must be within those originally granted. Default: the same scopes. */
  readonly scope?: string | readonly string[];
  /** Seconds for one token request, answer included; also the longest wait for `onRefreshToken`. Default 10. */
  readonly timeout?: number;
  /** Accept a plain-http `tokenUrl` to a non-loopback host, which sends the refresh token in the clear. Default false. */
  readonly allowInsecureHttp?: boolean;
  /**
   * The function that sends the token requests: default `globalThis.fetch`. Give one to go through a
   * proxy (Node's `fetch` ignores `HTTPS_PROXY`), to present a client certificate or trust a private CA
   * (undici's `fetch` with a `dispatcher`), or to add headers. The URL rules, the refusal of redirects,
   * the timeout and the size cap still hold for it. See {@link FetchFunction}.
   */
  readonly fetch?: FetchFunction;
  /**
   * Told every new refresh token the endpoint issues (rotation), so it can be stored. Awaited before the
   * new access token is used, for at most `timeout`: a store that hangs must not hold every caller (and
   * every later refresh) forever. The new refresh token is used from then on whatever the store does (the
   * old one is already spent); a failure, or a store still running at the bound, is reported as a process
   * warning (`GRPC_JWT_AUTH_REFRESH_TOKEN_NOT_STORED`, `GRPC_JWT_AUTH_REFRESH_TOKEN_STORE_SLOW`).
   */
  readonly onRefreshToken?: (refreshToken: string) => void | Promise<void>;
  /**
   * Ask for DPoP-bound tokens (RFC 9449): every token request carries a proof of this key (with the
   * endpoint's nonce when it asks for one, `use_dpop_nonce`, retried once: a second request with its own
   * `timeout`), and only a `token_type` of
   * `DPoP` is accepted (a Bearer token, which anyone holding it could use, fails with
   * `ERR_TOKEN_RESPONSE_INVALID`). {@link createTokenInterceptor} then sends these tokens with proofs of the
   * same key by itself. For a public client the endpoint binds the refresh token to the key too: keep
   * the key as long as the refresh token (`createDpopKey({ keyPair })`). Not for {@link createCallCredentials}, which cannot handle nonces.
   */
  readonly dpop?: DpopKey;
}

const REFRESHING_TOKEN_OPTION_NAMES = optionNames<RefreshingTokenOptions>({ ...TOKEN_REQUEST_OPTIONS, refreshToken: true, onRefreshToken: true });

/**
 * Access tokens for a user, from the OAuth 2.0 refresh token grant (RFC 6749 §6), with refresh-token
 * rotation (RFC 9700 §4.14.2): when the endpoint answers with a new refresh token, it replaces the old one
 * at once, before anything else can run, and `onRefreshToken` is told so it can be persisted.
 *
 * A rotated refresh token works once, and many endpoints revoke the whole session when one is used twice.
 * So requests never overlap: all callers share the one request in flight (single flight), and the next
 * request starts only after the previous answer was applied. A refresh token the endpoint refuses
 * (`invalid_grant`: reused, revoked, expired) is final: `ERR_TOKEN_REFRESH_TOKEN_INVALID`, and no further
 * request is made with it.
 *
 * One limit of the protocol: if a request times out after the endpoint rotated the token, the new refresh
 * token is lost with the answer; the next request then uses the old one and is refused.
 *
 * @example
 * ```ts
 * import { refreshingToken } from 'grpc-jwt-auth/client';
 * declare const store: { get(key: string): Promise<string>; set(key: string, value: string): Promise<void> };
 * const token = refreshingToken({
 *   tokenUrl: 'https://idp.example/oauth/token',
 *   clientId: 'orders-cli',
 *   refreshToken: await store.get('refresh-token'),
 *   onRefreshToken: (next) => store.set('refresh-token', next),
 * });
 * ```
 */
export function refreshingToken(options: RefreshingTokenOptions): CachedToken {
  checkOptionNames(options, REFRESHING_TOKEN_OPTION_NAMES);
  const initial = optionalString(options.refreshToken, 'refreshToken');
  if (initial === undefined) throw new AuthConfigError('refreshToken', 'required');
  let current = initial;
  const clientId = optionalString(options.clientId, 'clientId');
  const clientSecret = optionalString(options.clientSecret, 'clientSecret');
  if (clientSecret !== undefined && clientId === undefined) throw new AuthConfigError('clientId', 'required with clientSecret');
  const onRefreshToken = optionalFunction<RefreshTokenStore>(options.onRefreshToken, 'onRefreshToken');
  const endpoint = tokenEndpointOptions(options);
  let refused: TokenError | undefined;

  const fetch = async (): Promise<FetchedToken> => {
    if (refused) throw refused;
    const params: Record<string, string> = { grant_type: 'refresh_token', refresh_token: current };
    if (endpoint.scope !== undefined) params.scope = endpoint.scope;
    let rotated: string | undefined;
    // Swapped the moment the answer is read, synchronously: from there on nothing can send the spent token
    // again, even when the rest of the answer is refused (the endpoint rotated all the same).
    const adopt = (next: string): void => {
      if (next === current) return;
      current = next;
      rotated = next;
    };
    let response: FetchedToken;
    try {
      response = await requestToken({ endpoint, params, clientId, clientSecret, onRefreshToken: adopt });
    } catch (error) {
      if (error instanceof TokenError && error.code === 'ERR_TOKEN_REFRESH_TOKEN_INVALID') refused = error;
      if (rotated !== undefined && onRefreshToken) await storeRefreshToken(onRefreshToken, rotated, endpoint.timeout);
      throw error;
    }
    if (rotated !== undefined && onRefreshToken) await storeRefreshToken(onRefreshToken, rotated, endpoint.timeout);
    return response;
  };
  const source = createCachedToken(fetch, options, 'the token endpoint');
  return endpoint.dpop === undefined ? source : bindSourceToKey(source, endpoint.dpop);
}
