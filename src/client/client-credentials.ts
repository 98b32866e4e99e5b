import { AuthConfigError } from '../errors/config-error.ts';
import type { FetchFunction } from '../util/guarded-fetch.ts';
import { checkOptionNames, optionNames, optionalString } from '../util/option-checks.ts';
import { createCachedToken, type CachedToken } from './cached-token.ts';
import type { DpopKey } from './dpop-key.ts';
import { bindSourceToKey } from './dpop-sources.ts';
import type { CachedTokenOptions } from './cached-token-options.ts';
import { TOKEN_REQUEST_OPTIONS, tokenEndpointOptions } from './token-endpoint-options.ts';
import { requestToken, type ClientAuthMethod } from './token-endpoint-request.ts';

/**
 * Options of {@link clientCredentials}. Durations are numbers of seconds.
 *
 * @example
 * ```ts
 * import type { ClientCredentialsOptions } from 'grpc-jwt-auth/client';
 * const options: ClientCredentialsOptions = {
 *   tokenUrl: 'https://idp.example/oauth/token',
 *   clientId: 'worker',
 *   clientSecret: secret,
 *   scope: 'orders:read',
 *   authMethod: 'client_secret_post',
 *   timeout: 5, // seconds
 * };
 * ```
 */
export interface ClientCredentialsOptions extends CachedTokenOptions {
  /** The OAuth 2.0 token endpoint. https, or http to a loopback address. */
  readonly tokenUrl: string | URL;
  /** The client id registered at the identity provider. */
  readonly clientId: string;
  /** The client secret. Never echoed in errors. */
  readonly clientSecret: string;
  /** Scopes to ask for: a space-separated string or a list. Default: the client's default scopes. */
  readonly scope?: string | readonly string[];
  /** The `audience` parameter some providers (Auth0, Okta custom servers) need to pick the API. */
  readonly audience?: string;
  /** Default `client_secret_basic`, the method RFC 6749 §2.3.1 requires every server to support. */
  readonly authMethod?: ClientAuthMethod;
  /** Seconds for one token request, answer included. Default 10. */
  readonly timeout?: number;
  /**
   * Accept a plain-http `tokenUrl` to a non-loopback host (e.g. inside a private test network), which
   * sends the client secret in the clear. Default false.
   */
  readonly allowInsecureHttp?: boolean;
  /**
   * The function that sends the token requests: default `globalThis.fetch`. Give one to go through a
   * proxy (Node's `fetch` ignores `HTTPS_PROXY`), to present a client certificate or trust a private CA
   * (undici's `fetch` with a `dispatcher`), or to add headers. The URL rules, the refusal of redirects,
   * the timeout and the size cap still hold for it. See {@link FetchFunction}.
   */
  readonly fetch?: FetchFunction;
  /**
   * Ask for DPoP-bound tokens (RFC 9449): every token request carries a proof of this key (with the
   * endpoint's nonce when it asks for one, `use_dpop_nonce`, retried once: a second request with its own
   * `timeout`), and only a `token_type` of
   * `DPoP` is accepted (a Bearer token, which anyone holding it could use, fails with
   * `ERR_TOKEN_RESPONSE_INVALID`). {@link createTokenInterceptor} then sends these tokens with proofs of the
   * same key by itself. Not for {@link createCallCredentials}, which cannot handle nonces.
   */
  readonly dpop?: DpopKey;
}

const CLIENT_CREDENTIALS_OPTION_NAMES = optionNames<ClientCredentialsOptions>({ ...TOKEN_REQUEST_OPTIONS, audience: true });

/**
 * Access tokens for this client itself, from the OAuth 2.0 client credentials grant (RFC 6749 §4.4):
 * the service-to-service case. Cached and refreshed ahead of expiry like {@link cachedToken}.
 *
 * Failures come as a {@link TokenError}: `ERR_TOKEN_REQUEST_REJECTED` with `oauthError` `invalid_client`
 * for a wrong id or secret (not retried until the maximum back-off: a wrong secret does not get better by
 * hammering the identity provider), `ERR_TOKEN_ENDPOINT_UNAVAILABLE` for timeouts, network errors and 5xx
 * (retried after a growing back-off), `ERR_TOKEN_RESPONSE_INVALID` for answers that are not a token.
 *
 * @example
 * ```ts
 * import { Client, credentials } from '@grpc/grpc-js';
 * import { clientCredentials, createTokenInterceptor } from 'grpc-jwt-auth/client';
 * declare const OrdersClient: typeof Client;
 * const token = clientCredentials({
 *   tokenUrl: 'https://idp.example/oauth/token',
 *   clientId: 'orders-worker',
 *   clientSecret: process.env.ORDERS_WORKER_SECRET!,
 *   scope: ['orders:read', 'orders:write'],
 * });
 * const client = new OrdersClient('127.0.0.1:50051', credentials.createInsecure(), { interceptors: [createTokenInterceptor({ token })] });
 * ```
 */
export function clientCredentials(options: ClientCredentialsOptions): CachedToken {
  checkOptionNames(options, CLIENT_CREDENTIALS_OPTION_NAMES);
  const clientId = optionalString(options.clientId, 'clientId');
  const clientSecret = optionalString(options.clientSecret, 'clientSecret');
  if (clientId === undefined) throw new AuthConfigError('clientId', 'required');
  if (clientSecret === undefined) throw new AuthConfigError('clientSecret', 'required: the client credentials grant is for confidential clients');
  const audience = optionalString(options.audience, 'audience');
  const endpoint = tokenEndpointOptions(options);
  const params: Record<string, string> = { grant_type: 'client_credentials' };
  if (endpoint.scope !== undefined) params.scope = endpoint.scope;
  if (audience !== undefined) params.audience = audience;

  const source = createCachedToken(() => requestToken({ endpoint, params, clientId, clientSecret }), options, 'the token endpoint');
  return endpoint.dpop === undefined ? source : bindSourceToKey(source, endpoint.dpop);
}
