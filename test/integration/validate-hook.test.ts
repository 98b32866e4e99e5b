/**
 * The `validate` hook fails closed, like guards: only `true` (or a promise of `true`) admits a call; a
 * hook that returns anything else, or forgets to return, refuses it with TOKEN_REJECTED.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createAuthenticator, type RejectedEvent } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { allKinds, bearer, unary } from '../support/calls.ts';
import { startEchoServer } from '../support/echo-server.ts';
import { countingKeys } from '../support/counting-keys.ts';

const { status, Metadata } = grpc;
const meta = (token: string) => bearer(Metadata, token);
const METHOD = '/test.v1.S/M';

/** What a hook may return instead of `true`, each of which must refuse. */
const NOT_TRUE: ReadonlyArray<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['0', 0],
  ['""', ''],
  ['1', 1],
  ['"true"', 'true'],
  ['{}', {}],
  ['a promise of undefined', Promise.resolve(undefined)],
  ['a promise of 1', Promise.resolve(1)],
  ['a promise of a promise of undefined', Promise.resolve(Promise.resolve(undefined))],
];

describe('validate hook: only true admits', () => {
  it('every call kind: a hook returning true or a promise of true → OK', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], validate: async (claims) => claims.sub === 'alice' });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const token = await idp.sign({ sub: 'alice' });
      for (const [kind, outcome] of Object.entries(await allKinds(echo.client, () => meta(token)))) assert.equal(outcome.code, status.OK, kind);
    } finally {
      await echo.close();
    }
  });

  it('unary: a hook returning anything but true (undefined, null, 0, "", 1, "true", {}, promises of those) → UNAUTHENTICATED TOKEN_REJECTED, no handler runs', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const rejected: RejectedEvent[] = [];
    const verdicts = new Map<string, unknown>(NOT_TRUE.map(([name, value]) => [name, value]));
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      validate: (claims) => (claims.jti === 'ok' ? true : verdicts.get(claims.jti as string)) as boolean,
      onRejected: (event) => rejected.push(event),
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      for (const [name] of NOT_TRUE) {
        const outcome = await unary(echo.client, meta(await idp.sign({ jti: name })));
        assert.equal(outcome.code, status.UNAUTHENTICATED, name);
        assert.equal(outcome.reason, 'TOKEN_REJECTED', name);
      }
      assert.equal(echo.runs.unary, 0);
      assert.ok(rejected.every((event) => event.error.code === 'ERR_AUTH_TOKEN_REJECTED'));
      assert.equal((await unary(echo.client, meta(await idp.sign({ jti: 'ok' })))).code, status.OK);
    } finally {
      await echo.close();
    }
  });

  it('unary: a hook that forgets to return (a denylist check without `return`) → TOKEN_REJECTED', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const denylist = new Set(['revoked']);
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      // The classic slip: the check is computed and dropped.
      validate: ((claims: { jti?: string }) => {
        void !denylist.has(claims.jti ?? '');
      }) as never,
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const outcome = await unary(echo.client, meta(await idp.sign({ jti: 'fine' })));
      assert.equal(outcome.reason, 'TOKEN_REJECTED');
      assert.equal(echo.runs.unary, 0);
    } finally {
      await echo.close();
    }
  });

  it('a refusal on a cached token leaves no stale entry: the next admitted call is verified afresh', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const keys = countingKeys(idp.keys);
    let verdict: unknown = true;
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], validate: () => verdict as boolean });
    const token = await idp.sign();
    await authenticator.authenticate(token, METHOD);
    await authenticator.authenticate(token, METHOD);
    assert.equal(keys.lookups, 1, 'the second call was a cache hit');
    let lookups = keys.lookups;
    for (const refusal of [undefined, Promise.resolve(null)]) {
      verdict = refusal;
      await assert.rejects(async () => authenticator.authenticate(token, METHOD), { code: 'ERR_AUTH_TOKEN_REJECTED' });
      verdict = true;
      await authenticator.authenticate(token, METHOD);
      assert.equal(keys.lookups, lookups + 1, 'the refused entry was evicted and verified afresh');
      await authenticator.authenticate(token, METHOD);
      assert.equal(keys.lookups, lookups + 1, 'and cached again once admitted');
      lookups = keys.lookups;
    }
  });
});
