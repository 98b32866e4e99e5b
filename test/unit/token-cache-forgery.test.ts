/**
 * The verified-token cache's security invariant through the real authenticator (jose, a test issuer):
 * a hit only for the exact verified string, whatever segment or ghost the 2Q admission put it in. A
 * forged token carrying a cached token's signature (so its last 12 characters and its fingerprint) is
 * a miss and refused by the full verification; an ECDSA-malleated signature (r, n − s) is a different
 * string: a miss, verified in full, the same tokenId.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAuthenticator } from '../../src/verify/authenticator.ts';
import { newProbe } from '../../src/verify/verification-probe.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { countingKeys } from '../support/counting-keys.ts';

const METHOD = '/test.v1.S/M';
/** The order of P-256's base point: (r, n − s) verifies wherever (r, s) does. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** `token`'s signature under another payload: same last 12 characters, same fingerprint. */
function withClaims(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

function malleated(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const raw = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([raw.subarray(0, 32), flipped]).toString('base64url')}`;
}

async function setup(maxEntries = 20) {
  const idp = await createTestIssuer({ alg: 'ES256' });
  const keys = countingKeys(idp.keys);
  const authenticator = buildAuthenticator({ keys, algorithms: ['ES256'], cache: { maxEntries } });
  const call = async (token: string) => {
    const probe = newProbe();
    const outcome = await Promise.resolve()
      .then(() => authenticator.authenticate(token, METHOD, probe))
      .then(
        (admission) => ({ ok: true as const, tokenId: admission.context.tokenId }),
        (error: { code?: string }) => ({ ok: false as const, code: error.code }),
      );
    return { ...outcome, cacheHit: probe.cacheHit };
  };
  return { idp, keys, authenticator, call };
}

describe('verified-token cache: a hit only for the exact verified string, in every segment', () => {
  const placements: Record<string, (call: (token: string) => Promise<unknown>, token: string, flood: () => Promise<void>) => Promise<void>> = {
    probation: async (call, token) => void (await call(token)),
    protected: async (call, token) => {
      await call(token);
      await call(token);
    },
    ghost: async (call, token, flood) => {
      await call(token);
      await flood();
    },
    'ghost-admitted': async (call, token, flood) => {
      await call(token);
      await flood();
      await call(token);
    },
  };
  for (const [placement, place] of Object.entries(placements)) {
    it(`${placement}: a forged payload under the cached token's signature → a miss, fully verified, ERR_AUTH_SIGNATURE_INVALID`, async () => {
      const { idp, keys, call } = await setup();
      const token = await idp.sign({ sub: 'alice', scope: 'read' });
      const flood = async () => {
        for (let i = 0; i < 25; i++) await call(await idp.sign({ sub: `filler-${i}` }));
      };
      await place(call, token, flood);
      const before = keys.lookups;
      const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
      const forged = withClaims(token, { ...claims, scope: 'admin' });
      assert.equal(forged.slice(-12), token.slice(-12));
      const result = await call(forged);
      assert.deepEqual(result, { ok: false, code: 'ERR_AUTH_SIGNATURE_INVALID', cacheHit: false });
      assert.equal(keys.lookups, before + 1, 'verified in full');
      // Refused twice: never remembered, never admitted by the ghost.
      assert.deepEqual(await call(forged), { ok: false, code: 'ERR_AUTH_SIGNATURE_INVALID', cacheHit: false });
    });
  }

  it('ECDSA (r, n − s): a different string, so a miss verified in full (accepted, same tokenId); each string then hits only itself', async () => {
    const { idp, keys, call } = await setup();
    const token = await idp.sign({ sub: 'alice' });
    const first = await call(token);
    assert.equal((await call(token)).cacheHit, true);
    const twin = malleated(token);
    assert.notEqual(twin, token);
    const before = keys.lookups;
    const twinResult = await call(twin);
    assert.equal(twinResult.cacheHit, false);
    assert.equal(keys.lookups, before + 1);
    assert.equal(twinResult.ok, true, 'WebCrypto accepts high-s: the cache must not be what rejects it');
    assert.equal(first.ok && twinResult.ok && first.tokenId === twinResult.tokenId, true, 'tokenId digests the signed part: a denylist covers both');
    assert.equal((await call(twin)).cacheHit, true);
    assert.equal((await call(token)).cacheHit, true);
  });
});
