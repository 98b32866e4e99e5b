/**
 * Reaching an identity provider the way companies run them: over HTTPS with a private CA, behind an HTTP
 * CONNECT proxy, with a client certificate (mutual TLS), with extra headers. All through the `fetch`
 * option with undici's dispatchers, end to end: keys fetched through it verify calls over real gRPC, and
 * the token endpoint gives the client its token through it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Agent, EnvHttpProxyAgent, ProxyAgent, fetch as undiciFetch } from 'undici';
import { clientCredentials, createTokenInterceptor } from '../../src/client/index.ts';
import { createAuthInterceptor, fromIssuer, fromJwks, type AuthInterceptor, type FetchFunction, type RemoteKeyResolver } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { unary, type Outcome } from '../support/calls.ts';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy.ts';
import { EchoClient, startEchoServer } from '../support/echo-server.ts';
import { startHttpsIssuer, type HttpsIssuer } from '../support/https-issuer.ts';
import { testCertificateAuthority, type IssuedCertificate } from '../support/pem.ts';
import { json, startFakeProvider } from '../support/fake-provider.ts';
import { eventLog } from '../support/remote-keys.ts';

type Client = grpc.Client & Record<string, any>;

const ca = testCertificateAuthority();
const SECRET = 'orders-worker-secret-0123';
const WORKER = { 'orders-worker': { secret: SECRET, scope: 'orders:read' } };

// grpc-js routes channels through these; the calls below must go straight to the loopback server.
const GRPC_PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy', 'HTTPS_PROXY', 'HTTP_PROXY'] as const;
const saved = Object.fromEntries(GRPC_PROXY_VARIABLES.map((name) => [name, process.env[name]]));
function restoreProxyVariables(): void {
  for (const name of GRPC_PROXY_VARIABLES) {
    const value = saved[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/**
 * A server with `auth`, a client whose token comes from the issuer's token endpoint through `fetch`, one
 * unary call between them: its outcome, with the server and client closed after.
 */
async function callWith(issuer: HttpsIssuer, auth: AuthInterceptor, fetch: FetchFunction): Promise<Outcome> {
  // Keys first, then the token: the provider sees discovery, JWKS and token requests in that order.
  await auth.ready();
  const echo = await startEchoServer({ interceptors: [auth] });
  const token = clientCredentials({ tokenUrl: `${issuer.origin}/token`, clientId: 'orders-worker', clientSecret: SECRET, fetch });
  const client = new EchoClient(echo.address, grpc.credentials.createInsecure(), { interceptors: [createTokenInterceptor({ token })] }) as Client;
  try {
    return await unary(client, new grpc.Metadata());
  } finally {
    client.close();
    await echo.close();
  }
}

function interceptorFor(issuer: HttpsIssuer, keys: RemoteKeyResolver): AuthInterceptor {
  return createAuthInterceptor({ keys, algorithms: [issuer.idp.alg], issuer: issuer.origin, audience: issuer.idp.audience });
}

describe('outbound requests through an HTTP CONNECT proxy to an HTTPS identity provider', { skip: ca ? false : 'openssl is not available' }, () => {
  let issuer: HttpsIssuer;
  let proxy: ConnectProxy;
  let dispatcher: ProxyAgent;
  let viaProxy: FetchFunction;

  before(async () => {
    for (const name of GRPC_PROXY_VARIABLES) delete process.env[name];
    const authority = ca as NonNullable<typeof ca>;
    // idp.test resolves nowhere: the only way to it is the proxy, which sends every tunnel to the server.
    issuer = await startHttpsIssuer({ tls: authority.issue('idp.test', 'server', ['idp.test']), origin: 'https://idp.test', token: { clients: WORKER } });
    proxy = await startConnectProxy({ upstream: { host: '127.0.0.1', port: issuer.port } });
    dispatcher = new ProxyAgent({ uri: proxy.url, requestTls: { ca: authority.cert } });
    viaProxy = (url, init) => undiciFetch(url, { ...init, dispatcher });
  });
  after(async () => {
    await dispatcher?.close();
    await proxy?.close();
    await issuer?.close();
    restoreProxyVariables();
  });

  it('fromIssuer (discovery + JWKS) and clientCredentials go through the tunnel; the call over gRPC is admitted', async () => {
    const auth = interceptorFor(issuer, fromIssuer(issuer.origin, { fetch: viaProxy }));
    try {
      const result = await callWith(issuer, auth, viaProxy);
      assert.equal(result.code, grpc.status.OK);
      assert.equal(result.replies[0]?.subject, 'orders-worker');
    } finally {
      auth.close();
    }
    assert.deepEqual(
      issuer.requests.map((request) => request.path),
      ['/.well-known/openid-configuration', '/jwks.json', '/token'],
    );
    assert.ok(proxy.tunnels.length >= 1);
    assert.deepEqual(new Set(proxy.tunnels), new Set(['idp.test:443']), 'every request went through CONNECT idp.test:443');
    // TLS runs inside the tunnel, end to end with the provider: the proxy carried only ciphertext.
    assert.equal(proxy.sent().includes(Buffer.from(`orders-worker:${SECRET}`).toString('base64')), false, 'the Basic credentials crossed in clear');
    assert.equal(proxy.sent().includes('/.well-known/openid-configuration'), false);
  });

  it('fromJwks through the proxy: a direct JWKS URL works the same', async () => {
    const auth = interceptorFor(issuer, fromJwks(`${issuer.origin}/jwks.json`, { fetch: viaProxy }));
    try {
      assert.equal((await callWith(issuer, auth, viaProxy)).code, grpc.status.OK);
    } finally {
      auth.close();
    }
  });

  it("without the fetch option, Node's fetch does not use HTTPS_PROXY: the same issuer cannot be reached (UNAVAILABLE), and the proxy sees nothing", async () => {
    // Node 20 never reads the variable; later versions only with NODE_USE_ENV_PROXY=1, and only at start-up.
    const tunnels = proxy.tunnels.length;
    const log = eventLog();
    process.env.HTTPS_PROXY = proxy.url;
    process.env.https_proxy = proxy.url;
    const keys = fromIssuer(issuer.origin, { onEvent: log.listener });
    try {
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
    } finally {
      keys.close();
      for (const name of GRPC_PROXY_VARIABLES) delete process.env[name];
    }
    assert.equal(log.of('failed').length, 1);
    assert.equal(proxy.tunnels.length, tunnels);
  });

  it('NODE_USE_ENV_PROXY=1 at start-up: Node 20 still ignores HTTPS_PROXY; Node 22.21+ and 24+ tunnel through it (the README says which)', async () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const readsProxyVariables = major >= 24 || (major === 22 && minor >= 21);
    const tunnels = proxy.tunnels.length;
    // A child process: the variable is only read when Node starts. Its fetch fails either way (idp.test
    // resolves nowhere; through the proxy, the test CA is not trusted): only the proxy's log tells.
    const script = "await fetch('https://idp.test/.well-known/openid-configuration', { signal: AbortSignal.timeout(5000) }).catch(() => undefined);";
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: proxy.url, https_proxy: proxy.url },
      timeout: 20_000,
    });
    assert.equal(proxy.tunnels.length - tunnels, readsProxyVariables ? 1 : 0, `Node ${process.versions.node}`);
  });
});

describe('plain http to loopback through a proxying fetch: the exception for loopback assumes the request stays on the machine', () => {
  it('an http://127.0.0.1 key set through a proxy agent crosses the proxy in clear; with the loopback hosts in noProxy it goes direct', async () => {
    const local = await startFakeProvider();
    const proxy = await startConnectProxy();
    const idp = await createTestIssuer();
    local.on(
      '/jwks.json',
      json(() => idp.jwks),
    );
    const proxied = new EnvHttpProxyAgent({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: '' });
    const bypassing = new EnvHttpProxyAgent({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: '127.0.0.1,localhost,::1' });
    try {
      const keysVia = (dispatcher: EnvHttpProxyAgent): RemoteKeyResolver =>
        fromJwks(`${local.url}/jwks.json`, { fetch: (url, init) => undiciFetch(url, { ...init, dispatcher }) });
      const through = keysVia(proxied);
      await through.ready();
      through.close();
      // The library cannot see where a fetch function sends a request: the loopback rule let plain http
      // through, and the request and the keys crossed the proxy in clear, where they could be swapped.
      assert.ok(proxy.sent().includes('GET /jwks.json'), 'the request crossed the proxy in clear');
      const sentBefore = proxy.sent().length;
      const direct = keysVia(bypassing);
      await direct.ready();
      direct.close();
      assert.equal(proxy.sent().length, sentBefore, 'with noProxy listing loopback, nothing reached the proxy');
    } finally {
      await proxied.close();
      await bypassing.close();
      await proxy.close();
      await local.close();
    }
  });
});

describe('outbound requests to an identity provider with a private CA and mutual TLS', { skip: ca ? false : 'openssl is not available' }, () => {
  let issuer: HttpsIssuer;
  let client: IssuedCertificate;
  let serverCa: Buffer;

  before(async () => {
    for (const name of GRPC_PROXY_VARIABLES) delete process.env[name];
    const authority = ca as NonNullable<typeof ca>;
    serverCa = authority.cert;
    client = authority.issue('orders-api', 'client');
    issuer = await startHttpsIssuer({
      tls: { ...authority.issue('localhost', 'server', ['localhost', '127.0.0.1']), ca: authority.cert, requestCert: true, rejectUnauthorized: true },
      token: { clients: WORKER },
    });
  });
  after(async () => {
    await issuer?.close();
    ca?.remove();
    restoreProxyVariables();
  });

  it('the default fetch does not trust the private CA → UNAVAILABLE; no request reached the provider', async () => {
    const keys = fromIssuer(issuer.origin);
    try {
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
    } finally {
      keys.close();
    }
    assert.deepEqual(issuer.requests, []);
  });

  it('trusting the CA but without a client certificate → the provider refuses the handshake: UNAVAILABLE', async () => {
    const dispatcher = new Agent({ connect: { ca: serverCa } });
    const keys = fromIssuer(issuer.origin, { fetch: (url, init) => undiciFetch(url, { ...init, dispatcher }) });
    try {
      await assert.rejects(keys.ready(), { code: 'ERR_AUTH_KEYS_UNAVAILABLE' });
    } finally {
      keys.close();
      await dispatcher.close();
    }
    assert.deepEqual(issuer.requests, []);
  });

  it('an undici Agent with connect { ca, cert, key }: keys and token over mutual TLS, the call over gRPC is admitted', async () => {
    const dispatcher = new Agent({ connect: { ca: serverCa, cert: client.cert, key: client.key } });
    const mutualTls: FetchFunction = (url, init) => undiciFetch(url, { ...init, dispatcher });
    const auth = interceptorFor(issuer, fromIssuer(issuer.origin, { fetch: mutualTls }));
    try {
      assert.equal((await callWith(issuer, auth, mutualTls)).code, grpc.status.OK);
    } finally {
      auth.close();
      await dispatcher.close();
    }
    assert.deepEqual(
      issuer.requests.map((request) => [request.path, request.clientCertificate]),
      [
        ['/.well-known/openid-configuration', 'orders-api'],
        ['/jwks.json', 'orders-api'],
        ['/token', 'orders-api'],
      ],
    );
  });

  it('headers added by the fetch function reach the provider on discovery, JWKS and token requests; ours are kept', async () => {
    const dispatcher = new Agent({ connect: { ca: serverCa, cert: client.cert, key: client.key } });
    const withHeaders: FetchFunction = (url, init) => undiciFetch(url, { ...init, headers: { ...init.headers, 'x-api-gateway-key': 'gw-123' }, dispatcher });
    const seenBefore = issuer.requests.length;
    const auth = interceptorFor(issuer, fromIssuer(issuer.origin, { fetch: withHeaders }));
    try {
      assert.equal((await callWith(issuer, auth, withHeaders)).code, grpc.status.OK);
    } finally {
      auth.close();
      await dispatcher.close();
    }
    const seen = issuer.requests.slice(seenBefore);
    assert.deepEqual(
      seen.map((request) => [request.path, request.headers['x-api-gateway-key']]),
      [
        ['/.well-known/openid-configuration', 'gw-123'],
        ['/jwks.json', 'gw-123'],
        ['/token', 'gw-123'],
      ],
    );
    assert.match(String(seen[1]?.headers.accept), /application\/json/);
    assert.equal(seen[2]?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.match(String(seen[2]?.headers.authorization), /^Basic /);
  });
});
