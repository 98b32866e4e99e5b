import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createCallCredentials, createTokenInterceptor, type TokenInterceptorOptions } from '../../src/client/index.ts';
import { allKinds, unary } from '../support/calls.ts';
import { startConnectProxy, type ConnectProxy, type ConnectProxyOptions } from '../support/connect-proxy.ts';
import { EchoClient, EchoService, echoImplementation, startEchoServer, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';
import { localhostCertificate } from '../support/pem.ts';

const { status, Metadata } = grpc;
type Client = grpc.Client & Record<string, any>;

// '~' has a 13-bit HPACK Huffman code, so HTTP/2 sends this header value as it is, not Huffman-coded:
// the test can find the token in the bytes that crossed the proxy.
const TOKEN = `proxy-test.${'~'.repeat(48)}`;
const PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy', 'no_grpc_proxy', 'no_proxy'] as const;
const saved = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));

/** Puts the proxy variables back as they were before this file ran. */
function restoreProxyVariables(): void {
  for (const name of PROXY_VARIABLES) {
    const value = saved[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/** Clears every proxy variable, then sets the given ones. grpc-js reads them when a channel is created. */
function setProxyVariables(values: Partial<Record<(typeof PROXY_VARIABLES)[number], string>>): void {
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
}

/** An Echo implementation that also keeps the `authorization` header of every call it runs. */
function recordingImplementation(seen: string[]): (runs: HandlerRuns) => grpc.UntypedServiceImplementation {
  return (runs) => {
    const base = echoImplementation(runs);
    const record =
      (handler: grpc.UntypedHandleCall) =>
      (call: { metadata: grpc.Metadata }, ...rest: unknown[]): void => {
        seen.push(String(call.metadata.get('authorization')[0] ?? ''));
        (handler as (...args: unknown[]) => void)(call, ...rest);
      };
    return Object.fromEntries(Object.entries(base).map(([name, handler]) => [name, record(handler)])) as grpc.UntypedServiceImplementation;
  };
}

function totalRuns(runs: HandlerRuns): number {
  return Object.values(runs).reduce((sum, n) => sum + n, 0);
}

describe('token interceptor: HTTP proxies named in the environment', () => {
  let echo: EchoServer;
  let proxy: ConnectProxy;
  const seen: string[] = [];
  const clients: Client[] = [];

  /** A client on an insecure channel. Create it after setting the variables: grpc-js reads them then. */
  const client = (target: string, options: Partial<TokenInterceptorOptions> = {}, channelOptions: grpc.ChannelOptions = {}): Client => {
    const made = new EchoClient(target, grpc.credentials.createInsecure(), {
      ...channelOptions,
      interceptors: [createTokenInterceptor({ token: TOKEN, ...options })],
    }) as Client;
    clients.push(made);
    return made;
  };

  /** Asserts that every kind of call was refused before anything was sent, through the proxy or not. */
  async function assertRefusedBeforeSending(made: Client): Promise<void> {
    const outcomes = await allKinds(made, () => new Metadata());
    assert.deepEqual(proxy.tunnels, [], 'the proxy tunnelled the calls');
    assert.equal(proxy.sent().includes(`Bearer ${TOKEN}`), false, 'the token crossed the proxy');
    assert.equal(proxy.connections, 0, 'the proxy saw a connection');
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.FAILED_PRECONDITION, kind);
      assert.equal(outcome.details.includes(TOKEN), false, kind);
    }
    assert.equal(totalRuns(echo.runs), 0, 'a handler ran');
    assert.deepEqual(seen, []);
  }

  before(async () => {
    echo = await startEchoServer({ implementation: recordingImplementation(seen) });
  });
  afterEach(async () => {
    restoreProxyVariables();
    for (const made of clients.splice(0)) made.close();
    await proxy.close();
  });
  after(async () => {
    restoreProxyVariables();
    await echo.close();
  });

  /** A new proxy and clean counters: every test starts with one. */
  async function freshProxy(options: ConnectProxyOptions = {}): Promise<void> {
    proxy = await startConnectProxy(options);
    seen.length = 0;
    for (const key of Object.keys(echo.runs) as Array<keyof HandlerRuns>) echo.runs[key] = 0;
  }

  for (const variable of ['grpc_proxy', 'https_proxy', 'http_proxy'] as const) {
    it(`${variable} set: a call to 127.0.0.1 would be tunnelled through the proxy → FAILED_PRECONDITION, the proxy sees nothing`, async () => {
      await freshProxy();
      setProxyVariables({ [variable]: proxy.url });
      await assertRefusedBeforeSending(client(echo.address));
    });
  }

  it("the proxy really carries the plaintext token: with channelSecurity 'insecure' it crosses the proxy, knowingly", async () => {
    await freshProxy();
    setProxyVariables({ grpc_proxy: proxy.url });
    const outcome = await unary(client(echo.address, { channelSecurity: 'insecure' }), new Metadata());
    assert.equal(outcome.code, status.OK);
    assert.deepEqual(proxy.tunnels, [echo.address]);
    assert.ok(proxy.sent().includes(`Bearer ${TOKEN}`), 'the token crossed the proxy in plaintext');
    assert.deepEqual(seen, [`Bearer ${TOKEN}`]);
  });

  it('a remote target reached through a loopback proxy is not loopback → FAILED_PRECONDITION, the proxy sees nothing', async () => {
    // The proxy stands the local echo server in for the remote host, as a real proxy would reach it.
    await freshProxy({ upstream: { host: '127.0.0.1', port: echo.port } });
    setProxyVariables({ https_proxy: proxy.url });
    await assertRefusedBeforeSending(client('orders.example.invalid:50051'));
  });

  it('no_proxy naming the proxy host does not clear a remote target tunnelled through it → FAILED_PRECONDITION', async () => {
    await freshProxy({ upstream: { host: '127.0.0.1', port: echo.port } });
    // grpc-js proxies orders.example.invalid; the channel then dials 127.0.0.1:<proxy port>, which no_proxy names.
    setProxyVariables({ grpc_proxy: proxy.url, no_proxy: '127.0.0.1' });
    await assertRefusedBeforeSending(client('orders.example.invalid:50051'));
  });

  it('no_proxy or no_grpc_proxy listing the target host → the token goes directly, the proxy sees nothing', async () => {
    await freshProxy();
    for (const [noProxyVariable, target] of [
      ['no_proxy', echo.address],
      ['no_grpc_proxy', echo.address],
      ['no_proxy', `localhost:${echo.port}`],
    ] as const) {
      const host = target.slice(0, target.lastIndexOf(':'));
      setProxyVariables({ http_proxy: proxy.url, [noProxyVariable]: `orders.example,${host}` });
      const outcome = await unary(client(target), new Metadata());
      assert.equal(outcome.code, status.OK, `${noProxyVariable}=${host}`);
    }
    assert.equal(proxy.connections, 0);
    assert.deepEqual(seen, [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
  });

  it('no_grpc_proxy, when set, replaces no_proxy (as in grpc-js) → FAILED_PRECONDITION although no_proxy lists the host', async () => {
    await freshProxy();
    setProxyVariables({ grpc_proxy: proxy.url, no_grpc_proxy: 'orders.example', no_proxy: '127.0.0.1' });
    await assertRefusedBeforeSending(client(echo.address));
  });

  it('no_proxy entries that only some grpc-js versions honour (CIDR, suffix, spaces, *) → FAILED_PRECONDITION', async () => {
    await freshProxy();
    for (const noProxy of ['127.0.0.0/8', '.0.0.1', 'orders.example, 127.0.0.1', '*']) {
      setProxyVariables({ grpc_proxy: proxy.url, no_proxy: noProxy });
      const outcome = await unary(client(echo.address), new Metadata());
      assert.equal(outcome.code, status.FAILED_PRECONDITION, noProxy);
    }
    assert.equal(proxy.connections, 0);
    assert.deepEqual(seen, []);
  });

  it("channel option grpc.enable_http_proxy: 0 is invisible to an interceptor → FAILED_PRECONDITION; with channelSecurity 'insecure' the token goes directly", async () => {
    await freshProxy();
    setProxyVariables({ grpc_proxy: proxy.url });
    assert.equal((await unary(client(echo.address, {}, { 'grpc.enable_http_proxy': 0 }), new Metadata())).code, status.FAILED_PRECONDITION);
    assert.equal(seen.length, 0);
    const outcome = await unary(client(echo.address, { channelSecurity: 'insecure' }, { 'grpc.enable_http_proxy': 0 }), new Metadata());
    assert.equal(outcome.code, status.OK);
    assert.equal(proxy.connections, 0, 'grpc-js did not use the proxy');
    assert.deepEqual(seen, [`Bearer ${TOKEN}`]);
  });

  it('proxy variables removed after the client was made: grpc-js still tunnels, the interceptor still refuses', async () => {
    await freshProxy();
    setProxyVariables({ grpc_proxy: proxy.url });
    const made = client(echo.address);
    setProxyVariables({});
    await assertRefusedBeforeSending(made);
  });

  it('proxy variables set after the client was made: the interceptor cannot tell, and refuses', async () => {
    await freshProxy();
    setProxyVariables({});
    const made = client(echo.address);
    setProxyVariables({ grpc_proxy: proxy.url });
    await assertRefusedBeforeSending(made);
  });

  it('a unix socket target: grpc-js never uses a proxy for it → the token goes directly', async (t) => {
    if (process.platform === 'win32') return t.skip('no unix sockets');
    await freshProxy();
    const dir = mkdtempSync(join(tmpdir(), 'grpc-jwt-auth-proxy-'));
    const server = new grpc.Server();
    const runs: HandlerRuns = { unary: 0, serverStream: 0, clientStream: 0, bidi: 0, ping: 0 };
    server.addService(EchoService, recordingImplementation(seen)(runs));
    const target = `unix:${join(dir, 'echo.sock')}`;
    try {
      await new Promise<number>((resolve, reject) =>
        server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
      );
      setProxyVariables({ grpc_proxy: proxy.url });
      assert.equal((await unary(client(target), new Metadata())).code, status.OK);
      assert.equal(proxy.connections, 0);
      assert.deepEqual(seen, [`Bearer ${TOKEN}`]);
    } finally {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const localhost = localhostCertificate();
if (localhost) rmSync(localhost.dir, { recursive: true, force: true });
const certificate = localhost && { key: localhost.key, cert: localhost.cert };

describe('a TLS channel through an HTTP proxy', { skip: certificate ? false : 'openssl is not available' }, () => {
  let echo: EchoServer;
  let proxy: ConnectProxy;
  const seen: string[] = [];
  const clients: Client[] = [];

  before(async () => {
    const { key, cert } = certificate as { key: Buffer; cert: Buffer };
    echo = await startEchoServer({
      implementation: recordingImplementation(seen),
      credentials: grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }], false),
    });
    proxy = await startConnectProxy();
    setProxyVariables({ grpc_proxy: proxy.url });
  });
  after(async () => {
    restoreProxyVariables();
    for (const made of clients) made.close();
    await proxy.close();
    await echo.close();
  });

  it("channelSecurity 'tls' and createCallCredentials: the token crosses the proxy only inside TLS", async () => {
    const interceptorClient = new EchoClient(echo.address, grpc.credentials.createSsl(certificate?.cert), {
      interceptors: [createTokenInterceptor({ token: TOKEN, channelSecurity: 'tls' })],
    }) as Client;
    const credentialsClient = new EchoClient(
      echo.address,
      grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(certificate?.cert), createCallCredentials(TOKEN)),
    ) as Client;
    clients.push(interceptorClient, credentialsClient);
    assert.equal((await unary(interceptorClient, new Metadata())).code, status.OK);
    assert.equal((await unary(credentialsClient, new Metadata())).code, status.OK);
    assert.deepEqual(seen, [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    assert.ok(proxy.tunnels.length > 0, 'the calls went through the proxy');
    assert.equal(proxy.sent().includes(TOKEN), false, 'the proxy saw the token');
  });
});
