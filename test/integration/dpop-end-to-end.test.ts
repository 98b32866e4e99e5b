/**
 * DPoP end to end, every part real: the client library (`createDpopKey`, `clientCredentials` with `dpop`,
 * `createTokenInterceptor`) gets a DPoP-bound token from the test issuer's token endpoint (which asks for
 * a nonce first), then calls a grpc-js server over TLS (a CA made by openssl for this run) whose auth
 * interceptor checks proofs with server nonces on. Covers the four call kinds, the client's one nonce
 * retry, a token refresh (a new token bound to the same key), and a server restart with another nonce
 * secret (the client's stored nonce is refused once, then the new one is used). Skips without openssl.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, findAuth, type AuthenticatedEvent, type RejectedEvent } from '../../src/index.ts';
import { clientCredentials, createDpopKey, createTokenInterceptor, decodeErrorInfo, type DpopKey } from '../../src/client/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { EchoClient, echoImplementation, startEchoServer, type EchoReply, type EchoServer, type HandlerRuns } from '../support/echo-server.ts';
import { testCertificateAuthority, type TestCertificateAuthority } from '../support/pem.ts';

type Client = grpc.Client & Record<string, any>;
type Kind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';
const KINDS: readonly Kind[] = ['unary', 'serverStream', 'clientStream', 'bidi'];
const ORIGIN = 'https://orders.test';

interface Result {
  readonly code: number;
  readonly reason: string | undefined;
  /** The jkt the handler saw (the last reply). */
  readonly text: string | undefined;
}

/** Echo whose replies carry the jkt the call proved. */
function jktEcho(runs: HandlerRuns): grpc.UntypedServiceImplementation {
  const echo = echoImplementation(runs);
  const reply = (call: { metadata: grpc.Metadata }): EchoReply => ({ text: findAuth(call)?.confirmation?.jkt ?? 'unbound', subject: '', scopes: [], count: 0 });
  return {
    ...echo,
    Unary(call: grpc.ServerUnaryCall<unknown, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.unary += 1;
      callback(null, reply(call));
    },
    ServerStream(call: grpc.ServerWritableStream<unknown, EchoReply>) {
      runs.serverStream += 1;
      call.write(reply(call));
      call.write(reply(call));
      call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<unknown, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      runs.clientStream += 1;
      call.on('data', () => undefined);
      call.on('end', () => callback(null, reply(call)));
    },
    Bidi(call: grpc.ServerDuplexStream<unknown, EchoReply>) {
      runs.bidi += 1;
      call.on('data', () => call.write(reply(call)));
      call.on('end', () => call.end());
    },
  };
}

function call(client: Client, kind: Kind): Promise<Result> {
  return new Promise((resolve) => {
    let reply: string | undefined;
    const metadata = new grpc.Metadata();
    const options: grpc.CallOptions = { deadline: Date.now() + 10_000 };
    const onReply = (error: grpc.ServiceError | null, value?: EchoReply): void => void (reply = error ? undefined : value?.text);
    let stream: NodeJS.EventEmitter;
    if (kind === 'unary') stream = client.Unary({ text: 'hi' }, metadata, options, onReply);
    else if (kind === 'serverStream') stream = client.ServerStream({ text: 'hi' }, metadata, options);
    else if (kind === 'clientStream') stream = client.ClientStream(metadata, options, onReply);
    else stream = client.Bidi(metadata, options);
    stream.on('status', (status: grpc.StatusObject) => {
      const details = status.metadata.get('grpc-status-details-bin')[0];
      resolve({ code: status.code, reason: details instanceof Buffer ? decodeErrorInfo(details)?.reason : undefined, text: reply });
    });
    stream.on('error', () => undefined);
    if (kind === 'serverStream' || kind === 'bidi') stream.on('data', (value: EchoReply) => void (reply = value.text));
    if (kind === 'clientStream' || kind === 'bidi') {
      const writable = stream as grpc.ClientWritableStream<unknown>;
      writable.write({ text: 'a' });
      writable.write({ text: 'b' });
      writable.end();
    }
  });
}

const ca: TestCertificateAuthority | undefined = testCertificateAuthority();

describe(
  'DPoP end to end: client library, test issuer token endpoint, TLS server with nonces',
  { skip: ca === undefined && 'openssl not found', timeout: 60_000 },
  () => {
    let idp: TestIssuer;
    let served: ServedIssuer;
    let serverTls: grpc.ServerCredentials;
    let channelTls: grpc.ChannelCredentials;
    const servers: EchoServer[] = [];
    const clients: Client[] = [];

    /** A TLS server with DPoP nonces derived from `secret`; its events. */
    async function serve(secret: string): Promise<{ server: EchoServer; authenticated: AuthenticatedEvent[]; rejected: RejectedEvent[] }> {
      const authenticated: AuthenticatedEvent[] = [];
      const rejected: RejectedEvent[] = [];
      const auth = createAuthInterceptor({
        keys: idp.keys,
        algorithms: [idp.alg],
        issuer: idp.issuer,
        dpop: { origins: [ORIGIN], nonce: { secret } },
        dpopBinding: 'required',
        onAuthenticated: (event) => authenticated.push(event),
        onRejected: (event) => rejected.push(event),
      });
      const server = await startEchoServer({ interceptors: [auth], implementation: jktEcho, credentials: serverTls, clientCredentials: channelTls });
      servers.push(server);
      return { server, authenticated, rejected };
    }

    /** A client of `server` over TLS whose interceptor sends `source`'s tokens with proofs of `key`. */
    function clientOf(server: EchoServer, key: DpopKey, source: ReturnType<typeof clientCredentials>): Client {
      const interceptor = createTokenInterceptor({ token: source, dpop: { key, origin: ORIGIN }, channelSecurity: 'tls' });
      const client = new EchoClient(`localhost:${server.port}`, channelTls, { interceptors: [interceptor] }) as Client;
      clients.push(client);
      return client;
    }

    before(async () => {
      const authority = ca as TestCertificateAuthority;
      const leaf = authority.issue('orders.test', 'server', ['localhost', '127.0.0.1']);
      serverTls = grpc.ServerCredentials.createSsl(authority.cert, [{ private_key: leaf.key, cert_chain: leaf.cert }], false);
      channelTls = grpc.credentials.createSsl(authority.cert);
      idp = await createTestIssuer({ alg: 'ES256' });
      served = await idp.serve({
        token: { clients: { worker: { secret: 'worker-secret', dpop: 'required' } }, dpop: { nonce: true }, accessTokenLifetime: 600 },
      });
    });

    after(async () => {
      for (const client of clients) client.close();
      await Promise.all(servers.map((server) => server.close()));
      await served.close();
      ca?.remove();
    });

    it('four call kinds: the token endpoint and the server each ask for a nonce once, the unary call is retried once, every handler sees the key', async () => {
      const key = await createDpopKey();
      const source = clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      const { server, authenticated, rejected } = await serve('first nonce secret, at least 32 bytes long');
      const client = clientOf(server, key, source);
      const tokenRequests = served.requestCount('/token');
      for (const kind of KINDS) assert.deepEqual(await call(client, kind), { code: 0, reason: undefined, text: key.thumbprint }, kind);
      assert.deepEqual(
        rejected.map((event) => event.error.code),
        ['ERR_AUTH_DPOP_NONCE_REQUIRED'],
      );
      assert.deepEqual(
        authenticated.map((event) => event.dpopThumbprint),
        KINDS.map(() => key.thumbprint),
      );
      assert.equal(served.requestCount('/token') - tokenRequests, 2, 'use_dpop_nonce, then the token');
      assert.deepEqual(server.runs, { unary: 1, serverStream: 1, clientStream: 1, bidi: 1, ping: 0 });
    });

    it('a token refresh: the new token is bound to the same key and admitted with its proofs', async () => {
      const key = await createDpopKey();
      let offset = 0;
      const source = clientCredentials({
        tokenUrl: served.tokenUrl,
        clientId: 'worker',
        clientSecret: 'worker-secret',
        dpop: key,
        clock: () => Date.now() + offset,
        jitter: 0,
      });
      const { server, authenticated } = await serve('second nonce secret, at least 32 bytes long');
      const client = clientOf(server, key, source);
      assert.equal((await call(client, 'unary')).code, 0);
      // Past the refresh point of a 600 s token (at most 60 s before expiry), on the source's clock only.
      offset = 560_000;
      const requests = served.requestCount('/token');
      for (const kind of KINDS) assert.equal((await call(client, kind)).code, 0, kind);
      assert.ok(served.requestCount('/token') > requests, 'the source fetched a new token');
      const tokens = new Set(authenticated.map((event) => event.tokenId));
      assert.equal(tokens.size, 2, 'two tokens admitted');
      assert.ok(authenticated.every((event) => event.dpopThumbprint === key.thumbprint));
    });

    it('a server restart with another nonce secret: the stored nonce is refused once (unary retried, a stream delivered refused), then the new nonce is used', async () => {
      const key = await createDpopKey();
      const source = clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: 'worker-secret', dpop: key });
      const before = await serve('secret of the server before restart, 32+ bytes');
      assert.equal((await call(clientOf(before.server, key, source), 'unary')).code, 0);
      await before.server.close();

      const restarted = await serve('secret of the server after the restart, 32+ b');
      const client = clientOf(restarted.server, key, source);
      assert.deepEqual(await call(client, 'unary'), { code: 0, reason: undefined, text: key.thumbprint });
      assert.deepEqual(
        restarted.rejected.map((event) => event.error.code),
        ['ERR_AUTH_DPOP_NONCE_REQUIRED'],
      );

      const again = await serve('secret of the server after a 2nd restart, 32+');
      const streaming = clientOf(again.server, key, source);
      // A stream is never replayed: its refusal is delivered, and its nonce kept for the next call.
      assert.deepEqual(await call(streaming, 'serverStream'), { code: grpc.status.UNAUTHENTICATED, reason: 'DPOP_NONCE_REQUIRED', text: undefined });
      for (const kind of KINDS) assert.equal((await call(streaming, kind)).code, 0, kind);
      assert.equal(again.rejected.length, 1);
      assert.equal(again.server.runs.serverStream, 1);
    });
  },
);
