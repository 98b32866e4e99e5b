import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { optionalInteger, optionNames } from '../util/option-checks.ts';
import { checkTestOptionNames } from './test-option-checks.ts';
import { createTokenEndpoint, type TokenEndpoint, type TokenEndpointOptions, type TokenSigner } from './token-endpoint.ts';
import { TOKEN_ENDPOINT_DPOP_ALGORITHMS } from './token-dpop.ts';

/**
 * Options of `TestIssuer.serve()`.
 *
 * @example
 * ```ts
 * import { createTestIssuer, type ServeOptions } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const options: ServeOptions = { jwksMaxAge: 1, token: { clients: { worker: { secret: 'worker-secret', scope: 'orders:read' } } } };
 * const served = await idp.serve(options);
 * ```
 */
export interface ServeOptions {
  /** Port on 127.0.0.1. Default 0 (any free port). */
  readonly port?: number;
  /** Clients, lifetimes and clock of the `/token` endpoint. */
  readonly token?: TokenEndpointOptions;
  /**
   * The `max-age` (seconds) of the JWKS response's `Cache-Control`. Default 300. A short one lets a demo
   * or test show verifiers picking up a key published by `publishNextKey()` on their regular refresh.
   */
  readonly jwksMaxAge?: number;
}

/**
 * A running loopback identity provider, for tests of remote keys and of clients that fetch tokens.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createAuthInterceptor, fromIssuer } from 'grpc-jwt-auth';
 * import { createTestIssuer, type ServedIssuer } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const served: ServedIssuer = await idp.serve();
 * const auth = createAuthInterceptor({ keys: fromIssuer(served.url), algorithms: [idp.alg], issuer: served.url });
 * await auth.ready();
 * assert.equal(served.requestCount('/jwks.json'), 1);
 * auth.close();
 * await served.close();
 * ```
 */
export interface ServedIssuer {
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  /** The OpenID Connect discovery document's URL. */
  readonly discoveryUrl: string;
  /** The JWKS URL. */
  readonly jwksUri: string;
  /** The OAuth 2.0 token endpoint's URL (client credentials and refresh token grants). */
  readonly tokenUrl: string;
  /** Control of the token endpoint: refresh tokens for tests, fault injection. */
  readonly tokenEndpoint: TokenEndpoint;
  /** How many requests each path received (for tests that count fetches). */
  requestCount(path: string): number;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * What the server publishes; read on every request so rotations show at once.
 *
 * @example
 * ```ts
 * const published: PublishedIssuer = { issuer: 'https://idp.example/', alg: 'ES256', jwks: { keys: [] }, audience: 'orders-api', sign: async () => 'a.b.c' };
 * ```
 */
export interface PublishedIssuer extends TokenSigner {
  readonly issuer: string;
  readonly alg: string;
  readonly jwks: { readonly keys: readonly object[] };
}

const SERVE_OPTIONS = optionNames<ServeOptions>({ port: true, token: true, jwksMaxAge: true });
const ONE_YEAR = 365 * 86_400;

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Starts the loopback HTTP server behind `TestIssuer.serve()`.
 *
 * @example
 * ```ts
 * import { createTestIssuer } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const served = await serveIssuer(idp, { jwksMaxAge: 1 });
 * await served.close();
 * ```
 */
export async function serveIssuer(published: PublishedIssuer, options: ServeOptions = {}): Promise<ServedIssuer> {
  checkTestOptionNames(options, SERVE_OPTIONS);
  const port = optionalInteger(options.port, 'port', 0, 65_535) ?? 0;
  // Cache-Control's max-age is a whole number of seconds.
  const jwksMaxAge = optionalInteger(options.jwksMaxAge, 'jwksMaxAge', 0, ONE_YEAR) ?? 300;
  const counts = new Map<string, number>();
  let base = '';
  const tokenEndpoint = createTokenEndpoint(published, options.token);
  const discovery = () => ({
    issuer: published.issuer,
    jwks_uri: `${base}/jwks.json`,
    token_endpoint: `${base}/token`,
    id_token_signing_alg_values_supported: [published.alg],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    grant_types_supported: ['client_credentials', 'refresh_token'],
    // RFC 9449 §5.1: the token endpoint accepts DPoP proofs signed with these.
    dpop_signing_alg_values_supported: TOKEN_ENDPOINT_DPOP_ALGORITHMS,
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
  });
  const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {
    '/.well-known/openid-configuration': (_request, response) => sendJson(response, 200, discovery()),
    '/.well-known/oauth-authorization-server': (_request, response) => sendJson(response, 200, discovery()),
    '/jwks.json': (_request, response) => sendJson(response, 200, published.jwks, { 'cache-control': `public, max-age=${jwksMaxAge}` }),
    '/token': (request, response) => tokenEndpoint.handle(request, response),
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route) route(request, response);
    else sendJson(response, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    discoveryUrl: `${base}/.well-known/openid-configuration`,
    jwksUri: `${base}/jwks.json`,
    tokenUrl: `${base}/token`,
    tokenEndpoint: tokenEndpoint.control(`${base}/token`),
    requestCount: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        tokenEndpoint.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
