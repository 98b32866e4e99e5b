/**
 * `maxConcurrentVerifications` over real gRPC calls: a key resolver that holds verifications open fills
 * the bound deterministically. Past it, a token that needs a full verification is refused at once with
 * UNAVAILABLE VERIFIER_BUSY, while a cached token still passes and a call presenting a token already
 * being verified joins it. The bound never leaks: after refusals, failures and cancelled calls, exactly
 * `max` verifications fit again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AuthConfigError, AuthError, createAuthInterceptor, createAuthenticator, isAuthError, type KeyResolver } from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, serverStream, unary, type Outcome } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
const MAX = 2;

/** A key resolver in front of `keys` whose lookups wait while it is closed. */
function gatedKeys(keys: KeyResolver) {
  let open = true;
  let waiters: Array<() => void> = [];
  let arrivals: Array<() => void> = [];
  let waiting = 0;
  let failNext = 0;
  const resolver: KeyResolver = {
    kind: keys.kind,
    description: 'gated test keys',
    checkAlgorithms: (algorithms, option) => keys.checkAlgorithms(algorithms, option),
    holds: (key) => keys.holds(key),
    async getKeys(lookup) {
      if (failNext > 0) {
        failNext -= 1;
        throw new AuthError('ERR_AUTH_KEYS_UNAVAILABLE', 'test: keys down');
      }
      if (!open) {
        waiting += 1;
        for (const arrived of arrivals) arrived();
        arrivals = [];
        await new Promise<void>((resolve) => waiters.push(resolve));
        waiting -= 1;
      }
      return keys.getKeys(lookup);
    },
  };
  return {
    resolver,
    close: () => {
      open = false;
    },
    release: () => {
      open = true;
      for (const resolve of waiters) resolve();
      waiters = [];
    },
    failNext: (count: number) => {
      failNext = count;
    },
    /** Resolves once `count` lookups are held. */
    held: async (count: number) => {
      while (waiting < count) await new Promise<void>((resolve) => arrivals.push(resolve));
    },
  };
}

describe('maxConcurrentVerifications: excess full verifications are shed with UNAVAILABLE VERIFIER_BUSY', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  let gate: ReturnType<typeof gatedKeys>;
  const meta = (token: string) => bearer(Metadata, token);
  const warnings: Array<Record<string, unknown>> = [];

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
    gate = gatedKeys(idp.keys);
    const auth = createAuthInterceptor({
      keys: gate.resolver,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      maxConcurrentVerifications: MAX,
      logger: { warn: (fields) => warnings.push(fields) },
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(async () => {
    gate.release();
    await echo.close();
  });

  /** Fills the bound with `MAX` new tokens held in key lookup; resolves with their pending calls. */
  async function fill(): Promise<Array<Promise<Outcome>>> {
    gate.close();
    const tokens = await Promise.all(Array.from({ length: MAX }, (_, i) => idp.sign({ sub: `held-${i}` })));
    const pending = tokens.map((token) => unary(echo.client, meta(token)));
    await gate.held(MAX);
    return pending;
  }

  function assertBusy(outcome: Outcome, label: string): void {
    assert.equal(outcome.code, status.UNAVAILABLE, label);
    assert.equal(outcome.reason, 'VERIFIER_BUSY', label);
  }

  it('with the bound full: a new token → UNAVAILABLE VERIFIER_BUSY at once (unary and stream), a cached token passes; after release all pass', async () => {
    const cached = await idp.sign({ sub: 'cached' });
    assert.equal((await unary(echo.client, meta(cached))).code, status.OK);
    const runs = echo.runs.unary;
    const pending = await fill();

    const fresh = await idp.sign({ sub: 'fresh' });
    assertBusy(await unary(echo.client, meta(fresh)), 'unary');
    assertBusy(await serverStream(echo.client, meta(fresh)), 'server stream');
    const hit = await unary(echo.client, meta(cached));
    assert.equal(hit.code, status.OK, 'a cache hit never waits for the bound');
    assert.equal(hit.replies[0]?.subject, 'cached');
    assert.equal(echo.runs.unary, runs + 1, 'no refused call ran its handler');
    // Shedding is the server's trouble: a warning at once, then quiet (at most one a minute).
    assert.deepEqual(
      warnings.map(({ code, refused }) => [code, refused]),
      [['ERR_AUTH_VERIFIER_BUSY', 1]],
    );
    gate.release();
    for (const outcome of await Promise.all(pending)) assert.equal(outcome.code, status.OK);
    assert.equal((await unary(echo.client, meta(fresh))).code, status.OK, 'the shed token passes once the bound frees');
  });

  it('with the bound full: a token refused on its form gets that verdict, not VERIFIER_BUSY (only key lookup and signature check count)', async () => {
    const pending = await fill();
    const fresh = await idp.sign({ sub: 'fresh' });
    const [head, body, signature] = fresh.split('.');
    const cases: Array<[string, string]> = [
      ['not.a.jws!', 'TOKEN_MALFORMED'],
      [`${head}.${body}`, 'TOKEN_MALFORMED'],
      [`${head}.${body}.${signature}=`, 'TOKEN_MALFORMED'],
    ];
    for (const [token, reason] of cases) {
      const outcome = await unary(echo.client, meta(token));
      assert.equal(outcome.reason, reason, token.slice(0, 20));
    }

    gate.release();
    for (const outcome of await Promise.all(pending)) assert.equal(outcome.code, status.OK);
    assert.equal((await unary(echo.client, meta(fresh))).code, status.OK, 'the shed token passes once the bound frees');
  });

  it('a call presenting a token already being verified joins that verification instead of being shed', async () => {
    gate.close();
    const tokens = await Promise.all(Array.from({ length: MAX }, (_, i) => idp.sign({ sub: `shared-${i}` })));
    const first = tokens.map((token) => unary(echo.client, meta(token)));
    await gate.held(MAX);
    const joined = unary(echo.client, meta(tokens[0] as string));
    gate.release();
    for (const outcome of await Promise.all([...first, joined])) assert.equal(outcome.code, status.OK);
  });

  it('the bound never leaks: after failed key lookups, forged tokens and calls cancelled by their deadline, exactly max verifications fit again', async () => {
    // Key lookups that fail.
    gate.failNext(3);
    for (let i = 0; i < 3; i++) {
      const outcome = await unary(echo.client, meta(await idp.sign({ sub: `down-${i}` })));
      assert.equal(outcome.reason, 'KEYS_UNAVAILABLE');
    }
    // Signatures that do not verify.
    const [head, body] = (await idp.sign({ sub: 'victim' })).split('.');
    const signature = (await idp.sign({ sub: 'other' })).split('.')[2];
    for (let i = 0; i < 3; i++) assert.equal((await unary(echo.client, meta(`${head}.${body}.${signature}`))).reason, 'SIGNATURE_INVALID');
    // Calls that time out while their verification is held: the slot is held until it settles, then freed.
    gate.close();
    const late = await Promise.all(Array.from({ length: MAX }, (_, i) => idp.sign({ sub: `late-${i}` })));
    const timedOut = late.map((token) => unary(echo.client, meta(token), 'hi', { deadline: Date.now() + 150 }));
    await gate.held(MAX);
    for (const outcome of await Promise.all(timedOut)) assert.equal(outcome.code, status.DEADLINE_EXCEEDED);
    assertBusy(await unary(echo.client, meta(await idp.sign({ sub: 'while-held' }))), 'slots of cancelled calls are held while their verification runs');
    gate.release();
    // The same tokens again join their verifications (or hit the cache): once they pass, those settled.
    for (const token of late) assert.equal((await unary(echo.client, meta(token))).code, status.OK);

    // Exactly MAX fit: MAX new tokens are held, and one more is shed.
    const pending = await fill();
    assertBusy(await unary(echo.client, meta(await idp.sign({ sub: 'one-more' }))), 'max + 1');
    gate.release();
    for (const outcome of await Promise.all(pending)) assert.equal(outcome.code, status.OK);
  });

  it('createAuthenticator without the option: no bound (its caller decides how many it starts); 200 verifications at once all pass', async () => {
    const gated = gatedKeys(idp.keys);
    const authenticator = createAuthenticator({ keys: gated.resolver, algorithms: ['ES256'], issuer: idp.issuer, audience: 'echo-api' });
    gated.close();
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => idp.sign({ sub: `batch-${i}` })));
    const all = Promise.allSettled(tokens.map((token) => authenticator.authenticate(token, '/p.S/M')));
    await gated.held(64); // what a bound of 64 would hold
    await new Promise((resolve) => setImmediate(resolve));
    gated.release();
    assert.deepEqual(
      (await all).map((result) => result.status),
      tokens.map(() => 'fulfilled'),
    );
  });

  it('createAuthenticator: the same bound; a shed authenticate rejects with ERR_AUTH_VERIFIER_BUSY', async () => {
    const gated = gatedKeys(idp.keys);
    const authenticator = createAuthenticator({
      keys: gated.resolver,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      maxConcurrentVerifications: 1,
    });
    gated.close();
    const held = authenticator.authenticate(await idp.sign({ sub: 'a' }), '/p.S/M');
    await gated.held(1);
    const shed = await authenticator.authenticate(await idp.sign({ sub: 'b' }), '/p.S/M').then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(isAuthError(shed) && shed.code === 'ERR_AUTH_VERIFIER_BUSY' && shed.status === status.UNAVAILABLE, String(shed));
    gated.release();
    assert.equal((await held).context.subject, 'a');
  });
});

describe('maxConcurrentVerifications: hostile load and misuse (review)', () => {
  let idp: TestIssuer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api' });
  });

  it('VERIFIER_BUSY on the wire: UNAVAILABLE, fixed details, ErrorInfo reason VERIFIER_BUSY, a bare Bearer challenge (no invalid_token: nothing was judged)', async () => {
    const gate = gatedKeys(idp.keys);
    const auth = createAuthInterceptor({ keys: gate.resolver, algorithms: ['ES256'], issuer: idp.issuer, audience: 'echo-api', maxConcurrentVerifications: 1 });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      gate.close();
      const held = unary(echo.client, bearer(Metadata, await idp.sign({ sub: 'held' })));
      await gate.held(1);
      const fresh = await idp.sign({ sub: 'fresh' });
      const outcome = await unary(echo.client, bearer(Metadata, fresh));
      assert.deepEqual(
        [outcome.code, outcome.reason, outcome.details, outcome.wwwAuthenticate],
        [status.UNAVAILABLE, 'VERIFIER_BUSY', 'token verification is busy, retry later', 'Bearer'],
      );
      gate.release();
      assert.equal((await held).code, status.OK);
    } finally {
      gate.release();
      await echo.close();
    }
  });

  it('10,000 concurrent authenticate calls with a bound of 100: exactly 100 verify, 9,900 are shed, and afterwards exactly 100 fit again', async () => {
    const gate = gatedKeys(idp.keys);
    const authenticator = createAuthenticator({
      keys: gate.resolver,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      maxConcurrentVerifications: 100,
      cache: false,
    });
    // One genuine token, respelt 10,000 ways would need a signer per call: distinct garbage signatures
    // on one header and payload are distinct cache misses, each a full verification.
    const [head, body] = (await idp.sign({ sub: 'flood' })).split('.');
    const forged = Array.from({ length: 10_000 }, (_, i) => `${head}.${body}.${Buffer.from(`forged-${i}`.padEnd(64, '.')).toString('base64url')}`);
    gate.close();
    const settled = Promise.allSettled(forged.map((token) => authenticator.authenticate(token, '/p.S/M')));
    await gate.held(100);
    gate.release();
    const reasons = new Map<string, number>();
    for (const result of await settled) {
      const code = result.status === 'rejected' && isAuthError(result.reason) ? result.reason.code : result.status;
      reasons.set(code, (reasons.get(code) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(reasons), { ERR_AUTH_VERIFIER_BUSY: 9_900, ERR_AUTH_SIGNATURE_INVALID: 100 });
    gate.close();
    const again = Promise.allSettled(forged.slice(0, 101).map((token) => authenticator.authenticate(token, '/p.S/M')));
    await gate.held(100);
    gate.release();
    const codes = (await again).map((result) => (result.status === 'rejected' && isAuthError(result.reason) ? result.reason.code : result.status));
    assert.deepEqual([codes.filter((code) => code === 'ERR_AUTH_VERIFIER_BUSY').length, codes.length], [1, 101]);
  });

  it('a key resolver that throws synchronously (INTERNAL) frees its place each time; a validate hook held open holds none', async () => {
    let throwing = true;
    const keys: KeyResolver = {
      kind: idp.keys.kind,
      description: 'keys that throw synchronously',
      checkAlgorithms: (algorithms, option) => idp.keys.checkAlgorithms(algorithms, option),
      holds: (key) => idp.keys.holds(key),
      getKeys: (lookup) => {
        if (throwing) throw new TypeError('resolver bug');
        return idp.keys.getKeys(lookup);
      },
    };
    let releaseValidate = (): void => undefined;
    const validateGate = new Promise<void>((resolve) => {
      releaseValidate = resolve;
    });
    const authenticator = createAuthenticator({
      keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      maxConcurrentVerifications: 1,
      validate: async (claims) => {
        if (claims.sub === 'slow-validate') await validateGate;
        return true;
      },
    });
    for (let i = 0; i < 5; i++) {
      const error = await authenticator.authenticate(await idp.sign({ sub: `t${i}` }), '/p.S/M').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(isAuthError(error) && error.code === 'ERR_AUTH_INTERNAL', String(error));
    }
    throwing = false;
    const slow = authenticator.authenticate(await idp.sign({ sub: 'slow-validate' }), '/p.S/M');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(
      (await authenticator.authenticate(await idp.sign({ sub: 'next' }), '/p.S/M')).context.subject,
      'next',
      'the bound of 1 is free while validate runs',
    );
    releaseValidate();
    assert.equal((await slow).context.subject, 'slow-validate');
  });

  it('a bound that is not a whole number from 1 to 1,000,000 throws an AuthConfigError naming maxConcurrentVerifications, in both factories', () => {
    const base = { keys: idp.keys, algorithms: ['ES256'] as const };
    for (const wrong of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1_000_001, '5', null, true]) {
      for (const create of [createAuthInterceptor, createAuthenticator]) {
        assert.throws(
          () => create({ ...base, maxConcurrentVerifications: wrong as number }),
          (error: unknown) => error instanceof AuthConfigError && error.option === 'maxConcurrentVerifications',
          `${create.name}: ${String(wrong)}`,
        );
      }
    }
    for (const right of [1, 1_000_000]) createAuthInterceptor({ ...base, maxConcurrentVerifications: right }).close();
  });
});
