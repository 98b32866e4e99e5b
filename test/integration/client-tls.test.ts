import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor } from '../../src/index.ts';
import { clientCredentials, createCallCredentials, createTokenInterceptor } from '../../src/client/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, unary } from '../support/calls.ts';
import { EchoClient, startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { localhostCertificate } from '../support/pem.ts';

const { status, Metadata } = grpc;
type Client = grpc.Client & Record<string, any>;
const SECRET = 'worker-secret-0123456789';

const localhost = localhostCertificate();
if (localhost) rmSync(localhost.dir, { recursive: true, force: true });
const certificate = localhost && { key: localhost.key, cert: localhost.cert };

describe('call credentials and the interceptor over TLS', { skip: certificate ? false : 'openssl is not available' }, () => {
  let idp: TestIssuer;
  let served: ServedIssuer;
  let echo: EchoServer;
  const rejected: string[] = [];
  const clients: Client[] = [];
  const tlsClient = (channelCredentials: grpc.ChannelCredentials, options: grpc.ClientOptions = {}): Client => {
    const client = new EchoClient(echo.address, channelCredentials, options) as Client;
    clients.push(client);
    return client;
  };
  const source = () => clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: SECRET });

  before(async () => {
    const { key, cert } = certificate as { key: Buffer; cert: Buffer };
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    served = await idp.serve({ token: { clients: { worker: { secret: SECRET } } } });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      onRejected: (event) => rejected.push(event.error.reason),
    });
    echo = await startEchoServer({
      interceptors: [auth],
      credentials: grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }], false),
    });
  });
  after(async () => {
    for (const client of clients) client.close();
    await echo.close();
    await served.close();
  });

  it('createCallCredentials: every call kind carries the token over a TLS channel', async () => {
    const channel = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(certificate?.cert), createCallCredentials(source()));
    const outcomes = await allKinds(tlsClient(channel), () => new Metadata());
    for (const [kind, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.code, status.OK, kind);
      assert.equal(outcome.replies[0]?.subject, 'worker', kind);
    }
  });

  it('createCallCredentials: no token to be had → UNAVAILABLE (endpoint down) or UNAUTHENTICATED (bad secret), nothing reaches the server', async () => {
    const rejectedBefore = rejected.length;
    served.tokenEndpoint.injectFault({ kind: 'status', status: 503 }, 1);
    const down = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(certificate?.cert), createCallCredentials(source()));
    const unavailable = await unary(tlsClient(down), new Metadata());
    assert.equal(unavailable.code, status.UNAVAILABLE);
    assert.match(unavailable.details, /ERR_TOKEN_ENDPOINT_UNAVAILABLE/);
    const wrong = clientCredentials({ tokenUrl: served.tokenUrl, clientId: 'worker', clientSecret: 'not-the-secret' });
    const bad = grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(certificate?.cert), createCallCredentials(wrong));
    const unauthenticated = await unary(tlsClient(bad), new Metadata());
    assert.equal(unauthenticated.code, status.UNAUTHENTICATED);
    assert.equal(unauthenticated.details.includes('not-the-secret'), false);
    assert.equal(rejected.length, rejectedBefore);
  });

  it('grpc-js itself refuses call credentials on an insecure channel: they can never leak a token in plaintext', () => {
    assert.throws(() => grpc.credentials.combineChannelCredentials(grpc.credentials.createInsecure(), createCallCredentials('abc')));
  });

  it("the interceptor with channelSecurity 'tls' on a TLS channel: calls succeed and no plaintext warning is raised", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? '');
    process.on('warning', onWarning);
    try {
      const client = tlsClient(grpc.credentials.createSsl(certificate?.cert), {
        interceptors: [createTokenInterceptor({ token: source(), channelSecurity: 'tls' })],
      });
      for (let i = 0; i < 3; i++) assert.equal((await unary(client, new Metadata())).code, status.OK);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
