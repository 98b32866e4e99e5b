/**
 * The cases of go-grpc-middleware's `interceptors/auth` tests (auth_test.go, metadata_test.go), rewritten
 * for this interceptor over real gRPC: unary and server-streaming calls without a token, with a bad one,
 * with a good one in the metadata or as per-RPC credentials; a per-service override of the default
 * (their `AuthFuncOverride`, our `'/pkg.Service/*'` rule) that is given the full method name; and the
 * parsing of the `authorization` value. Status codes and reasons only.
 *
 * Where the two libraries differ on purpose, the test says so:
 * - a bad token is UNAUTHENTICATED here (their dummy auth function answers PERMISSION_DENIED); a valid
 *   token the rule refuses is PERMISSION_DENIED;
 * - `Bearer some multi string bearer` is refused (they return the rest of the line as the token): a
 *   value with several tokens is ambiguous;
 * - two `authorization` values cannot be sent by a grpc-js client at all; what the server does with two
 *   fields on the wire is tested over raw HTTP/2 in test/security/repeated-authorization.test.ts.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, requireScopes, type GuardInfo } from '../../src/index.ts';
import { createCallCredentials } from '../../src/client/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, serverStream, unary, type Outcome } from '../support/calls.ts';
import { EchoClient, METHODS, startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { localhostCertificate } from '../support/pem.ts';

const { status, Metadata } = grpc;
type Client = grpc.Client & Record<string, any>;

const withAuthorization = (value: string): grpc.Metadata => {
  const metadata = new Metadata();
  metadata.set('authorization', value);
  return metadata;
};
const ping = (client: Client, metadata: grpc.Metadata): Promise<number> =>
  new Promise((resolve) => client.Ping({ text: '' }, metadata, (error: grpc.ServiceError | null) => resolve(error?.code ?? status.OK)));

describe('peer (go-grpc-middleware auth): unary and server stream', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  let common: string;
  const stranger = createTestIssuer({ alg: 'ES256' });

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256' });
    common = await idp.sign({ sub: 'common', scope: 'common' });
    echo = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], defaultRule: requireScopes('common') })] });
  });
  after(() => echo.close());

  it('no token → UNAUTHENTICATED; a stream opens, then its first read fails the same way', async () => {
    assert.equal((await unary(echo.client, new Metadata())).code, status.UNAUTHENTICATED);
    const stream = await serverStream(echo.client, new Metadata());
    assert.equal(stream.code, status.UNAUTHENTICATED);
    assert.equal(stream.replies.length, 0);
  });

  it('a bad token → UNAUTHENTICATED (a token signed by another issuer, or not a token at all), unary and stream', async () => {
    const forged = await (await stranger).sign({ scope: 'common' });
    for (const metadata of [bearer(Metadata, forged), bearer(Metadata, 'bad_token')]) {
      assert.equal((await unary(echo.client, metadata)).code, status.UNAUTHENTICATED);
      assert.equal((await serverStream(echo.client, metadata)).code, status.UNAUTHENTICATED);
    }
  });

  it('a valid token the rule refuses → PERMISSION_DENIED, unary and stream', async () => {
    const unscoped = await idp.sign({ scope: 'other' });
    assert.equal((await unary(echo.client, bearer(Metadata, unscoped))).code, status.PERMISSION_DENIED);
    assert.equal((await serverStream(echo.client, bearer(Metadata, unscoped))).code, status.PERMISSION_DENIED);
  });

  it("a good token passes, the scheme spelt 'bearer' (unary) or 'Bearer' (stream), and the handler sees the verified caller", async () => {
    const viaLowercase: Outcome = await unary(echo.client, withAuthorization(`bearer ${common}`));
    assert.equal(viaLowercase.code, status.OK);
    assert.equal(viaLowercase.replies[0]?.subject, 'common');
    const viaStream = await serverStream(echo.client, withAuthorization(`Bearer ${common}`));
    assert.equal(viaStream.code, status.OK);
    assert.ok(viaStream.replies.length > 0);
    assert.ok(viaStream.replies.every((reply) => reply.subject === 'common'));
  });
});

const localhost = localhostCertificate();
if (localhost) rmSync(localhost.dir, { recursive: true, force: true });

describe('peer (go-grpc-middleware auth): per-RPC credentials', { skip: localhost ? false : 'openssl is not available' }, () => {
  it('the token as call credentials on a TLS channel passes, unary and stream', async () => {
    const { key, cert } = localhost as { key: Buffer; cert: Buffer };
    const idp = await createTestIssuer({ alg: 'ES256' });
    const echo = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'] })],
      credentials: grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }], false),
    });
    const token = await idp.sign({ sub: 'per-rpc' });
    const client = new EchoClient(
      echo.address,
      grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(cert), createCallCredentials(token)),
    ) as Client;
    try {
      const single = await unary(client, new Metadata());
      assert.equal(single.code, status.OK);
      assert.equal(single.replies[0]?.subject, 'per-rpc');
      assert.equal((await serverStream(client, new Metadata())).code, status.OK);
    } finally {
      client.close();
      await echo.close();
    }
  });
});

describe('peer (go-grpc-middleware auth): a per-service override of the default (AuthFuncOverride)', () => {
  it('a service rule replaces the default for that service only, and its guard is given the full method name', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const seenMethods: string[] = [];
    const override = requireScopes('override');
    const echo = await startEchoServer({
      interceptors: [
        createAuthInterceptor({
          keys: idp.keys,
          algorithms: ['ES256'],
          defaultRule: requireScopes('common'),
          rules: {
            '/test.echo.v1.Echo/*': (auth, info: GuardInfo) => {
              seenMethods.push(info.method);
              return override(auth, info);
            },
          },
        }),
      ],
    });
    try {
      const overrideToken = bearer(Metadata, await idp.sign({ scope: 'override' }));
      const commonToken = bearer(Metadata, await idp.sign({ scope: 'common' }));
      assert.equal((await unary(echo.client, overrideToken)).code, status.OK);
      assert.equal((await serverStream(echo.client, overrideToken)).code, status.OK);
      assert.equal((await unary(echo.client, commonToken)).code, status.PERMISSION_DENIED, 'the override, not the default, decides its service');
      assert.equal(await ping(echo.publicClient, commonToken), status.OK, 'other services keep the default');
      assert.equal(await ping(echo.publicClient, overrideToken), status.PERMISSION_DENIED);
      assert.deepEqual(seenMethods, [METHODS.unary, METHODS.serverStream, METHODS.unary]);
    } finally {
      await echo.close();
    }
  });
});

describe('peer (go-grpc-middleware auth): reading the authorization value', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    echo = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] })] });
  });
  after(() => echo.close());

  it('the scheme in any case, then one token → OK', async () => {
    const token = await idp.sign();
    for (const scheme of ['bearer', 'Bearer', 'BEARER'])
      assert.equal((await unary(echo.client, withAuthorization(`${scheme} ${token}`))).code, status.OK, scheme);
  });

  it('another scheme, an empty value, a scheme without a token, several tokens → UNAUTHENTICATED AUTHORIZATION_MALFORMED', async () => {
    const token = await idp.sign();
    const runsBefore = echo.runs.unary;
    for (const value of ['Basic login:passwd', '', 'Bearer', `Bearer ${token} ${token}`, 'Bearer some multi string bearer']) {
      const outcome = await unary(echo.client, withAuthorization(value));
      assert.equal(outcome.code, status.UNAUTHENTICATED, JSON.stringify(value));
      assert.equal(outcome.reason, 'AUTHORIZATION_MALFORMED', JSON.stringify(value));
    }
    assert.equal(echo.runs.unary, runsBefore, 'no handler ran');
  });
});
