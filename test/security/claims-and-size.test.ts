/**
 * Attack classes: claim types and boundaries (with a fixed clock, so "the exact second" is exact), and
 * size and shape: huge tokens, many claims, deep nesting and huge headers, refused by the size cap before
 * any JSON parsing or crypto.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createAuthenticator, fromSecret, type KeyResolver } from '../../src/index.ts';
import { unary } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { b64u, hmacToken } from './forge.ts';
import { rawUnaryCall } from './raw-http2.ts';
import { AUDIENCE, ISSUER, bearer, expectRefused, startTargets, type Target, type Targets } from './targets.ts';

const NOW = 1_900_000_000;
const SECRET = 'boundary-secret-boundary-secret-!!';

/** A secret-keyed server whose clock stands still at NOW (plus `tolerance` seconds of skew allowed). */
async function fixedClockTarget(tolerance: number): Promise<{ echo: EchoServer; call(claims: Record<string, unknown>): Promise<number> }> {
  const echo = await startEchoServer({
    interceptors: [
      createAuthInterceptor({
        keys: fromSecret(SECRET),
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        clockTolerance: tolerance,
        clock: () => NOW * 1000,
      }),
    ],
  });
  return {
    echo,
    call: async (claims) => (await unary(echo.client, bearer(hmacToken('HS256', SECRET, {}, { iss: ISSUER, aud: AUDIENCE, ...claims })))).code,
  };
}

describe('attack: time claims at and around the boundaries', () => {
  const OK = grpc.status.OK;
  const UNAUTH = grpc.status.UNAUTHENTICATED;
  let strict: Awaited<ReturnType<typeof fixedClockTarget>>;
  let tolerant: Awaited<ReturnType<typeof fixedClockTarget>>;
  before(async () => {
    strict = await fixedClockTarget(0);
    tolerant = await fixedClockTarget(30);
  });
  after(async () => {
    await strict.echo.close();
    await tolerant.echo.close();
  });

  it('exp: one second ahead passes; the exact second and one second ago fail; tolerance shifts both', async () => {
    assert.equal(await strict.call({ exp: NOW + 1 }), OK);
    assert.equal(await strict.call({ exp: NOW }), UNAUTH);
    assert.equal(await strict.call({ exp: NOW - 1 }), UNAUTH);
    assert.equal(await tolerant.call({ exp: NOW - 29 }), OK);
    assert.equal(await tolerant.call({ exp: NOW - 30 }), UNAUTH);
  });
  it('nbf and iat: the exact second passes, one second later fails unless tolerated', async () => {
    assert.equal(await strict.call({ exp: NOW + 60, nbf: NOW, iat: NOW }), OK);
    assert.equal(await strict.call({ exp: NOW + 60, nbf: NOW + 1 }), UNAUTH);
    assert.equal(await strict.call({ exp: NOW + 60, iat: NOW + 1 }), UNAUTH);
    assert.equal(await tolerant.call({ exp: NOW + 60, nbf: NOW + 30, iat: NOW + 30 }), OK);
    assert.equal(await tolerant.call({ exp: NOW + 60, nbf: NOW + 31 }), UNAUTH);
  });
  it('exp, nbf, iat as strings, null, arrays, objects, booleans, 1e21-as-string, negative or past year 9999 → UNAUTHENTICATED; floats are numbers', async () => {
    for (const name of ['exp', 'nbf', 'iat']) {
      for (const value of [String(NOW + 60), null, [NOW + 60], { n: NOW + 60 }, true, '1e21']) {
        assert.equal(await strict.call({ exp: NOW + 60, [name]: value }), UNAUTH, `${name}: ${JSON.stringify(value)}`);
      }
    }
    assert.equal(await strict.call({ exp: NOW + 0.5 }), OK, 'a fractional exp in the future');
    assert.equal(await strict.call({ exp: NOW - 0.5 }), UNAUTH);
    assert.equal(await strict.call({ exp: -1 }), UNAUTH, 'negative exp');
    assert.equal(await strict.call({ exp: 1e21 }), UNAUTH, '1e21 names no real date: a token that never expires under another name');
    assert.equal(await strict.call({ exp: NOW + 60, nbf: -1e21 }), UNAUTH);
    assert.equal(await strict.call({ exp: NOW + 60, nbf: 0 }), OK);
  });
  it('exp: 1e400 (Infinity once parsed) written into a correctly signed token → UNAUTHENTICATED', async () => {
    const token = hmacToken('HS256', SECRET, {}, `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":1e400}`);
    assert.equal((await unary(strict.echo.client, bearer(token))).code, UNAUTH);
    const negative = hmacToken('HS256', SECRET, {}, `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW + 60},"nbf":-1e400}`);
    assert.equal((await unary(strict.echo.client, bearer(negative))).code, UNAUTH);
  });
});

describe('attack: typ spellings (RFC 7515 §4.1.9: application/ is implied only for values without a slash)', () => {
  it('typ text/plain expected: application/text/plain → UNAUTHENTICATED TOKEN_TYPE_INVALID; TEXT/PLAIN → OK', async () => {
    const echo = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: fromSecret(SECRET), algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, typ: 'text/plain' })],
    });
    try {
      const call = (typ: string) =>
        unary(echo.client, bearer(hmacToken('HS256', SECRET, { typ }, { iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 })));
      const outcome = await call('application/text/plain');
      assert.equal(outcome.code, grpc.status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_TYPE_INVALID');
      assert.equal((await call('TEXT/PLAIN')).code, grpc.status.OK);
      assert.equal(echo.runs.unary, 1);
    } finally {
      await echo.close();
    }
  });
});

describe('attack: issuer, audience, subject and payload shapes', () => {
  let targets: Targets;
  before(async () => {
    targets = await startTargets();
  });
  after(() => targets.close());
  const claims = (extra: Record<string, unknown>) => ({ iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600, ...extra });
  const each = async (attack: (t: Target) => Promise<unknown>) => {
    for (const t of targets.all) await attack(t);
  };

  it('iss with the trailing slash removed, an extra slash, case changed, a suffix domain, an array, a number → UNAUTHENTICATED', () =>
    each(async (t) => {
      for (const iss of [
        ISSUER.slice(0, -1),
        `${ISSUER}/`,
        ISSUER.toUpperCase(),
        'https://idp.security.test.evil.example/',
        'https://evil.example/?https://idp.security.test/',
        [ISSUER],
        1,
        null,
      ]) {
        await expectRefused(t, t.good({ iss }));
      }
    }));
  it('aud empty array, nested array, wrong case, prefix, suffix, number, object → UNAUTHENTICATED', () =>
    each(async (t) => {
      for (const aud of [[], [[AUDIENCE]], AUDIENCE.toUpperCase(), `${AUDIENCE}x`, AUDIENCE.slice(1), 1, { aud: AUDIENCE }, null, '']) {
        await expectRefused(t, t.good({ aud }));
      }
    }));
  it('sub and jti not strings → UNAUTHENTICATED', () =>
    each(async (t) => {
      for (const sub of [1, null, ['admin'], { id: 'admin' }]) await expectRefused(t, t.good({ sub }));
      await expectRefused(t, t.good({ jti: 7 }));
    }));
  it('payload an array, a string, a number, null, not UTF-8, a nested JWT, empty → UNAUTHENTICATED', () =>
    each(async (t) => {
      for (const payload of ['[1,2]', '"a string"', '42', 'null', 'true', '', t.good()]) await expectRefused(t, t.raw(payload));
      await expectRefused(t, t.raw(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xc3, 0x28, 0x7d])));
      await expectRefused(t, t.raw(`{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":1e999`));
    }));
  it('duplicate keys: the last value is the one checked (same as jose and JSON.parse)', () =>
    each(async (t) => {
      const exp = Math.floor(Date.now() / 1000) + 600;
      await expectRefused(t, t.raw(`{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${exp},"aud":"other-api"}`));
      const accepted = await unary(t.echo.client, bearer(t.raw(`{"iss":"${ISSUER}","aud":"other-api","exp":${exp},"aud":"${AUDIENCE}"}`)));
      assert.equal(accepted.code, grpc.status.OK);
    }));
  it('a token whose claims are all correct except a prototype-polluting key still gets only its own claims', () =>
    each(async (t) => {
      const token = t.raw(JSON.stringify(claims({})).replace(/}$/, ',"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}'));
      const outcome = await unary(t.echo.client, bearer(token));
      assert.equal(outcome.code, grpc.status.OK);
      assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype untouched');
    }));
});

describe('attack: size and shape, refused by the size cap before parsing or crypto', () => {
  let echo: EchoServer;
  let lookups = 0;
  before(async () => {
    const secret = fromSecret(SECRET);
    const counting: KeyResolver = {
      ...secret,
      kind: 'secret',
      description: 'counting',
      checkAlgorithms: (a, o) => secret.checkAlgorithms(a, o),
      holds: (k) => secret.holds(k),
      getKeys: (l) => (lookups++, secret.getKeys(l)),
    };
    // The transport's metadata limit is raised, and the calls go out over bare HTTP/2 (grpc-js caps what
    // it sends at 64 KiB), so that oversized tokens really reach the interceptor.
    echo = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: counting, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE })],
      serverOptions: { 'grpc.max_metadata_size': 8 * 1024 * 1024 },
    });
  });
  after(() => echo.close());

  const expectTooLarge = async (token: string) => {
    const outcome = await rawUnaryCall(echo.address, '/test.echo.v1.Echo/Unary', { authorization: `Bearer ${token}` });
    assert.equal(outcome.code, grpc.status.UNAUTHENTICATED, outcome.transportError);
    assert.equal(outcome.reason, 'TOKEN_TOO_LARGE');
  };
  const goodCallSucceeds = async () => {
    const good = await unary(echo.client, bearer(hmacToken('HS256', SECRET, {}, { iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 })));
    assert.equal(good.code, grpc.status.OK);
  };

  it('over gRPC, up to the HTTP/2 header limit: a 60 KiB token, 4,000 claims, 30,000-deep nesting, a 60 KiB header → TOKEN_TOO_LARGE, no key lookup', async () => {
    const manyClaims = Object.fromEntries(Array.from({ length: 4_000 }, (_, i) => [`c${i}`, i]));
    await expectTooLarge(`${'a'.repeat(60 * 1024)}.b.c`);
    await expectTooLarge(hmacToken('HS256', SECRET, {}, { iss: ISSUER, aud: AUDIENCE, exp: 2e9, ...manyClaims }));
    await expectTooLarge(`${b64u({ alg: 'HS256' })}.${b64u(`{"a":${'['.repeat(22_000)}${']'.repeat(22_000)}}`)}.${b64u('sig')}`);
    await expectTooLarge(hmacToken('HS256', SECRET, { pad: 'x'.repeat(40 * 1024) }, { iss: ISSUER, aud: AUDIENCE, exp: 2e9 }));
    assert.equal(lookups, 0, 'no key lookup, so jose never ran');
    assert.equal(echo.runs.unary, 0);
    await goodCallSucceeds();
  });

  it('over gRPC, a 1 MiB token and 50,000 claims are refused by the HTTP/2 layer (nghttp2 caps a header at 64 KiB); the server keeps serving', async () => {
    const manyClaims = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`c${i}`, i]));
    const [lookupsBefore, runsBefore] = [lookups, echo.runs.unary];
    for (const token of [`${'a'.repeat(1024 * 1024)}.b.c`, hmacToken('HS256', SECRET, {}, { exp: 2e9, ...manyClaims })]) {
      const outcome = await rawUnaryCall(echo.address, '/test.echo.v1.Echo/Unary', { authorization: `Bearer ${token}` });
      assert.notEqual(outcome.code, grpc.status.OK);
    }
    assert.equal(lookups, lookupsBefore);
    assert.equal(echo.runs.unary, runsBefore);
    await goodCallSucceeds();
  });

  it('the authenticator itself: a 1 MiB token, 50,000 claims, a 100,000-deep payload and a huge header → TOKEN_TOO_LARGE before any parsing', async () => {
    const secret = fromSecret(SECRET);
    let directLookups = 0;
    const authenticator = createAuthenticator({
      keys: {
        ...secret,
        kind: 'secret',
        description: 'counting',
        checkAlgorithms: (a, o) => secret.checkAlgorithms(a, o),
        holds: (k) => secret.holds(k),
        getKeys: (l) => (directLookups++, secret.getKeys(l)),
      },
      algorithms: ['HS256'],
    });
    const manyClaims = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`c${i}`, i]));
    const tokens = [
      `${'a'.repeat(1024 * 1024)}.b.c`,
      hmacToken('HS256', SECRET, {}, { exp: 2e9, ...manyClaims }),
      `${b64u({ alg: 'HS256' })}.${b64u(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)}.${b64u('sig')}`,
      hmacToken('HS256', SECRET, { pad: 'x'.repeat(1024 * 1024) }, { exp: 2e9 }),
    ];
    for (const token of tokens) {
      await assert.rejects(async () => authenticator.authenticate(token, '/x.Y/Z'), { code: 'ERR_AUTH_TOKEN_TOO_LARGE' });
    }
    assert.equal(directLookups, 0);
  });

  it('nesting within the size cap (2,000 deep) is parsed without harm and accepted on its merits', async () => {
    const nested = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${Math.floor(Date.now() / 1000) + 60},"n":${'['.repeat(2000)}${']'.repeat(2000)}}`;
    const outcome = await unary(echo.client, bearer(hmacToken('HS256', SECRET, {}, nested)));
    assert.equal(outcome.code, grpc.status.OK);
  });
});
