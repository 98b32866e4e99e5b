import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createAuthenticator, fromIssuer, fromJwks, fromSecret, type AuthInterceptor, type IssuerOptions } from '../../src/index.ts';
import { createTestIssuer, type ServedIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { allKinds, bearer, unary } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { json, startFakeProvider, type FakeProvider } from '../support/fake-provider.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const C_ISSUER = 'https://c.example';

describe('several issuers, end to end over gRPC', () => {
  // A: ES256 by OIDC discovery; B: RS256 by a JWKS URL; C: HS256 shared secret, audience from the top level.
  let a: TestIssuer;
  let b: TestIssuer;
  let c: TestIssuer;
  let servedA: ServedIssuer;
  let providerB: FakeProvider;
  let trap: FakeProvider;
  let auth: AuthInterceptor;
  let echo: EchoServer;
  const requests = () => servedA.requestCount('/.well-known/openid-configuration') + servedA.requestCount('/jwks.json') + providerB.total();

  before(async () => {
    a = await createTestIssuer({ alg: 'ES256', audience: 'orders-api' });
    servedA = await a.serve();
    b = await createTestIssuer({ alg: 'RS256', issuer: 'https://b.example', audience: 'billing-api', kid: 'b-key' });
    providerB = await startFakeProvider();
    providerB.on(
      '/jwks.json',
      json(() => b.jwks),
    );
    c = await createTestIssuer({ alg: 'HS256', issuer: C_ISSUER, audience: 'shared-api' });
    trap = await startFakeProvider();
    trap.on(
      '/keys',
      json(() => a.jwks),
    );
    auth = createAuthInterceptor({
      audience: 'shared-api',
      issuers: [
        { issuer: a.issuer, keys: fromIssuer(servedA.url), algorithms: ['ES256'], audience: 'orders-api' },
        { issuer: b.issuer, keys: fromJwks(`${providerB.url}/jwks.json`), algorithms: ['RS256'], audience: 'billing-api' },
        { issuer: C_ISSUER, keys: c.keys, algorithms: ['HS256'] },
      ],
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(async () => {
    auth.close();
    await echo.close();
    await servedA.close();
    await providerB.close();
    await trap.close();
  });

  it('a token from an unconfigured issuer is refused before any key is fetched', async () => {
    const tokens = [
      await a.sign({ iss: 'https://evil.example' }),
      await a.sign({ iss: `${a.issuer}/` }),
      await a.sign({ iss: [a.issuer] }),
      await a.sign({ iss: undefined }),
      await a.sign({ iss: 'https://evil.example' }, { header: { jku: `${trap.url}/keys`, x5u: `${trap.url}/keys` } }),
    ];
    for (const token of tokens) {
      const outcome = await unary(echo.client, meta(token));
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'ISSUER_INVALID');
    }
    assert.equal(requests(), 0, 'no provider was asked');
    assert.equal(trap.total(), 0, 'a URL inside a token is never fetched');
    assert.equal(echo.runs.unary, 0);
  });

  it("each issuer's tokens pass on every call kind, verified by its own keys", async () => {
    for (const [name, token] of [
      ['A', await a.sign()],
      ['B', await b.sign()],
      ['C', await c.sign()],
    ] as const) {
      const outcomes = await allKinds(echo.client, () => meta(token));
      for (const [kind, outcome] of Object.entries(outcomes)) assert.equal(outcome.code, status.OK, `${name} ${kind}`);
    }
    assert.equal(servedA.requestCount('/.well-known/openid-configuration'), 1);
    assert.equal(servedA.requestCount('/jwks.json'), 1);
    assert.equal(providerB.count('/jwks.json'), 1);
  });

  it("each issuer's audience applies to its own tokens; the top-level audience is the default", async () => {
    const cases: Array<[string, Promise<string>, string | undefined]> = [
      ["A's token for B's audience", a.sign({ aud: 'billing-api' }), 'AUDIENCE_INVALID'],
      ["B's token for A's audience", b.sign({ aud: 'orders-api' }), 'AUDIENCE_INVALID'],
      ["C's token for A's audience", c.sign({ aud: 'orders-api' }), 'AUDIENCE_INVALID'],
      ["C's token for the default audience", c.sign({ aud: 'shared-api' }), undefined],
    ];
    for (const [name, token, reason] of cases) {
      const outcome = await unary(echo.client, meta(await token));
      assert.equal(outcome.code, reason === undefined ? status.OK : status.UNAUTHENTICATED, name);
      assert.equal(outcome.reason, reason, name);
    }
  });

  it("a token with A's iss signed by another issuer's key is refused", async () => {
    const sameKid = await createTestIssuer({ alg: 'ES256', issuer: a.issuer, audience: 'orders-api', kid: a.kid });
    const otherKid = await createTestIssuer({ alg: 'ES256', issuer: a.issuer, audience: 'orders-api', kid: 'intruder' });
    const cases: Array<[string, string, string]> = [
      ["B's RSA key (A only allows ES256)", await b.sign({ iss: a.issuer, aud: 'orders-api' }), 'ALG_NOT_ALLOWED'],
      ["C's shared secret (HS/ES confusion)", await c.sign({ iss: a.issuer, aud: 'orders-api' }), 'ALG_NOT_ALLOWED'],
      ["a foreign EC key under A's kid", await sameKid.sign(), 'SIGNATURE_INVALID'],
      ['a foreign EC key under an unknown kid', await otherKid.sign(), 'KEY_NOT_FOUND'],
      ["A's key claiming C's iss (C only allows HS256)", await a.sign({ iss: C_ISSUER, aud: 'shared-api' }), 'ALG_NOT_ALLOWED'],
    ];
    const before = echo.runs.unary;
    for (const [name, token, reason] of cases) {
      const outcome = await unary(echo.client, meta(token));
      assert.equal(outcome.code, status.UNAUTHENTICATED, name);
      assert.equal(outcome.reason, reason, name);
    }
    assert.equal(echo.runs.unary, before);
    assert.ok(servedA.requestCount('/jwks.json') <= 2, 'an unknown kid costs at most one refetch per cooldown');
  });
});

describe('several issuers: configuration', () => {
  const isConfigError = (option: string) => (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option;
  const secret = fromSecret('s'.repeat(32));
  const entry = (issuer: string, extra: Record<string, unknown> = {}): IssuerOptions =>
    ({ issuer, keys: secret, algorithms: ['HS256'], ...extra }) as IssuerOptions;

  it('names the option at fault', () => {
    assert.throws(() => createAuthenticator({ issuers: [] }), isConfigError('issuers'));
    assert.throws(() => createAuthenticator({ keys: secret, issuers: [entry('a')] }), isConfigError('issuers'));
    assert.throws(() => createAuthenticator({ issuer: 'a', issuers: [entry('a')] }), isConfigError('issuers'));
    assert.throws(() => createAuthenticator({ issuers: [entry('a'), entry('a')] }), isConfigError('issuers[1].issuer'));
    assert.throws(() => createAuthenticator({ issuers: [entry('')] }), isConfigError('issuers[0].issuer'));
    assert.throws(() => createAuthenticator({ issuers: [null as never] }), isConfigError('issuers[0]'));
    assert.throws(() => createAuthenticator({ issuers: [entry('a', { algorithms: ['RS256'] })] }), isConfigError('issuers[0].algorithms'));
  });

  it('a misspelt option inside an entry is refused, not silently ignored', () => {
    assert.throws(() => createAuthenticator({ issuers: [entry('a'), entry('b', { audiance: 'x' })] }), isConfigError('issuers[1].audiance'));
    assert.throws(() => createAuthenticator({ issuers: [entry('a', { maxTokenBytes: 100 })] }), isConfigError('issuers[0].maxTokenBytes'));
  });

  it('an entry property set to undefined does not erase the top-level default', async () => {
    const idp = await createTestIssuer({ alg: 'HS256', issuer: 'a', audience: 'someone-else' });
    const authenticator = createAuthenticator({
      audience: 'shared-api',
      issuers: [{ issuer: 'a', keys: idp.keys, algorithms: ['HS256'], audience: undefined as never }],
    });
    await assert.rejects(async () => authenticator.authenticate(await idp.sign(), '/x.Y/Z'), { code: 'ERR_AUTH_AUDIENCE_INVALID' });
  });
});
