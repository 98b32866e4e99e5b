/**
 * The options both OAuth grants take to reach the token endpoint, checked once for both: a mistake
 * throws an {@link AuthConfigError} naming the option when the source is made, never at the first call.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import type { FetchFunction } from '../util/guarded-fetch.ts';
import { isLoopbackHost } from '../util/loopback.ts';
import { optionalBoolean, optionalChoice, optionalFunction, optionalSeconds } from '../util/option-checks.ts';
import { CACHED_TOKEN_OPTIONS } from './cached-token-options.ts';
import type { ClientCredentialsOptions } from './client-credentials.ts';
import { optionalDpopKey, type DpopKey } from './dpop-key.ts';
import type { RefreshingTokenOptions } from './refreshing-token.ts';
import type { ClientAuthMethod } from './token-endpoint-request.ts';

/**
 * The option names both grants take: the cache's, and those of the token request. Typed against both
 * interfaces, so a name one of them lacks, or an option added to both without its name, fails the
 * type-check.
 *
 * @example
 * ```ts
 * import { optionNames } from '../util/option-checks.ts';
 * import type { ClientCredentialsOptions } from './client-credentials.ts';
 * const names = optionNames<ClientCredentialsOptions>({ ...TOKEN_REQUEST_OPTIONS, audience: true }); // without audience: a type error
 * ```
 */
export const TOKEN_REQUEST_OPTIONS: { readonly [K in keyof ClientCredentialsOptions & keyof RefreshingTokenOptions]: true } = {
  ...CACHED_TOKEN_OPTIONS,
  tokenUrl: true,
  clientId: true,
  clientSecret: true,
  scope: true,
  authMethod: true,
  timeout: true,
  allowInsecureHttp: true,
  fetch: true,
  dpop: true,
};

/** The options of either grant that say how to reach the token endpoint. */
type EndpointSettings = Pick<ClientCredentialsOptions, 'tokenUrl' | 'scope' | 'authMethod' | 'timeout' | 'allowInsecureHttp' | 'fetch' | 'dpop'>;

/**
 * How to reach the token endpoint, checked, with defaults applied.
 *
 * @example
 * ```ts
 * import type { TokenEndpoint } from './token-endpoint-options.ts';
 * const endpoint: TokenEndpoint = tokenEndpointOptions({ tokenUrl: 'https://idp.example/oauth/token' });
 * endpoint.timeout; // 10000: milliseconds, from the default of 10 seconds
 * ```
 */
export interface TokenEndpoint {
  readonly tokenUrl: URL;
  readonly authMethod: ClientAuthMethod;
  /** Milliseconds for one request, answer included (the option is in seconds). */
  readonly timeout: number;
  /** Space-separated, or undefined for the client's default scopes. */
  readonly scope: string | undefined;
  /** Plain http to a host other than loopback was allowed; checked again at each request. */
  readonly allowInsecureHttp: boolean;
  /** The `fetch` option; undefined for `globalThis.fetch`, looked up at each request. */
  readonly fetch: FetchFunction | undefined;
  /** The `dpop` option: ask for tokens bound to this key, each request with a proof. */
  readonly dpop: DpopKey | undefined;
}

/**
 * Checks `tokenUrl`: an absolute http(s) URL. Plain http is refused except to loopback addresses (or with
 * `allowInsecureHttp`), because the request carries the client secret or refresh token in the clear.
 *
 * @example
 * ```ts
 * checkTokenUrl('http://127.0.0.1:8080/token', false); // fine: loopback
 * checkTokenUrl('http://idp.example/token', false); // throws AuthConfigError('tokenUrl', ...)
 * ```
 */
export function checkTokenUrl(value: unknown, allowInsecureHttp: boolean): URL {
  const url = typeof value === 'string' || value instanceof URL ? URL.parse(String(value)) : null;
  if (url === null) throw new AuthConfigError('tokenUrl', 'expected an absolute http(s) URL');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthConfigError('tokenUrl', 'expected an absolute http(s) URL');
  if (url.username || url.password) throw new AuthConfigError('tokenUrl', 'must not contain credentials; use clientId and clientSecret');
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    throw new AuthConfigError(
      'tokenUrl',
      'must use https (plain http sends the client secret in the clear); http is accepted for loopback addresses, or with allowInsecureHttp: true',
    );
  }
  return url;
}

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

/**
 * Checks how to reach the token endpoint and applies the defaults: `client_secret_basic`, 10 seconds.
 *
 * @example
 * ```ts
 * const { timeout } = tokenEndpointOptions({ tokenUrl: 'https://idp.example/oauth/token', timeout: 5 }); // 5000
 * ```
 */
export function tokenEndpointOptions(options: EndpointSettings): TokenEndpoint {
  // Read once: a value checked on one read and used from another could turn http to any host on.
  const allowInsecureHttp = optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp') ?? false;
  return {
    tokenUrl: checkTokenUrl(options.tokenUrl, allowInsecureHttp),
    authMethod: optionalChoice<ClientAuthMethod>(options.authMethod, 'authMethod', ['client_secret_basic', 'client_secret_post']) ?? 'client_secret_basic',
    timeout: (optionalSeconds(options.timeout, 'timeout', 0.001, 600) ?? 10) * 1000,
    scope: scopeParameter(options.scope),
    allowInsecureHttp,
    fetch: optionalFunction<FetchFunction>(options.fetch, 'fetch', 'a function called like fetch(url, init)'),
    dpop: optionalDpopKey(options.dpop, 'dpop'),
  };
}
