/**
 * createDpopProofVerifier: every RFC 9449 §4.3 check, the order they run in, nonces and the replay store.
 *
 * Ported cases (our own code and assertions; the behaviours are the peers'):
 * - auth0/node-oauth2-jwt-bearer packages/access-token-jwt/test/dpop-verifier.test.ts, commit 8701dab:
 *   `verifyProof` (undefined JWS, not three parts, typ wrong or missing, alg not allowed, tampered
 *   signature, jwk missing or not an object, extra header members accepted) and `verifyDPoP` (iat missing,
 *   not a number, too old, in the future; htm, htu, jti, ath missing, not strings or mismatched; jkt
 *   mismatch; extra claims accepted). Its `assertDPoPRequest` (schemes, proofs in metadata) is in
 *   test/integration/dpop.test.ts, its cnf cases under "cnf.jkt" below.
 * - spring-projects/spring-security oauth2/oauth2-jose/src/test/java/org/springframework/security/oauth2/jwt/
 *   DPoPProofJwtDecoderFactoryTests.java, commit d449950b36: typ invalid, jwk missing, htm / htu invalid,
 *   jti missing, jti already used, iat missing, iat 65 s before / after a 60 s window, valid.
 * - panva/node-oidc-provider test/dpop/dpop.test.js, commit b95c2944 ("validates the DPoP proof JWT is
 *   conform": typ, alg, no private key, no symmetric key, jti, htm, htu, iat too old / too far in the future
 *   with nonces off and on; "invalid nonce", "required nonce").
 * - opentdf/platform service/internal/auth/dpop_nonce_test.go, commit 053f7e5d7: a non-string nonce is a
 *   malformed proof, not a nonce challenge; HS256 and none are not DPoP algorithms.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDpopProofVerifier, ProofVerifier, type DpopProofVerifierOptions, type DpopRequest } from '../../src/verify/dpop-proof.ts';
import { compileDpopOptions } from '../../src/verify/dpop-options.ts';
import { createMemoryReplayStore } from '../../src/stores/memory-replay-store.ts';
import type { ReplayStore } from '../../src/stores/replay-store.ts';
import { AuthConfigError } from '../../src/errors/config-error.ts';
import type { AuthErrorCode } from '../../src/errors/codes.ts';
import {
  refusal,
  refusedWith,
  makeProof,
  proofKey,
  rawProof,
  symmetricProof,
  unsignedProof,
  TEST_ORIGIN,
  type ProofOverrides,
} from '../support/dpop-proofs.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const PATH = '/test.echo.v1.Echo/Unary';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const key = await proofKey('ES256');
const other = await proofKey('ES256');

function verifierAt(now: number, options: Partial<DpopProofVerifierOptions> = {}): ReturnType<typeof createDpopProofVerifier> {
  return createDpopProofVerifier({ origins: [TEST_ORIGIN], clock: () => now, ...options });
}

/** A proof for PATH over TOKEN, issued at T0, with overrides. */
function proof(overrides: ProofOverrides = {}): Promise<string> {
  return makeProof(key, { now: T0, accessToken: TOKEN, ...overrides });
}

function request(proofText: string, extra: Partial<DpopRequest> = {}): DpopRequest {
  return { proof: proofText, path: PATH, accessToken: TOKEN, jkt: key.jkt, ...extra };
}

describe('DPoP proof: a valid proof', () => {
  it('verifies and tells the key thumbprint and jti', async () => {
    const text = await proof({ claims: { jti: 'jti-1' } });
    assert.deepEqual(await verifierAt(T0).verify(request(text)), { jkt: key.jkt, jti: 'jti-1' });
  });

  for (const alg of ['ES384', 'EdDSA', 'PS256', 'RS256']) {
    it(`verifies a ${alg} proof when ${alg} is allowed`, async () => {
      const algKey = await proofKey(alg);
      const text = await makeProof(algKey, { now: T0, accessToken: TOKEN });
      const verifier = verifierAt(T0, { algorithms: [alg as 'ES384'] });
      assert.equal((await verifier.verify(request(text, { jkt: algKey.jkt }))).jkt, algKey.jkt);
    });
  }

  it('accepts extra header and payload members (auth0: ignored, not refused)', async () => {
    const text = await proof({
      claims: { foo: 'bar', aud: 'https://api.example.com', nested: { a: 1 } },
      header: { kid: 'kid123', cty: 'dpop+jwt', 'x-extra': 'yes' },
    });
    assert.equal((await verifierAt(T0).verify(request(text))).jkt, key.jkt);
  });

  it('without an access token (a token endpoint), no ath is needed; without jkt, any key', async () => {
    const text = await makeProof(other, { now: T0, path: '/token' });
    assert.equal((await verifierAt(T0).verify({ proof: text, path: '/token' })).jkt, other.jkt);
  });

  it('a proof signed outside jose verifies (the rawProof builder used for crit below is sound)', async () => {
    assert.equal((await verifierAt(T0).verify(request(rawProof(key, { now: T0, accessToken: TOKEN })))).jkt, key.jkt);
  });

  it('typ is compared as a media type: application/DPoP+JWT passes', async () => {
    const text = await proof({ header: { typ: 'application/DPoP+JWT' } });
    assert.equal((await verifierAt(T0).verify(request(text))).jkt, key.jkt);
  });

  it('query and fragment of htu are ignored; a non-default spelling of the origin passes', async () => {
    const text = await proof({ claims: { htu: `HTTPS://ORDERS.TEST:443${PATH}?x=1#frag` } });
    assert.equal((await verifierAt(T0).verify(request(text))).jkt, key.jkt);
  });
});

describe('DPoP proof: form and header → DPOP_PROOF_INVALID', () => {
  const cases: ReadonlyArray<readonly [string, () => Promise<string> | string]> = [
    ['undefined JWS', () => undefined as unknown as string],
    ['not three parts', () => 'a.b'],
    ['padded base64url', async () => `${await proof()}=`],
    ['typ missing', () => proof({ header: { typ: undefined } })],
    ['typ JWT', () => proof({ header: { typ: 'JWT' } })],
    ['typ at+jwt', () => proof({ header: { typ: 'at+jwt' } })],
    ['jwk missing', () => proof({ header: { jwk: undefined } })],
    ['jwk not an object', () => proof({ header: { jwk: 'key' } })],
    ['jwk an array', () => proof({ header: { jwk: [key.publicJwk] } })],
    ['jwk with a private member d', () => proof({ header: { jwk: { ...key.publicJwk, d: 'AAAA' } } })],
    ['crit', () => rawProof(key, { now: T0, accessToken: TOKEN, header: { crit: ['exp'], exp: 1 } })],
    ['b64 false', () => rawProof(key, { now: T0, accessToken: TOKEN, header: { b64: false, crit: ['b64'] } })],
    ['alg none', () => unsignedProof(key, { now: T0, accessToken: TOKEN })],
    ['HS256 with an oct jwk', () => symmetricProof(new Uint8Array(32).fill(1), { now: T0, accessToken: TOKEN })],
    ['a tampered signature', async () => `${(await proof()).slice(0, -4)}AAAA`],
    [
      'a payload that is not JSON',
      async () => {
        const [header, , signature] = (await proof()).split('.');
        return `${header}.${Buffer.from('not json').toString('base64url')}.${signature}`;
      },
    ],
  ];
  for (const [name, build] of cases) {
    it(name, async () => {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', (async () => verifierAt(T0).verify(request(await build())))());
    });
  }

  it('an allowed-by-jose alg outside dpop.algorithms (RS256 when only ES256)', async () => {
    const rsa = await proofKey('RS256');
    const text = await makeProof(rsa, { now: T0, accessToken: TOKEN });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifierAt(T0, { algorithms: ['ES256'] }).verify(request(text, { jkt: rsa.jkt })));
  });

  it('a proof over the size cap, before any parsing', async () => {
    const text = await proof({ claims: { pad: 'x'.repeat(9000) } });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifierAt(T0).verify(request(text)));
  });
});

describe('DPoP proof: claims → DPOP_PROOF_INVALID', () => {
  const cases: ReadonlyArray<readonly [string, ProofOverrides]> = [
    ['jti missing', { claims: { jti: undefined } }],
    ['jti empty', { claims: { jti: '' } }],
    ['jti not a string', { claims: { jti: 42 } }],
    ['jti over 256 characters', { claims: { jti: 'j'.repeat(257) } }],
    ['htm missing', { claims: { htm: undefined } }],
    ['htm not a string', { claims: { htm: 123 } }],
    ['htm GET', { claims: { htm: 'GET' } }],
    ['htm post (methods are case-sensitive)', { claims: { htm: 'post' } }],
    ['htu missing', { claims: { htu: undefined } }],
    ['htu not a string', { claims: { htu: 123 } }],
    ['htu another method', { path: '/test.echo.v1.Echo/Bidi' }],
    ['htu another origin', { origin: 'https://billing.test' }],
    ['htu another port', { origin: 'https://orders.test:8443' }],
    ['htu http instead of https', { origin: 'http://orders.test' }],
    ['htu with userinfo', { origin: 'https://user@orders.test' }],
    ['htu with %2F for the path separator', { path: '/test.echo.v1.Echo%2FUnary' }],
    ['htu relative', { claims: { htu: PATH } }],
    ['ath missing', { accessToken: undefined }],
    ['ath not a string', { claims: { ath: 123 } }],
    ['ath of another token', { accessToken: `${TOKEN}x` }],
    ['iat missing', { claims: { iat: undefined } }],
    ['iat not a number', { claims: { iat: 'bad' } }],
  ];
  for (const [name, overrides] of cases) {
    it(name, async () => {
      await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifierAt(T0).verify(request(await proof(overrides))));
    });
  }
});

describe('DPoP proof: key binding', () => {
  it('a proof by another key than cnf.jkt → DPOP_KEY_MISMATCH', async () => {
    const text = await makeProof(other, { now: T0, accessToken: TOKEN });
    await refusedWith('ERR_AUTH_DPOP_KEY_MISMATCH', verifierAt(T0).verify(request(text)));
  });

  it('the mismatch is found before any signature check: a proof with a garbage signature still says KEY_MISMATCH', async () => {
    const text = await makeProof(other, { now: T0, accessToken: TOKEN });
    await refusedWith('ERR_AUTH_DPOP_KEY_MISMATCH', verifierAt(T0).verify(request(`${text.split('.').slice(0, 2).join('.')}.AAAA`)));
  });

  it('the jwk of key A signed by key B → DPOP_PROOF_INVALID', async () => {
    const text = await proof({ signWith: other });
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifierAt(T0).verify(request(text)));
  });
});

describe('DPoP proof: freshness without nonces (proofMaxAge 60, clockTolerance 10)', () => {
  it('iat 70 s old passes, 71 s old → DPOP_PROOF_STALE', async () => {
    await verifierAt(T0 + 70_000).verify(request(await proof()));
    await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', verifierAt(T0 + 71_000).verify(request(await proof())));
  });

  it('iat 10 s ahead passes, 11 s ahead → DPOP_PROOF_STALE', async () => {
    await verifierAt(T0 - 10_000).verify(request(await proof()));
    await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', verifierAt(T0 - 11_000).verify(request(await proof())));
  });

  it('spring: 65 s before or after a 60 s window with no tolerance → DPOP_PROOF_STALE', async () => {
    const options = { proofMaxAge: 60, clockTolerance: 0 };
    await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', verifierAt(T0, options).verify(request(await proof({ now: T0 - 65_000 }))));
    await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', verifierAt(T0, options).verify(request(await proof({ now: T0 + 65_000 }))));
  });

  it('a nonce in a proof is ignored when nonces are off', async () => {
    await verifierAt(T0).verify(request(await proof({ claims: { nonce: 'from-another-server' } })));
  });
});

describe('DPoP proof: server nonces', () => {
  const secret = 'a shared secret of at least thirty-two bytes';

  it('no nonce → DPOP_NONCE_REQUIRED carrying the nonce to use; with it the proof passes', async () => {
    const verifier = verifierAt(T0, { nonce: { secret } });
    const error = await refusedWith('ERR_AUTH_DPOP_NONCE_REQUIRED', verifier.verify(request(await proof())));
    assert.equal(error.dpopNonce, verifier.currentNonce());
    const result = await verifier.verify(request(await proof({ claims: { nonce: error.dpopNonce } })));
    assert.equal(result.nonce, error.dpopNonce);
  });

  it('a nonce of another secret, or one past its window → DPOP_NONCE_REQUIRED with a fresh one', async () => {
    const stranger = verifierAt(T0, { nonce: true }).currentNonce();
    const verifier = verifierAt(T0, { nonce: { secret } });
    await refusedWith('ERR_AUTH_DPOP_NONCE_REQUIRED', verifier.verify(request(await proof({ claims: { nonce: stranger } }))));
    const old = verifier.currentNonce();
    const later = verifierAt(T0 + 5 * 60_000, { nonce: { secret } });
    const error = await refusedWith('ERR_AUTH_DPOP_NONCE_REQUIRED', later.verify(request(await proof({ now: T0 + 5 * 60_000, claims: { nonce: old } }))));
    assert.notEqual(error.dpopNonce, old);
  });

  it('a nonce that is not a string → DPOP_PROOF_INVALID, never a challenge (opentdf)', async () => {
    const verifier = verifierAt(T0, { nonce: { secret } });
    const error = await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier.verify(request(await proof({ claims: { nonce: 42 } }))));
    assert.equal(error.dpopNonce, undefined);
  });

  it('with a valid nonce, iat may be off by the nonce window (300 s + tolerance), not more', async () => {
    const verifier = verifierAt(T0, { nonce: { secret } });
    const nonce = verifier.currentNonce();
    await verifier.verify(request(await proof({ now: T0 - 300_000, claims: { nonce } })));
    await verifier.verify(request(await proof({ now: T0 + 310_000, claims: { nonce } })));
    await refusedWith('ERR_AUTH_DPOP_PROOF_STALE', verifier.verify(request(await proof({ now: T0 - 311_000, claims: { nonce } }))));
  });

  it('nonces off: currentNonce is undefined', () => {
    assert.equal(verifierAt(T0).currentNonce(), undefined);
  });
});

describe('DPoP proof: replay', () => {
  it('the same proof twice → DPOP_PROOF_REPLAYED (spring: jti already used)', async () => {
    const verifier = verifierAt(T0);
    const text = await proof();
    await verifier.verify(request(text));
    await refusedWith('ERR_AUTH_DPOP_PROOF_REPLAYED', verifier.verify(request(text)));
  });

  it('the store key is dpop:<jkt>:<jti>, kept until just past iat + proofMaxAge + clockTolerance', async () => {
    const added: Array<[string, Date]> = [];
    const replayStore: ReplayStore = { add: (k, until) => (added.push([k, until]), true) };
    await verifierAt(T0, { replayStore }).verify(request(await proof({ claims: { jti: 'jti-7' } })));
    // One millisecond past the last fresh instant: a store forgets a key at its expiresAt.
    assert.deepEqual(added, [[`dpop:${key.jkt}:jti-7`, new Date(T0 + 70_001)]]);
  });

  it('with nonces, kept for the nonce window from now', async () => {
    const added: Date[] = [];
    const replayStore: ReplayStore = { add: (_k, until) => (added.push(until), true) };
    const verifier = verifierAt(T0, { replayStore, nonce: true });
    await verifier.verify(request(await proof({ claims: { nonce: verifier.currentNonce() } })));
    assert.deepEqual(added, [new Date(T0 + 310_001)]);
  });

  it("one jti under two keys is two uses (one client cannot burn another's jti)", async () => {
    const verifier = verifierAt(T0);
    await verifier.verify(request(await proof({ claims: { jti: 'shared' } })));
    const text = await makeProof(other, { now: T0, accessToken: TOKEN, claims: { jti: 'shared' } });
    await verifier.verify(request(text, { jkt: other.jkt }));
  });

  const stores: ReadonlyArray<readonly [string, ReplayStore, AuthErrorCode]> = [
    ['answers false → DPOP_PROOF_REPLAYED', { add: () => false }, 'ERR_AUTH_DPOP_PROOF_REPLAYED'],
    ['resolves false → DPOP_PROOF_REPLAYED', { add: async () => false }, 'ERR_AUTH_DPOP_PROOF_REPLAYED'],
    [
      'throws → REPLAY_CHECK_UNAVAILABLE',
      {
        add: () => {
          throw new Error('redis down');
        },
      },
      'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE',
    ],
    ['rejects → REPLAY_CHECK_UNAVAILABLE', { add: () => Promise.reject(new Error('redis down')) }, 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE'],
    ['answers something else → REPLAY_CHECK_UNAVAILABLE', { add: () => 'OK' as unknown as boolean }, 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE'],
  ];
  for (const [name, replayStore, code] of stores) {
    it(`a store that ${name}`, async () => {
      const error = await refusedWith(code, verifierAt(T0, { replayStore }).verify(request(await proof())));
      if (code === 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE') assert.equal(error.status, 14);
    });
  }

  it('forged, stale or mismatched proofs never reach the store', async () => {
    let adds = 0;
    const replayStore: ReplayStore = { add: () => (++adds, true) };
    const verifier = verifierAt(T0, { replayStore });
    await refusal(verifier.verify(request(await proof({ signWith: other }))));
    await refusal(verifier.verify(request(await proof({ now: T0 - 600_000 }))));
    await refusal(verifier.verify(request(await proof({ path: '/x.Y/Z' }))));
    await refusal(verifier.verify(request(await makeProof(other, { now: T0, accessToken: TOKEN }))));
    assert.equal(adds, 0);
  });
});

describe('DPoP proof: key cache', () => {
  it("a client's header is imported once; headers of refused proofs are never cached", async () => {
    const verifier = new ProofVerifier(compileDpopOptions({ origins: [TEST_ORIGIN] }), createMemoryReplayStore({ clock: () => T0 }), () => T0);
    for (let i = 0; i < 3; i++) await verifier.verify(request(await proof()));
    assert.equal(verifier.cachedKeys, 1);
    await refusal(verifier.verify(request(await makeProof(other, { now: T0, accessToken: TOKEN, signWith: key }), { jkt: other.jkt })));
    assert.equal(verifier.cachedKeys, 1);
  });

  it('a cached header still refuses a proof that another key signed under it', async () => {
    const verifier = verifierAt(T0);
    await verifier.verify(request(await proof()));
    await refusedWith('ERR_AUTH_DPOP_PROOF_INVALID', verifier.verify(request(await proof({ signWith: other }))));
  });
});

describe('createDpopProofVerifier options', () => {
  const cases: ReadonlyArray<readonly [string, unknown, string]> = [
    ['origins missing', {}, 'dpop.origins'],
    ['an origin with a path', { origins: ['https://a.test/x'] }, 'dpop.origins[0]'],
    ['HS256 in algorithms', { origins: [TEST_ORIGIN], algorithms: ['HS256'] }, 'dpop.algorithms[0]'],
    ['none in algorithms', { origins: [TEST_ORIGIN], algorithms: ['none'] }, 'dpop.algorithms[0]'],
    ['an empty algorithms list', { origins: [TEST_ORIGIN], algorithms: [] }, 'dpop.algorithms'],
    ['proofMaxAge 0', { origins: [TEST_ORIGIN], proofMaxAge: 0 }, 'dpop.proofMaxAge'],
    ['proofMaxAge in milliseconds', { origins: [TEST_ORIGIN], proofMaxAge: 60_000 }, 'dpop.proofMaxAge'],
    ['clockTolerance over 60', { origins: [TEST_ORIGIN], clockTolerance: 61 }, 'dpop.clockTolerance'],
    ['a short nonce secret', { origins: [TEST_ORIGIN], nonce: { secret: 'short' } }, 'dpop.nonce.secret'],
    ['nonce false', { origins: [TEST_ORIGIN], nonce: false }, 'dpop.nonce'],
    ['a misspelt option', { origins: [TEST_ORIGIN], proofMaxAgee: 5 }, 'proofMaxAgee'],
    ['a replay store without add', { origins: [TEST_ORIGIN], replayStore: {} }, 'replayStore'],
    ['a clock that is not a function', { origins: [TEST_ORIGIN], clock: 5 }, 'clock'],
  ];
  for (const [name, options, option] of cases) {
    it(`${name} → AuthConfigError naming ${option}`, () => {
      assert.throws(
        () => createDpopProofVerifier(options as DpopProofVerifierOptions),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
      );
    });
  }
});

describe('DPoP proof: the caller bound covers the check, not the replay store', () => {
  it('the check runs inside `limited` and the store is asked after it returned: a slow store holds no place', async () => {
    let inside = 0;
    const insideWhenStored: number[] = [];
    const replayStore: ReplayStore = {
      add: () => {
        insideWhenStored.push(inside);
        return true;
      },
    };
    const limited = async <T>(check: () => Promise<T>): Promise<T> => {
      inside += 1;
      try {
        return await check();
      } finally {
        inside -= 1;
      }
    };
    const verified = await (verifierAt(T0, { replayStore }) as ProofVerifier).verify(request(await proof()), limited);
    assert.equal(verified.jkt, key.jkt);
    assert.deepEqual(insideWhenStored, [0]);
  });

  it('a bound that refuses (VERIFIER_BUSY) refuses the proof before any check, and nothing is stored', async () => {
    let stored = 0;
    const replayStore: ReplayStore = { add: () => ((stored += 1), true) };
    const busy = (): Promise<never> => {
      throw new Error('busy');
    };
    await assert.rejects((verifierAt(T0, { replayStore }) as ProofVerifier).verify(request(await proof()), busy), /busy/);
    assert.equal(stored, 0);
  });
});
