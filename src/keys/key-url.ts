import { isLoopbackHost } from '../loopback.ts';
import { AuthConfigError } from '../errors.ts';

/**
 * Why a key URL must not be fetched, or undefined when it may. Plain http is for loopback only: a JWKS
 * fetched over plain http from anywhere else can be swapped by anyone on the path, and whoever controls
 * the keys controls every identity. Also applied at run time to a `jwks_uri`
 * from a discovery document.
 *
 * @example
 * ```ts
 * keyUrlProblem(new URL('http://idp.example/jwks.json'), false); // 'http: is only allowed for loopback hosts; ...'
 * ```
 */
export function keyUrlProblem(url: URL, allowInsecureHttp: boolean): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `protocol ${url.protocol} is not supported; use https:`;
  if (allowInsecureHttp || isLoopbackHost(url.hostname)) return undefined;
  return 'http: is only allowed for loopback hosts; use https: or set allowInsecureHttp';
}

/**
 * Parses a JWKS or issuer URL given in configuration: `https:`, or `http:` to a loopback host, or any
 * `http:` with `allowInsecureHttp`. Throws an {@link AuthConfigError} naming `option` otherwise.
 *
 * @example
 * ```ts
 * const url = parseKeyUrl('https://idp.example/jwks.json', 'jwksUri', false);
 * ```
 */
export function parseKeyUrl(source: string | URL, option: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new AuthConfigError(option, `not a valid URL: ${JSON.stringify(String(source))}`);
  }
  // Credentials in the URL would be sent to the provider and end up in our logs and events.
  if (url.username !== '' || url.password !== '') throw new AuthConfigError(option, 'must not contain user name or password');
  const problem = keyUrlProblem(url, allowInsecureHttp);
  if (problem !== undefined) throw new AuthConfigError(option, problem);
  return url;
}
