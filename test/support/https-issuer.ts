import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createTestIssuer, type TestIssuer, type TokenEndpointOptions } from '../../src/testing/index.ts';
import { createTokenEndpoint } from '../../src/testing/token-endpoint.ts';

/** One request the identity provider received. */
export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The common name of the client certificate presented (mutual TLS), if any. */
  readonly clientCertificate: string | undefined;
}

/** A running identity provider over HTTPS: discovery, JWKS and a token endpoint, like `TestIssuer.serve()`. */
export interface HttpsIssuer {
  /** Where clients reach it, e.g. `https://idp.test` (through a proxy) or `https://localhost:40123`. */
  readonly origin: string;
  /** The loopback port it listens on. */
  readonly port: number;
  /** The issuer whose keys it publishes; its `issuer` is `origin`. */
  readonly idp: TestIssuer;
  /** Every request received, in order. */
  readonly requests: readonly ReceivedRequest[];
  close(): Promise<void>;
}

export interface HttpsIssuerOptions {
  /** The server's certificate and key, and for mutual TLS `ca` with `requestCert`/`rejectUnauthorized`. */
  readonly tls: ServerOptions;
  /**
   * The origin in the documents and the tokens' `iss`. Default `https://localhost:<port>`; a name such as
   * `https://idp.test` is reachable only through a proxy that sends its tunnels to this server.
   */
  readonly origin?: string;
  /** Clients of the token endpoint. */
  readonly token?: TokenEndpointOptions;
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Starts an identity provider over HTTPS on 127.0.0.1 with the given certificate: what the test issuer
 * serves over plain http, for tests of outbound TLS (a private CA, a client certificate, a proxy's CONNECT
 * tunnel). It listens first, then creates its issuer with the origin it will be reached at, so discovery's
 * `issuer` and the tokens' `iss` match.
 */
export async function startHttpsIssuer(options: HttpsIssuerOptions): Promise<HttpsIssuer> {
  const requests: ReceivedRequest[] = [];
  let route: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => sendJson(response, 503, { error: 'starting' });
  const server = createServer(options.tls, (request, response) => {
    const certificate = (request.socket as TLSSocket).getPeerCertificate?.();
    const commonName = certificate?.subject?.CN;
    const path = new URL(request.url ?? '/', 'https://localhost').pathname;
    requests.push({ path, headers: request.headers, clientCertificate: typeof commonName === 'string' ? commonName : undefined });
    route(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = options.origin ?? `https://localhost:${port}`;
  const idp = await createTestIssuer({ issuer: origin });
  const tokenEndpoint = createTokenEndpoint(idp, options.token);
  const document = {
    issuer: origin,
    jwks_uri: `${origin}/jwks.json`,
    token_endpoint: `${origin}/token`,
    id_token_signing_alg_values_supported: [idp.alg],
  };
  route = (request, response) => {
    const path = new URL(request.url ?? '/', 'https://localhost').pathname;
    if (path === '/.well-known/openid-configuration') sendJson(response, 200, document, { 'cache-control': 'max-age=300' });
    else if (path === '/jwks.json') sendJson(response, 200, idp.jwks, { 'cache-control': 'max-age=300' });
    else if (path === '/token') tokenEndpoint.handle(request, response);
    else sendJson(response, 404, { error: 'not_found' });
  };
  return {
    origin,
    port,
    idp,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        tokenEndpoint.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
