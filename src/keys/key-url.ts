import { isLoopbackHost } from '../util/loopback.ts';
import { AuthConfigError } from '../errors/config-error.ts';

/**
 * Why a key URL must not be fetched, or undefined when it may. Plain http is for loopback only: a JWKS
 * fetched over plain http from anywhere else can be swapped by anyone on the path, and whoever controls
 * the keys controls every identity. A `jwks_uri` from a discovery document has a stricter rule on top
 * ({@link discoveredKeyUrlProblem}).
 */
function keyUrlProblem(url: URL, allowInsecureHttp: boolean): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `protocol ${url.protocol} is not supported; use https:`;
  if (allowInsecureHttp || isLoopbackHost(url.hostname)) return undefined;
  return 'http: is only allowed for loopback hosts; use https: or set allowInsecureHttp';
}

/**
 * Why a `jwks_uri` named by a discovery document must not be fetched, or undefined when it may: the rules
 * of {@link keyUrlProblem}, and plain http to a loopback host only when the issuer itself is plain http on
 * loopback (or with `allowInsecureHttp`). A document that came over https must not downgrade key fetching
 * to plaintext from whatever listens on a local port: any local user or process can bind one, and whoever
 * serves the keys controls every identity.
 *
 * @example
 * ```ts
 * discoveredKeyUrlProblem(new URL('http://127.0.0.1:9000/jwks'), new URL('https://idp.example'), false); // '... downgrade ...'
 * discoveredKeyUrlProblem(new URL('http://127.0.0.1:9000/jwks'), new URL('http://127.0.0.1:8080'), false); // undefined
 * ```
 */
export function discoveredKeyUrlProblem(jwksUri: URL, issuerUrl: URL, allowInsecureHttp: boolean): string | undefined {
  const problem = keyUrlProblem(jwksUri, allowInsecureHttp);
  if (problem !== undefined || jwksUri.protocol === 'https:' || allowInsecureHttp) return problem;
  if (issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname)) return undefined;
  return 'http: from an issuer reached over https would downgrade key fetching to plaintext; use https: or set allowInsecureHttp';
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
