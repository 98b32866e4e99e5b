/**
 * Server DPoP nonces: HKDF of a secret and the 60-second step; the nonce handed out (step + 1) is accepted
 * for steps −2..+2 around the current one.
 *
 * Ported cases (our own code; the behaviours are the peers'):
 * - opentdf/platform service/internal/auth/dpop_nonce_test.go, commit 053f7e5d7: "nonce generation",
 *   "nonce rotation", "nonce validation window" (current and previous accepted, older refused), "empty
 *   nonce rejected when required". Their non-string nonce ("malformed, not a nonce challenge") is in
 *   test/unit/dpop-proof.test.ts.
 * - panva/node-oidc-provider lib/helpers/challenge.js, commit b95c2944: five steps of 60 s, replicas sharing
 *   the secret agree without a store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDpopNonces, NONCE_WINDOW } from '../../src/verify/dpop-nonce.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const secret = new Uint8Array(32).fill(7);

function at(start: number): { clock: () => number; advance(seconds: number): void } {
  let now = start;
  return { clock: () => now, advance: (seconds) => void (now += seconds * 1000) };
}

describe('DPoP nonces', () => {
  it('a nonce is 43 base64url characters (32 bytes) and checks', () => {
    const nonces = createDpopNonces(secret, () => T0);
    const nonce = nonces.current();
    assert.match(nonce, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(nonces.check(nonce), true);
  });

  it('rotates every 60 seconds, and stays the same within a step', () => {
    const time = at(T0);
    const nonces = createDpopNonces(secret, time.clock);
    const first = nonces.current();
    time.advance(59);
    assert.equal(nonces.current(), first);
    time.advance(1);
    assert.notEqual(nonces.current(), first);
  });

  it('accepts a handed-out nonce for about four minutes, then refuses it', () => {
    const time = at(T0);
    const nonces = createDpopNonces(secret, time.clock);
    const issued = nonces.current();
    for (let minute = 1; minute <= 3; minute++) {
      time.advance(60);
      assert.equal(nonces.check(issued), true, `after ${minute} min`);
    }
    time.advance(60);
    assert.equal(nonces.check(issued), false, 'after 4 min');
    assert.equal(NONCE_WINDOW, 300);
  });

  it('accepts the previous steps around a replica whose clock is a minute ahead', () => {
    const behind = createDpopNonces(secret, () => T0);
    const ahead = createDpopNonces(secret, () => T0 + 60_000);
    assert.equal(ahead.check(behind.current()), true);
    assert.equal(behind.check(ahead.current()), true);
  });

  it('replicas with the same secret agree; another secret never matches', () => {
    const a = createDpopNonces(secret, () => T0);
    const b = createDpopNonces(Uint8Array.from(secret), () => T0);
    const other = createDpopNonces(new Uint8Array(32).fill(8), () => T0);
    assert.equal(b.check(a.current()), true);
    assert.equal(other.check(a.current()), false);
  });

  it('refuses the empty string, a respelling, other lengths and non-strings', () => {
    const nonces = createDpopNonces(secret, () => T0);
    const nonce = nonces.current();
    assert.equal(nonces.check(''), false);
    assert.equal(nonces.check(`${nonce}A`), false);
    assert.equal(nonces.check(nonce.slice(1)), false);
    // The last character of 43 base64url characters carries 2 unused bits: a different last character that decodes to the same bytes.
    const last = nonce.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelt = nonce.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
    assert.deepEqual(Buffer.from(respelt, 'base64url'), Buffer.from(nonce, 'base64url'));
    assert.equal(nonces.check(respelt), false);
    assert.equal(nonces.check(42 as unknown as string), false);
  });
});

describe('the nonce on the wire', () => {
  it('AuthError keeps a header-safe dpopNonce and drops anything else; the refusal sends it in dpop-nonce', async () => {
    const { AuthError } = await import('../../src/errors/auth-error.ts');
    const { rejectionStatus } = await import('../../src/server/rejection.ts');
    const nonce = createDpopNonces(secret, () => T0).current();
    const refusal = new AuthError('ERR_AUTH_DPOP_NONCE_REQUIRED', 'no nonce', { dpopNonce: nonce });
    assert.equal(refusal.dpopNonce, nonce);
    assert.deepEqual(rejectionStatus(refusal, { scheme: 'DPoP', dpopAlgorithms: ['ES256'] }).metadata.get('dpop-nonce'), [nonce]);
    for (const unsafe of ['a"b', 'a\\b', 'a b', 'line\nbreak', '', 'x'.repeat(257)]) {
      assert.equal(new AuthError('ERR_AUTH_DPOP_NONCE_REQUIRED', 'x', { dpopNonce: unsafe }).dpopNonce, undefined, JSON.stringify(unsafe));
    }
    assert.deepEqual(rejectionStatus(new AuthError('ERR_AUTH_TOKEN_EXPIRED')).metadata.get('dpop-nonce'), []);
  });
});
