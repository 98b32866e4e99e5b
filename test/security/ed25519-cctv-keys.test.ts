/**
 * The public keys of C2SP/CCTV's Ed25519 edge-case vectors (ed25519/ed25519vectors.json, file version
 * 0fb2c3b, 914 signatures over 22 keys), ported as data with CCTV's own flags: `low_order_A` (one of
 * the eight small-order points, or one of six non-canonical encodings of them) and
 * `low_order_component_A` (a point with a small-order component beside a prime-order one, which no
 * blocklist can catch and which cannot be used to forge). Our key sources must refuse exactly the
 * `low_order_A` keys, judged by CCTV rather than by our own lists; and each of those keys, taken as
 * OpenSSL takes it, verifies some of CCTV's signatures made without any private key: the refusal is
 * what stands between them and a token.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { AuthConfigError, fromJwks, fromPem } from '../../src/index.ts';

type Flag = 'low_order_A' | 'non_canonical_A' | 'low_order_component_A';

/** [key (hex), CCTV's flags for it, how many of CCTV's signatures use it]. */
const CCTV_KEYS: ReadonlyArray<readonly [string, readonly Flag[], number]> = [
  ['ef75b20e7540e3dff77404193652ba2bd13df99c1508eee1515e27ae25f28076', [], 28],
  ['0100000000000000000000000000000000000000000000000000000000000000', ['low_order_A'], 22],
  ['0000000000000000000000000000000000000000000000000000000000000000', ['low_order_A', 'low_order_component_A'], 36],
  ['0000000000000000000000000000000000000000000000000000000000000080', ['low_order_A', 'low_order_component_A'], 36],
  ['26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', ['low_order_A', 'low_order_component_A'], 44],
  ['26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', ['low_order_A', 'low_order_component_A'], 44],
  ['c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', ['low_order_A', 'low_order_component_A'], 44],
  ['c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', ['low_order_A', 'low_order_component_A'], 44],
  ['ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', ['low_order_A', 'low_order_component_A'], 30],
  ['ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', ['low_order_A', 'non_canonical_A', 'low_order_component_A'], 40],
  ['edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', ['low_order_A', 'non_canonical_A', 'low_order_component_A'], 48],
  ['edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', ['low_order_A', 'non_canonical_A', 'low_order_component_A'], 48],
  ['0100000000000000000000000000000000000000000000000000000000000080', ['low_order_A', 'non_canonical_A'], 30],
  ['eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', ['low_order_A', 'non_canonical_A'], 30],
  ['eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', ['low_order_A', 'non_canonical_A'], 30],
  ['015ff595e4e0add00dde896efa66ea4f6848c4396410c693c92232aa64861d4f', ['low_order_component_A'], 56],
  ['10eb7c3acfb2bed3e0d6ab89bf5a3d6afddd1176ce4812e38d9fd485058fdb1f', ['low_order_component_A'], 48],
  ['6718d0a3d58deaeaefa655eae3f119071deaa2cfebfd0ca28b670f879d657086', ['low_order_component_A'], 56],
  ['86e72f5c2a7215151059aa151c0ee6f8e2155d301402f35d7498f078629a8f79', ['low_order_component_A'], 56],
  ['dd1483c5304d412c1f29547640a5c2950222ee8931b7ed1c72602b7afa7024e0', ['low_order_component_A'], 48],
  ['eca00a6a1b1f522ff2217691059915b097b73bc69bef396c36ddcd559b79e2b0', ['low_order_component_A'], 56],
  ['fe894df18abf1c20088bfbe6c9ad45d42ec20663eaf7111eaea1d851da0d7f89', ['low_order_component_A'], 40],
];

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keyObject = (hex: string) => createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
const jwkOf = (hex: string) => ({ kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url'), kid: 'cctv' });
const pemOf = (hex: string) => keyObject(hex).export({ type: 'spki', format: 'pem' }) as string;

/** Whether a key source takes the key, and if not why. */
function verdict(configure: () => unknown): { taken: true } | { taken: false; reason: string } {
  try {
    configure();
    return { taken: true };
  } catch (error) {
    if (!(error instanceof AuthConfigError)) throw error;
    return { taken: false, reason: error.message };
  }
}

describe('Ed25519 keys: C2SP/CCTV edge-case vectors (ported as data)', () => {
  it('the 22 keys: the 14 flagged low_order_A are refused by fromJwks and fromPem, the 8 others taken', () => {
    assert.equal(
      CCTV_KEYS.reduce((sum, [, , count]) => sum + count, 0),
      914,
    );
    for (const [hex, flags] of CCTV_KEYS) {
      const expectRefused = flags.includes('low_order_A');
      for (const [source, configure] of [
        ['fromJwks', () => fromJwks({ keys: [jwkOf(hex)] })],
        ['fromPem', () => fromPem(pemOf(hex))],
      ] as const) {
        const result = verdict(configure);
        assert.equal(!result.taken, expectRefused, `${source} ${hex} [${flags.join(', ')}]`);
        if (!result.taken) {
          const expected = flags.includes('non_canonical_A') ? /non-canonical/ : /small order/;
          assert.match(result.reason, expected, `${source} ${hex}`);
        }
      }
    }
    assert.equal(CCTV_KEYS.filter(([, flags]) => flags.includes('low_order_A')).length, 14);
  });

  it('each refused key, as OpenSSL takes it, verifies a forged signature (R = identity, S = 0) for some message', () => {
    // With A of small order, [h]A is the identity for one hash h in (up to) eight, and then R = identity, S = 0 verifies.
    const signature = Buffer.concat([Buffer.from('01'.padEnd(64, '0'), 'hex'), Buffer.alloc(32)]);
    for (const [hex, flags] of CCTV_KEYS.filter(([, keyFlags]) => keyFlags.includes('low_order_A'))) {
      const key = keyObject(hex);
      let forged = 0;
      for (let i = 0; i < 256 && forged === 0; i++) if (verify(null, Buffer.from(`message ${i}`), key, signature)) forged += 1;
      assert.ok(forged > 0, `${hex} [${flags.join(', ')}]: no forgery found in 256 messages`);
    }
  });
});
