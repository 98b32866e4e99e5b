/**
 * Independent review of the DPoP proof core (createDpopProofVerifier, nonces, the replay stores): the
 * replay window's edges, nonces shared by a process, `ath` over tokens that are not ASCII, the stores'
 * failure modes, configuration mistakes, error codes and wire texts.
 *
 * Ported cases not yet covered by test/unit/dpop-proof.test.ts (our own code and assertions; the inputs
 * and behaviours are the peers'):
 * - auth0/node-oauth2-jwt-bearer packages/access-token-jwt/test/dpop-verifier.test.ts, commit
 *   8701dab5c44839607755b94b247ce1912aff1aca: `verifyDPoP` "fails when access token (jwt) is missing",
 *   "fails when access token (jwt) is not a string", "passes across different supportedAlgorithms sets as
 *   long as alg is allowed"; `assertDPoPRequest` "fails when DPoP header is an empty string".
 * - panva/node-oidc-provider test/dpop/dpop.test.js, commit b95c294475d7c858a3ea63276dbc8eed77c0bfd2,
 *   "validates the DPoP proof JWT is conform": "invalid typ" (`JWT`, `secevent+jwt`), "alg mismatch"
 *   (`1`, `true`, `none`, `HS256`, `unsupported` on an unsigned `header.e30.`), "embedded jwk header"
 *   (`undefined`, `''`, `1`, `true`, `null`, `'foo'`, `[]`), "no private key in header" (a whole private
 *   JWK), "no symmetric key in header" (an `oct` JWK under ES256), "iat too far in the future / too old"
 *   (±301 s with nonces on and off).
 * - opentdf/platform, commit 053f7e5d753d499de95da941aa3a1ace54617fe7: service/internal/auth/dpop_nonce_test.go
 *   (a nonce of a step not yet handed out but within the window; the empty nonce is a challenge, not a
 *   malformed proof; `TestDPoPAlgorithmRestrictions`: RS/PS/ES 256-512 configurable, HS256 and none not)
 *   and dpop_replay_test.go (`ZeroTTLDoesNotPanic`, `ExpiredEntryIsReusable`).
 */
import assert from 'node:assert/strict';
import { KeyObject, sign, type webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { createDpopProofVerifier, type DpopProofVerifierOptions, type DpopRequest } from '../../src/verify/dpop-proof.ts';
import { createDpopNonces } from '../../src/verify/dpop-nonce.ts';
import { createMemoryReplayStore } from '../../src/stores/memory-replay-store.ts';
import type { ReplayStore } from '../../src/stores/replay-store.ts';
import { AuthConfigError } from '../../src/errors/config-error.ts';
import { isAuthError } from '../../src/errors/auth-error.ts';
import type { AuthErrorCode } from '../../src/errors/codes.ts';
import { refusedWith, ath, makeProof, proofKey, TEST_ORIGIN, type ProofOverrides } from '../support/dpop-proofs.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const PATH = '/test.echo.v1.Echo/Unary';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const key = await proofKey('ES256');

/** A clock the test moves; the verifier and its default store both read it. */
function movingClock(start = T0): { clock: () => number; set(ms: number): void } {
  let now = start;
  return { clock: () => now, set: (ms) => void (now = ms) };
}

function verifier(clock: () => number, options: Partial<DpopProofVerifierOptions> = {}): ReturnType<typeof createDpopProofVerifier> {
  return createDpopProofVerifier({ origins: [TEST_ORIGIN], clock, ...options });
}

function proof(overrides: ProofOverrides = {}): Promise<string> {
  return makeProof(key, { now: T0, accessToken: TOKEN, ...overrides });
}

function request(text: string, extra: Partial<DpopRequest> = {}): DpopRequest {
  return { proof: text, path: PATH, accessToken: TOKEN, jkt: key.jkt, ...extra };
}

/** A request without cnf.jkt: any key may sign (what a token endpoint checks). */
function unbound(text: string): DpopRequest {
  return { proof: text, path: PATH, accessToken: TOKEN };
}

/** A proof over exactly these header and payload texts, ES256-signed by `key` (for JSON that JSON.stringify cannot write). */
function signedRaw(headerJson: string, payloadJson: string): string {
  const input = `${Buffer.from(headerJson).toString('base64url')}.${Buffer.from(payloadJson).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key: KeyObject.from(key.privateKey as webcrypto.CryptoKey), dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Turns of the event loop, to see that a promise is still pending (no timer, no timing). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('review: the replay window has no gap', () => {
  it('a proof replayed at the last millisecond its iat is fresh → DPOP_PROOF_REPLAYED', async () => {
    const time = movingClock(T0);
    const v = verifier(time.clock);
    const text = await proof();
    await v.verify(request(text));
    // iat + proofMaxAge + clockTolerance: still fresh, so the jti must still be remembered.
    time.set(T0 + 70_000);
    await refusedWith('ERR_AUTH_DPOP_PROOF_REPLAYED', v.verify(request(text)));
    time.set(T0 + 71_000);
    await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', v.verify(request(text)));
  });

  it('a fractional iat does not shorten the memory of its jti (Date drops sub-milliseconds)', async () => {
    const time = movingClock(T0);
    const v = verifier(time.clock);
    const text = await proof({ claims: { iat: T0 / 1000 + 0.0009 } });
    await v.verify(request(text));
    time.set(T0 + 70_000);
    await refusedWith('ERR_AUTH_DPOP_PROOF_REPLAYED', v.verify(request(text)));
  });

  it('the store is asked to keep a key past the last instant the proof is fresh', async () => {
    const added: number[] = [];
    const replayStore: ReplayStore = { add: (_key, until) => (added.push(until.getTime()), true) };
    await verifier(() => T0, { replayStore, proofMaxAge: 1.5, clockTolerance: 0 }).verify(request(await proof()));
    assert.ok((added[0] ?? 0) > T0 + 1500, `kept until ${String(added[0])}`);
  });

  it('with nonces, a replayed proof is never admitted while its nonce or iat could still pass', async () => {
    const time = movingClock(T0);
    const v = verifier(time.clock, { nonce: { secret: 's'.repeat(32) } });
    const text = await proof({ claims: { nonce: v.currentNonce() } });
    await v.verify(request(text));
    for (let ms = T0; ms <= T0 + 400_000; ms += 5_000) {
      time.set(ms);
      const error = await v.verify(request(text)).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      assert.ok(isAuthError(error), `replay admitted at T0 + ${ms - T0} ms`);
      assert.ok(['ERR_AUTH_DPOP_PROOF_REPLAYED', 'ERR_AUTH_DPOP_NONCE_REQUIRED', 'ERR_AUTH_DPOP_PROOF_STALE'].includes(error.code), error.code);
    }
  });
});

describe('review: nonce: true is one secret per process', () => {
  it('two verifiers of one process (two servers, or an interceptor and a token endpoint) accept each other’s nonces', async () => {
    const a = verifier(() => T0, { nonce: true });
    const b = verifier(() => T0, { nonce: true });
    assert.equal(a.currentNonce(), b.currentNonce());
    await b.verify(request(await proof({ claims: { nonce: a.currentNonce() } })));
  });

  it('a configured secret is still its own: nonces of nonce: true never pass there', async () => {
    const shared = verifier(() => T0, { nonce: { secret: 's'.repeat(32) } });
    const local = verifier(() => T0, { nonce: true });
    await refusedWith('ERR_AUTH_DPOP_NONCE_REQUIRED', shared.verify(request(await proof({ claims: { nonce: local.currentNonce() } }))));
  });
});

describe('review: ath binds exactly one access token', () => {
  it('a token with a non-ASCII character never matches the ath of the token it would truncate to', async () => {
    // Node's 'ascii' encoding keeps the low byte of each UTF-16 unit: 'š' (U+0161) hashes as 'a' (0x61).
    const lookalike = `${TOKEN.slice(0, -1)}\u0161`;
    const text = await proof({ claims: { ath: ath(`${TOKEN.slice(0, -1)}a`) } });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(request(text, { accessToken: lookalike })));
  });

  it('auth0: an access token that is not a string → DPOP_PROOF_INVALID (not a TypeError)', async () => {
    const text = await proof();
    for (const accessToken of [42, null, {}, ['a']]) {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(request(text, { accessToken: accessToken as string })));
    }
  });

  it('auth0: ath present but the access token missing (token endpoint) passes; ath with padding does not match', async () => {
    const text = await proof();
    await verifier(() => T0).verify({ proof: text, path: PATH });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(request(await proof({ claims: { ath: `${ath(TOKEN)}=` } }))));
  });
});

describe('review: nonces', () => {
  const secret = 'a shared secret of at least thirty-two bytes';

  it('opentdf: the empty nonce is a challenge (DPOP_NONCE_REQUIRED with a nonce), not a malformed proof', async () => {
    const error = await refusedWith(
      'ERR_AUTH_DPOP_NONCE_REQUIRED',
      verifier(() => T0, { nonce: { secret } }).verify(request(await proof({ claims: { nonce: '' } }))),
    );
    assert.match(error.dpopNonce ?? '', /^[A-Za-z0-9_-]{43}$/);
  });

  it('non-string nonces (number, null, object, array, boolean) → DPOP_PROOF_INVALID without a nonce', async () => {
    for (const nonce of [1, null, {}, ['n'], true]) {
      const error = await refusedWith(
        'ERR_AUTH_DPOP_PROOF_INVALID',
        verifier(() => T0, { nonce: { secret } }).verify(request(await proof({ claims: { nonce } }))),
      );
      assert.equal(error.dpopNonce, undefined);
    }
  });

  it('a nonce two steps ahead (a replica whose clock runs fast) passes; three steps ahead does not', async () => {
    const ahead = (minutes: number): string => createDpopNonces(Buffer.from(secret), () => T0 + minutes * 60_000).current();
    const v = verifier(() => T0, { nonce: { secret } });
    await v.verify(request(await proof({ claims: { nonce: ahead(1) } })));
    await refusedWith('ERR_AUTH_DPOP_NONCE_REQUIRED', v.verify(request(await proof({ claims: { nonce: ahead(2) } }))));
  });

  it('oidc-provider: iat 301 s from now, nonces off → DPOP_PROOF_STALE; nonces on → accepted (the nonce is the freshness)', async () => {
    for (const offset of [301_000, -301_000]) {
      await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', verifier(() => T0).verify(request(await proof({ now: T0 + offset }))));
      const v = verifier(() => T0, { nonce: { secret } });
      await v.verify(request(await proof({ now: T0 + offset, claims: { nonce: v.currentNonce() } })));
    }
  });

  it('iat far in the future or the past is refused even with a current nonce', async () => {
    const v = verifier(() => T0, { nonce: { secret } });
    for (const iat of [T0 / 1000 + 86_400, T0 / 1000 - 86_400, 0, -1]) {
      await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', v.verify(request(await proof({ claims: { iat, nonce: v.currentNonce() } }))));
    }
  });

  it('a nonce respelled with another last character, or in standard base64, is refused', () => {
    const nonces = createDpopNonces(Buffer.from(secret), () => T0);
    const nonce = nonces.current();
    const respelled = Buffer.from(nonce, 'base64url').toString('base64');
    assert.equal(nonces.check(respelled), false);
    assert.equal(nonces.check(`${nonce}=`), false);
    assert.equal(nonces.check(` ${nonce.slice(1)}`), false);
  });
});

describe('review: iat values', () => {
  const cases: ReadonlyArray<readonly [string, unknown, AuthErrorCode]> = [
    ['a string of digits', String(T0 / 1000), 'ERR_AUTH_DPOP_PROOF_INVALID'],
    ['negative', -1, 'ERR_AUTH_DPOP_PROOF_STALE'],
    ['far in the future', T0 / 1000 + 365 * 86_400, 'ERR_AUTH_DPOP_PROOF_STALE'],
    ['null', null, 'ERR_AUTH_DPOP_PROOF_INVALID'],
    ['an object', { valueOf: 1 }, 'ERR_AUTH_DPOP_PROOF_INVALID'],
    ['an array', [T0 / 1000], 'ERR_AUTH_DPOP_PROOF_INVALID'],
  ];
  for (const [name, iat, code] of cases) {
    it(`iat ${name} → ${code}`, async () => {
      const text = await proof({ claims: { iat } });
      await refusedWith(code, verifier(() => T0).verify(request(text)));
    });
  }

  it('iat 1e400 (a JSON number that parses to Infinity) → DPOP_PROOF_INVALID', async () => {
    const payload = `{"jti":"j-1e400","htm":"POST","htu":"${TEST_ORIGIN}${PATH}","ath":"${ath(TOKEN)}","iat":1e400}`;
    await refusedWith(
      'ERR_AUTH_DPOP_PROOF_INVALID',
      verifier(() => T0).verify(request(signedRaw(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk }), payload))),
    );
  });

  it('a fractional iat inside the window passes', async () => {
    await verifier(() => T0).verify(request(await proof({ claims: { iat: T0 / 1000 - 0.5 } })));
  });
});

describe('review: replay stores', () => {
  it('a store that never settles holds the verdict; when it settles, it decides', async () => {
    let settle: (value: boolean) => void = () => undefined;
    let asked: () => void = () => undefined;
    const called = new Promise<void>((resolve) => (asked = resolve));
    const replayStore: ReplayStore = {
      add: () =>
        new Promise<boolean>((resolve) => {
          settle = resolve;
          asked();
        }),
    };
    let outcome: unknown = 'pending';
    const pending = verifier(() => T0, { replayStore })
      .verify(request(await proof()))
      .then(
        () => (outcome = 'admitted'),
        (error: unknown) => (outcome = error),
      );
    await called;
    await turns(20);
    assert.equal(outcome, 'pending');
    settle(false);
    await pending;
    assert.ok(isAuthError(outcome) && outcome.code === 'ERR_AUTH_DPOP_PROOF_REPLAYED');
  });

  it('a store whose answer has a throwing then getter → REPLAY_CHECK_UNAVAILABLE', async () => {
    const answer = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('boom');
      },
    });
    const replayStore: ReplayStore = { add: () => answer as boolean };
    await refusedWith('ERR_AUTH_REPLAY_CHECK_UNAVAILABLE', verifier(() => T0, { replayStore }).verify(request(await proof())));
  });

  for (const answer of [1, 0, 'true', null, undefined, {}, Promise.resolve(1), Promise.resolve(undefined)]) {
    it(`a store answering ${String(answer)} (not a boolean) → REPLAY_CHECK_UNAVAILABLE, never admitted`, async () => {
      const replayStore: ReplayStore = { add: () => answer as boolean };
      await refusedWith('ERR_AUTH_REPLAY_CHECK_UNAVAILABLE', verifier(() => T0, { replayStore }).verify(request(await proof())));
    });
  }

  it('the memory store full of live keys refuses through the verifier with status UNAVAILABLE', async () => {
    const replayStore = createMemoryReplayStore({ maxEntries: 2, clock: () => T0 });
    const v = verifier(() => T0, { replayStore });
    await v.verify(request(await proof()));
    await v.verify(request(await proof()));
    const error = await refusedWith('ERR_AUTH_REPLAY_CHECK_UNAVAILABLE', v.verify(request(await proof())));
    assert.equal(error.status, 14);
  });

  it('opentdf ZeroTTLDoesNotPanic / ExpiredEntryIsReusable: a key expiring now is a first use each time, no throw', () => {
    const store = createMemoryReplayStore({ clock: () => T0 });
    assert.equal(store.add('zero', new Date(T0)), true);
    assert.equal(store.add('zero', new Date(T0)), true);
    assert.equal(store.add('past', new Date(T0 - 1)), true);
  });

  it('memory store: a clock that goes backwards keeps keys (no early forgetting)', () => {
    const time = movingClock(T0);
    const store = createMemoryReplayStore({ clock: time.clock });
    assert.equal(store.add('k', new Date(T0 + 60_000)), true);
    time.set(T0 - 3_600_000);
    assert.equal(store.add('k', new Date(T0 + 60_000)), false);
    time.set(T0 + 59_999);
    assert.equal(store.add('k', new Date(T0 + 60_000)), false);
    time.set(T0 + 60_000);
    assert.equal(store.add('k', new Date(T0 + 120_000)), true);
  });

  it('memory store: expired keys are swept with a fake clock, live ones kept, whatever the insertion order', () => {
    const time = movingClock(T0);
    const store = createMemoryReplayStore({ maxEntries: 3, clock: time.clock });
    assert.equal(store.add('long', new Date(T0 + 600_000)), true);
    assert.equal(store.add('short-1', new Date(T0 + 1_000)), true);
    assert.equal(store.add('short-2', new Date(T0 + 1_000)), true);
    time.set(T0 + 2_000);
    // Full, the oldest is live: the full sweep finds the two expired behind it.
    assert.equal(store.add('new-1', new Date(T0 + 600_000)), true);
    assert.equal(store.add('new-2', new Date(T0 + 600_000)), true);
    assert.equal(store.add('long', new Date(T0 + 600_000)), false);
  });
});

describe('review: configuration mistakes name the option', () => {
  const origins = [TEST_ORIGIN];
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ['no options', undefined, 'options'],
    ['an empty origins list', { origins: [] }, 'dpop.origins'],
    ['origins a string', { origins: TEST_ORIGIN }, 'dpop.origins'],
    ['an origin with a path', { origins: ['https://a.test/api'] }, 'dpop.origins[0]'],
    ['an origin with a query', { origins: ['https://a.test/?x'] }, 'dpop.origins[0]'],
    ['an origin whose path dot segments remove', { origins: ['https://a.test/api/..'] }, 'dpop.origins[0]'],
    ['an origin whose path is an encoded dot', { origins: ['https://a.test/%2e'] }, 'dpop.origins[0]'],
    ['an origin with a space', { origins: ['https://a.test '] }, 'dpop.origins[0]'],
    ['an origin with userinfo', { origins: ['https://u:p@a.test'] }, 'dpop.origins[0]'],
    ['an origin of another scheme', { origins: ['wss://a.test'] }, 'dpop.origins[0]'],
    ['the second origin wrong', { origins: [TEST_ORIGIN, 'a.test'] }, 'dpop.origins[1]'],
    ['HS256', { origins, algorithms: ['ES256', 'HS256'] }, 'dpop.algorithms[1]'],
    ['an unknown algorithm', { origins, algorithms: ['ES256K'] }, 'dpop.algorithms[0]'],
    ['an algorithm in the wrong case', { origins, algorithms: ['es256'] }, 'dpop.algorithms[0]'],
    ['an encryption algorithm', { origins, algorithms: ['RSA-OAEP'] }, 'dpop.algorithms[0]'],
    ['algorithms a string', { origins, algorithms: 'ES256' }, 'dpop.algorithms'],
    ['proofMaxAge 601', { origins, proofMaxAge: 601 }, 'dpop.proofMaxAge'],
    ['proofMaxAge negative', { origins, proofMaxAge: -1 }, 'dpop.proofMaxAge'],
    ['proofMaxAge NaN', { origins, proofMaxAge: Number.NaN }, 'dpop.proofMaxAge'],
    ['proofMaxAge a string', { origins, proofMaxAge: '60' }, 'dpop.proofMaxAge'],
    ['proofMaxAge Infinity', { origins, proofMaxAge: Infinity }, 'dpop.proofMaxAge'],
    ['clockTolerance negative', { origins, clockTolerance: -1 }, 'dpop.clockTolerance'],
    ['clockTolerance NaN', { origins, clockTolerance: Number.NaN }, 'dpop.clockTolerance'],
    ['a nonce secret of 31 bytes (string)', { origins, nonce: { secret: 's'.repeat(31) } }, 'dpop.nonce.secret'],
    ['a nonce secret of 31 bytes (bytes)', { origins, nonce: { secret: new Uint8Array(31) } }, 'dpop.nonce.secret'],
    ['a nonce secret as an ArrayBuffer', { origins, nonce: { secret: new ArrayBuffer(32) } }, 'dpop.nonce.secret'],
    ['a nonce without secret', { origins, nonce: {} }, 'dpop.nonce.secret'],
    ['a nonce with an unknown member', { origins, nonce: { secret: 's'.repeat(32), rotate: 60 } }, 'dpop.nonce.rotate'],
    ['nonce a string', { origins, nonce: 'yes' }, 'dpop.nonce'],
    ['replayStore null', { origins, replayStore: null }, 'replayStore'],
    ['replayStore a function', { origins, replayStore: () => true }, 'replayStore'],
    ['an unknown option', { origins, maxAge: 60 }, 'maxAge'],
  ];
  for (const [name, options, option] of cases) {
    it(`${name} → AuthConfigError naming ${option}`, () => {
      assert.throws(
        () => createDpopProofVerifier(options as DpopProofVerifierOptions),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
      );
    });
  }

  it('opentdf algorithm restrictions: RS/PS/ES 256 to 512 may be configured, HS256 and none may not', () => {
    for (const alg of ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512']) {
      createDpopProofVerifier({ origins, algorithms: [alg as 'ES256'] });
    }
    for (const alg of ['HS256', 'none']) {
      assert.throws(
        () => createDpopProofVerifier({ origins, algorithms: [alg as 'ES256'] }),
        (error: unknown) => error instanceof AuthConfigError && error.option === 'dpop.algorithms[0]',
      );
    }
  });

  it('the nonce secret is never echoed in the error', () => {
    const secret = 'TOPSECRET-but-too-short';
    assert.throws(
      () => createDpopProofVerifier({ origins, nonce: { secret } }),
      (error: unknown) => error instanceof Error && !error.message.includes(secret),
    );
  });
});

describe('review: error codes and wire texts', () => {
  it('each refusal has its own code, and the wire text carries nothing from the proof or the token', async () => {
    const other = await proofKey('ES256');
    const secret = 's'.repeat(32);
    const jti = 'jti-WIRE-MARKER';
    const marker = (text: string): string[] => [jti, TOKEN, ath(TOKEN), key.jkt, other.jkt, text.split('.')[0] ?? '', 'orders.test'];
    const replayed = await proof({ claims: { jti } });
    const v = verifier(() => T0);
    await v.verify(request(replayed));
    const built: Array<readonly [AuthErrorCode, () => Promise<unknown>]> = [
      ['ERR_AUTH_DPOP_PROOF_INVALID', async () => v.verify(request(await proof({ claims: { jti, htm: 'GET' } })))],
      ['ERR_AUTH_DPOP_PROOF_STALE', async () => v.verify(request(await proof({ now: T0 - 600_000, claims: { jti } })))],
      ['ERR_AUTH_DPOP_KEY_MISMATCH', async () => v.verify(request(await makeProof(other, { now: T0, accessToken: TOKEN, claims: { jti } })))],
      ['ERR_AUTH_DPOP_PROOF_REPLAYED', () => v.verify(request(replayed))],
      ['ERR_AUTH_DPOP_NONCE_REQUIRED', async () => verifier(() => T0, { nonce: { secret } }).verify(request(await proof({ claims: { jti } })))],
      [
        'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE',
        async () =>
          verifier(() => T0, {
            replayStore: {
              add: () => {
                throw new Error(`store down for ${jti}`);
              },
            },
          }).verify(request(await proof({ claims: { jti } }))),
      ],
    ];
    for (const [code, run] of built) {
      const error = await refusedWith(code, run());
      for (const piece of marker(replayed)) assert.ok(!error.wireMessage.includes(piece), `${code} wire text carries ${piece}`);
    }
  });

  it('a refusal for a proof is never INTERNAL: garbage of every shape is DPOP_PROOF_INVALID', async () => {
    const v = verifier(() => T0);
    const enc = (value: string): string => Buffer.from(value).toString('base64url');
    const shapes = [
      '',
      '.',
      '..',
      'a.b.c',
      `${enc('{}')}.${enc('{}')}.`,
      `${enc('[]')}.${enc('{}')}.AAAA`,
      `${enc('null')}.${enc('{}')}.AAAA`,
      'x'.repeat(9000),
    ];
    for (const text of shapes) await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', v.verify(request(text)));
  });
});

describe('review: peer conformance cases (oidc-provider, auth0)', () => {
  const enc = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('oidc-provider "invalid typ": JWT and secevent+jwt → DPOP_PROOF_INVALID', async () => {
    for (const typ of ['JWT', 'secevent+jwt']) {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(request(await proof({ header: { typ } }))));
    }
  });

  it('oidc-provider "alg mismatch": 1, true, none, HS256, unsupported on an unsigned proof → DPOP_PROOF_INVALID', async () => {
    for (const alg of [1, true, 'none', 'HS256', 'unsupported']) {
      const text = `${enc({ jwk: key.publicJwk, typ: 'dpop+jwt', alg })}.e30.`;
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(unbound(text)));
    }
  });

  it('oidc-provider "embedded jwk header": undefined, "", 1, true, null, "foo", [] → DPOP_PROOF_INVALID', async () => {
    for (const jwk of [undefined, '', 1, true, null, 'foo', []]) {
      const text = await proof({ header: { jwk: jwk === undefined ? undefined : jwk } });
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(unbound(text)));
    }
  });

  it('oidc-provider "no private key in header": the whole private JWK → DPOP_PROOF_INVALID', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const text = await makeProof({ ...key, privateKey }, { now: T0, accessToken: TOKEN, header: { jwk: privateJwk } });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(unbound(text)));
  });

  it('oidc-provider "no symmetric key in header": an oct JWK under ES256 → DPOP_PROOF_INVALID', async () => {
    const text = await proof({ header: { jwk: { kty: 'oct', k: Buffer.alloc(32, 9).toString('base64url') } } });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(unbound(text)));
  });

  it('auth0 "DPoP header is an empty string" → DPOP_PROOF_INVALID', async () => {
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(request('')));
  });

  it('auth0 "passes across different supportedAlgorithms sets as long as alg is allowed"', async () => {
    const ed = await proofKey('EdDSA');
    const text = await makeProof(ed, { now: T0, accessToken: TOKEN });
    for (const algorithms of [['EdDSA'], ['ES256', 'EdDSA'], ['PS256', 'EdDSA', 'ES512']] as const) {
      const v = verifier(() => T0, { algorithms: [...algorithms] });
      assert.equal((await v.verify(request(text, { jkt: ed.jkt }))).jkt, ed.jkt);
    }
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0, { algorithms: ['ES256', 'PS256'] }).verify(request(text, { jkt: ed.jkt })));
  });

  it('auth0 "access token (jwt) is missing" at a resource: a proof without ath for a token → DPOP_PROOF_INVALID', async () => {
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier(() => T0).verify(request(await proof({ accessToken: undefined }))));
  });
});
