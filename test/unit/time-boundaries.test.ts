/**
 * Every time boundary, probed on both sides to the millisecond (and below, with fractional clock
 * readings): a cached token must be answered exactly as a fresh verification would be at that instant,
 * a call joining a verification in flight is judged at its own instant, `validUntil` (the instant the
 * interceptor's last-moment check and the stream timer use) is the first instant a fresh verification
 * refuses, and the stream timer fires at that instant, never before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, isAuthError, type Authentication, type KeyResolver } from '../../src/index.ts';
import { scheduleExpiry } from '../../src/server/stream-expiry.ts';
import { createTestIssuer, type TestClaims, type TestIssuer } from '../../src/testing/index.ts';
import { checkedClock } from '../../src/util/clock.ts';
import { buildAuthenticator } from '../../src/verify/authenticator.ts';

const METHOD = '/test.v1.S/M';
const N = 1_900_000_000;
/** 9999-12-31T23:59:59Z. */
const LAST = 253_402_300_799;

interface Case {
  readonly name: string;
  readonly claims: TestClaims;
  readonly clockTolerance: number;
  readonly maxTokenAge?: number;
  readonly requireExp?: boolean;
}

const CASES: readonly Case[] = [
  { name: 'exp only, tolerance 0', claims: { exp: N + 10 }, clockTolerance: 0 },
  { name: 'exp, nbf, iat, default tolerance', claims: { iat: N, nbf: N + 5, exp: N + 20 }, clockTolerance: 60 },
  { name: 'fractional exp, nbf and iat, tolerance 0.5', claims: { iat: N + 0.5, nbf: N + 1.75, exp: N + 10.25 }, clockTolerance: 0.5 },
  { name: 'maxTokenAge 3 before exp, tolerance 1', claims: { iat: N, exp: N + 100 }, clockTolerance: 1, maxTokenAge: 3 },
  { name: 'maxTokenAge 0, fractional iat, tolerance 0', claims: { iat: N + 0.25, exp: N + 100 }, clockTolerance: 0, maxTokenAge: 0 },
  { name: 'maxTokenAge and exp ending at the same second', claims: { iat: N, exp: N + 11 }, clockTolerance: 0, maxTokenAge: 10 },
  { name: 'maxTokenAge 2.5 (fractional), tolerance 0.25', claims: { iat: N, exp: N + 100 }, clockTolerance: 0.25, maxTokenAge: 2.5 },
  { name: 'no exp, maxTokenAge 5', claims: { iat: N }, clockTolerance: 0, maxTokenAge: 5, requireExp: false },
  { name: 'nbf after exp, kept alive by the tolerance', claims: { nbf: N + 20, exp: N + 10 }, clockTolerance: 60 },
  { name: 'exp at 9999-12-31T23:59:59Z', claims: { iat: LAST - 10, exp: LAST }, clockTolerance: 60 },
];

/** Every instant (seconds) worth probing for `c`: each boundary, and around it by 1 s, 1 ms and 0.1 µs. */
function instantsOf(c: Case): number[] {
  const { exp, nbf, iat } = c.claims as { exp?: number; nbf?: number; iat?: number };
  const tol = c.clockTolerance;
  const edges: number[] = [];
  if (exp !== undefined) edges.push(exp + tol);
  if (nbf !== undefined) edges.push(nbf - tol);
  if (iat !== undefined) edges.push(iat - tol, iat);
  if (iat !== undefined && c.maxTokenAge !== undefined) edges.push(Math.floor(iat + tol + c.maxTokenAge) + 1, iat + tol + c.maxTokenAge);
  const offsets = [-1, -0.5, -0.001, -1e-7, 0, 1e-7, 0.001, 0.5, 1];
  return [...new Set(edges.flatMap((edge) => offsets.map((offset) => edge + offset)))].sort((a, b) => a - b);
}

async function verdictOf(run: () => Authentication | Promise<Authentication>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return isAuthError(error) ? error.code : `not an AuthError: ${String(error)}`;
  }
}

function authenticatorFor(idp: TestIssuer, c: Case, clock: () => number, cache: boolean) {
  return createAuthenticator({
    keys: idp.keys,
    algorithms: ['HS256'],
    clock,
    clockTolerance: c.clockTolerance,
    ...(c.maxTokenAge === undefined ? {} : { maxTokenAge: c.maxTokenAge }),
    ...(c.requireExp === undefined ? {} : { requireExp: c.requireExp }),
    ...(cache ? { cache: { maxTtl: 365 * 24 * 3600 } } : { cache: false }),
  });
}

describe('time boundaries: fresh, cached and validUntil agree at every instant', () => {
  for (const c of CASES) {
    it(`${c.name}: a cache hit answers as a fresh verification at every boundary ± 1 s, 1 ms and 0.1 µs; validUntil is the first refused instant`, async () => {
      const idp = await createTestIssuer({ alg: 'HS256' });
      const token = await idp.sign({ iss: undefined, aud: undefined, sub: undefined, iat: undefined, exp: undefined, ...c.claims });
      let now = 0;
      const fresh = authenticatorFor(idp, c, () => now * 1000, false);
      const instants = instantsOf(c);
      const verdicts = new Map<number, string>();
      for (const t of instants) {
        now = t;
        verdicts.set(t, await verdictOf(() => fresh.authenticate(token, METHOD)));
      }
      const admitted = instants.filter((t) => verdicts.get(t) === 'ok');
      assert.ok(admitted.length > 0, `${c.name}: some instant admits the token`);
      // Prime a cache at each admitting instant in turn, then ask it at every instant.
      for (const primeAt of [admitted[0] as number, admitted[admitted.length - 1] as number]) {
        now = primeAt;
        const cached = authenticatorFor(idp, c, () => now * 1000, true);
        const primed = await cached.authenticate(token, METHOD);
        for (const t of instants) {
          now = t;
          const hit = await verdictOf(() => cached.authenticate(token, METHOD));
          assert.equal(hit, verdicts.get(t), `${c.name}: primed at ${primeAt - N}, asked at ${t - N}`);
          // Re-prime: a miss drops the entry, and the next instant must be asked of a cached token again.
          now = primeAt;
          await cached.authenticate(token, METHOD);
        }
        const validUntil = primed.validUntil?.getTime();
        const { endedBy } = primed;
        for (const t of instants) {
          const verdict = verdicts.get(t);
          if (verdict === 'ok') assert.ok(validUntil === undefined || t * 1000 < validUntil, `${c.name}: ok at ${t - N} but validUntil ${validUntil}`);
          if (validUntil !== undefined && t * 1000 >= validUntil && t >= (admitted[0] as number)) {
            // Refused from validUntil on: for the reason endedBy names, until exp (checked first) ends it too.
            assert.ok(verdict === 'ERR_AUTH_TOKEN_TOO_OLD' || verdict === 'ERR_AUTH_TOKEN_EXPIRED', `${c.name}: at ${t - N}, from validUntil on: ${verdict}`);
          }
        }
        if (validUntil !== undefined) {
          const firstRefused = instants.find((t) => t >= (admitted[0] as number) && t * 1000 >= validUntil);
          if (firstRefused !== undefined && firstRefused * 1000 === validUntil) {
            assert.equal(
              verdicts.get(firstRefused),
              endedBy === 'maxTokenAge' ? 'ERR_AUTH_TOKEN_TOO_OLD' : 'ERR_AUTH_TOKEN_EXPIRED',
              `${c.name}: at validUntil the reason is endedBy (${endedBy})`,
            );
          }
        }
      }
    });
  }
});

/** Holds every key lookup until `release()`: a verification in flight for as long as a test needs. */
function gated(inner: KeyResolver): KeyResolver & { release(): void; lookups: number } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const wrapper = {
    lookups: 0,
    kind: inner.kind,
    description: inner.description,
    checkAlgorithms: (algorithms: readonly string[], option: string) => inner.checkAlgorithms(algorithms, option),
    getKeys: async (lookup: Parameters<KeyResolver['getKeys']>[0]) => {
      wrapper.lookups += 1;
      await gate;
      return inner.getKeys(lookup);
    },
    holds: (key: Parameters<KeyResolver['holds']>[0]) => inner.holds(key),
    release: () => open(),
  };
  return wrapper;
}

describe('calls joining a verification in flight, across a boundary', () => {
  it('two calls start before exp + tolerance, the key lookup answers after it: both TOKEN_EXPIRED, one lookup', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const keys = gated(idp.keys);
    let now = N + 9.5;
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], clock: () => now * 1000, clockTolerance: 0 });
    const token = await idp.sign({ iat: N, exp: N + 10 });
    const first = verdictOf(() => authenticator.authenticate(token, METHOD));
    now = N + 9.999;
    const second = verdictOf(() => authenticator.authenticate(token, METHOD));
    now = N + 10;
    keys.release();
    assert.deepEqual(await Promise.all([first, second]), ['ERR_AUTH_TOKEN_EXPIRED', 'ERR_AUTH_TOKEN_EXPIRED']);
    assert.equal(keys.lookups, 1);
  });

  it('a call joins before nbf - tolerance and the verification ends after it: both admitted, each judged when it completes', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const keys = gated(idp.keys);
    let now = N - 1;
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], clock: () => now * 1000, clockTolerance: 0 });
    const token = await idp.sign({ iat: N, nbf: N, exp: N + 10 });
    const first = verdictOf(() => authenticator.authenticate(token, METHOD));
    const second = verdictOf(() => authenticator.authenticate(token, METHOD));
    now = N;
    keys.release();
    assert.deepEqual(await Promise.all([first, second]), ['ok', 'ok']);
  });
});

/** Waits for `onEnd` of scheduleExpiry, whose timers are unref'd: a ref'd bound keeps the test alive. */
function untilEnded(arm: (done: () => void) => void, boundMs = 3_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const bound = setTimeout(() => reject(new Error('the timer never fired')), boundMs);
    arm(() => {
      clearTimeout(bound);
      resolve();
    });
  });
}

describe('the stream timer fires at validUntil, never before, with the same clock', () => {
  it('an injected clock 40 ms short of validUntil: onEnd runs once, when the clock reads validUntil or later', async () => {
    const start = performance.now();
    const validUntil = 1_800_000_000_000;
    const clock = checkedClock(() => validUntil - 40 + (performance.now() - start));
    const readings: number[] = [];
    await untilEnded((done) =>
      scheduleExpiry(validUntil, clock, (error) => {
        assert.equal(error, undefined);
        readings.push(clock());
        done();
      }),
    );
    assert.equal(readings.length, 1);
    assert.ok((readings[0] as number) >= validUntil, `fired at ${readings[0]}`);
  });

  it('a clock that runs backwards while the timer waits: the timer re-arms and does not fire early', async () => {
    const validUntil = 1_800_000_000_000;
    let reading = validUntil - 20;
    let calls = 0;
    const clock = checkedClock(() => {
      calls += 1;
      // The second reading jumps back a second; later ones are past validUntil.
      if (calls === 2) reading = validUntil - 1000;
      else if (calls > 2) reading = validUntil;
      return reading;
    });
    const ended: number[] = [];
    await untilEnded((done) =>
      scheduleExpiry(validUntil, clock, () => {
        ended.push(reading);
        done();
      }),
    );
    assert.deepEqual(ended, [validUntil]);
    assert.ok(calls >= 3, `re-armed (${calls} readings)`);
  });
});

describe('Authentication.validUntil: a Date for users, milliseconds for the interceptor', () => {
  it('createAuthenticator: validUntil is the Date of exp + tolerance (endedBy exp), of the end of maxTokenAge when that comes first, undefined without either', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const clock = () => (N + 1) * 1000;
    const byExp = await createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock, clockTolerance: 30 }).authenticate(
      await idp.sign({ iat: N, exp: N + 100 }),
      METHOD,
    );
    assert.ok(byExp.validUntil instanceof Date);
    assert.equal(byExp.validUntil.getTime(), (N + 130) * 1000);
    assert.equal(byExp.endedBy, 'exp');
    const byAge = await createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock, clockTolerance: 0, maxTokenAge: 5 }).authenticate(
      await idp.sign({ iat: N, exp: N + 100 }),
      METHOD,
    );
    assert.ok(byAge.validUntil instanceof Date);
    assert.equal(byAge.validUntil.getTime(), (N + 6) * 1000, 'the token is refused from the next whole second after iat + maxTokenAge');
    assert.equal(byAge.endedBy, 'maxTokenAge');
    const never = await createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock, requireExp: false }).authenticate(
      await idp.sign({ iat: N, exp: undefined }),
      METHOD,
    );
    assert.equal(never.validUntil, undefined);
    assert.equal(never.endedBy, undefined);
  });

  it('a caller that changes its validUntil Date does not move the validUntil another call (a cache hit) gets', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => (N + 1) * 1000, clockTolerance: 0 });
    const token = await idp.sign({ iat: N, exp: N + 100 });
    const first = await authenticator.authenticate(token, METHOD);
    first.validUntil?.setTime(0);
    const second = await authenticator.authenticate(token, METHOD);
    assert.equal(second.validUntil?.getTime(), (N + 100) * 1000);
  });

  it("the interceptor's authenticator (buildAuthenticator) keeps validUntil as milliseconds since the epoch, the unit of its clock", async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = buildAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => (N + 1) * 1000, clockTolerance: 0 });
    const { validUntil } = await authenticator.authenticate(await idp.sign({ iat: N, exp: N + 100 }), METHOD);
    assert.equal(validUntil, (N + 100) * 1000);
  });
});
