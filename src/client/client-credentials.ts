import { AuthConfigError } from '../errors/config-error.ts';
import { CACHED_TOKEN_OPTION_NAMES, cachedToken, type CachedToken, type CachedTokenOptions } from './cached-token.ts';
import { checkOptionNames, optionalChoice, optionalSeconds, optionalString } from '../util/option-checks.ts';
import { checkTokenUrl, requestToken, type ClientAuthMethod } from './token-endpoint-request.ts';

/**
 * Options of {@link clientCredentials}. Durations are seconds.
 *
 * @example
 * ```ts
 * const options: ClientCredentialsOptions = { tokenUrl, clientId: 'worker', clientSecret, scope: 'orders:read', authMethod: 'client_secret_post' };
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
  /** Time for one token request, answer included. Default 10. */
  readonly timeout?: number;
  /** Accept a plain-http `tokenUrl` to a non-loopback host (e.g. inside a private test network). Default false. */
  readonly allowHttp?: boolean;
}

/**
 * Option names shared by the OAuth token sources, besides their grant's own.
 *
 * @example
 * ```ts
 * checkOptionNames(options, new Set([...TOKEN_REQUEST_OPTION_NAMES, 'audience']));
 * ```
 */
export const TOKEN_REQUEST_OPTION_NAMES: readonly string[] = [
  ...CACHED_TOKEN_OPTION_NAMES,
  'tokenUrl',
  'clientId',
  'clientSecret',
  'scope',
  'authMethod',
  'timeout',
  'allowHttp',
];

/** The space-separated scope string (`['orders:read', 'orders:write']` → `'orders:read orders:write'`), or undefined. */
function scopeParameter(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const scopes = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  // RFC 6749 §3.3: scope tokens are printable ASCII without space, quote or backslash.
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => typeof scope === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) {
    throw new AuthConfigError('scope', 'expected a space-separated string or a list of scope names');
  }
  return scopes.join(' ');
}

/** The checked options every grant needs to reach the token endpoint. */
interface EndpointOptions {
  readonly tokenUrl: URL;
  readonly authMethod: ClientAuthMethod;
  /** Milliseconds. */
  readonly timeout: number;
  readonly scope: string | undefined;
}

/**
 * Checks the options every grant needs to reach the token endpoint and applies their defaults.
 *
 * @example
 * ```ts
 * const endpoint = tokenEndpointOptions({ tokenUrl: 'https://idp.example/token', timeout: 5 }); // timeout: 5000
 * ```
 */
export function tokenEndpointOptions(options: Readonly<Record<string, unknown>>): EndpointOptions {
  if (options.allowHttp !== undefined && typeof options.allowHttp !== 'boolean') throw new AuthConfigError('allowHttp', 'expected a boolean');
  return {
    tokenUrl: checkTokenUrl(options.tokenUrl, options.allowHttp === true),
    authMethod: optionalChoice<ClientAuthMethod>(options.authMethod, 'authMethod', ['client_secret_basic', 'client_secret_post']) ?? 'client_secret_basic',
    timeout: (optionalSeconds(options.timeout, 'timeout', 0.001, 600) ?? 10) * 1000,
    scope: scopeParameter(options.scope),
  };
}

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
 * import { clientCredentials, createTokenInterceptor } from 'grpc-jwt-auth';
 * const token = clientCredentials({
 *   tokenUrl: 'https://idp.example/oauth/token',
 *   clientId: 'orders-worker',
 *   clientSecret: process.env.ORDERS_WORKER_SECRET!,
 *   scope: ['orders:read', 'orders:write'],
 * });
 * const client = new OrdersClient(target, credentials.createInsecure(), { interceptors: [createTokenInterceptor({ token })] });
 * ```
 */
export function clientCredentials(options: ClientCredentialsOptions): CachedToken {
  checkOptionNames(options, new Set([...TOKEN_REQUEST_OPTION_NAMES, 'audience']));
  const clientId = optionalString(options.clientId, 'clientId');
  const clientSecret = optionalString(options.clientSecret, 'clientSecret');
  if (clientId === undefined) throw new AuthConfigError('clientId', 'required');
  if (clientSecret === undefined) throw new AuthConfigError('clientSecret', 'required: the client credentials grant is for confidential clients');
  const audience = optionalString(options.audience, 'audience');
  const { tokenUrl, authMethod, timeout, scope } = tokenEndpointOptions(options as unknown as Record<string, unknown>);
  const params: Record<string, string> = { grant_type: 'client_credentials' };
  if (scope !== undefined) params.scope = scope;
  if (audience !== undefined) params.audience = audience;

  return cachedToken(async () => {
    const response = await requestToken({ tokenUrl, params, clientId, clientSecret, authMethod, timeout });
    return response.expiresIn === undefined ? response.accessToken : { token: response.accessToken, expiresIn: response.expiresIn };
  }, cachedOptions(options));
}

/**
 * The {@link CachedTokenOptions} part of a grant's options.
 *
 * @example
 * ```ts
 * return cachedToken(fetch, cachedOptions(options)); // only refreshBefore, jitter, clock, ...
 * ```
 */
export function cachedOptions(options: CachedTokenOptions): CachedTokenOptions {
  const picked: Record<string, unknown> = {};
  for (const name of CACHED_TOKEN_OPTION_NAMES) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked as CachedTokenOptions;
}
