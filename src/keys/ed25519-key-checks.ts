import type { KeyObject } from 'node:crypto';

/** The field prime of edwards25519, p = 2^255 - 19. */
const P = (1n << 255n) - 19n;

/** The y-coordinate of an encoded point (RFC 8032 §5.1.2: 255 bits little-endian, the top bit is the sign of x). */
function yOf(encoded: Uint8Array): bigint {
  let y = 0n;
  for (let i = encoded.length - 1; i >= 0; i--) y = (y << 8n) | BigInt(encoded[i] ?? 0);
  return y & ((1n << 255n) - 1n);
}

// One of the two y-coordinates of the four points of order 8; the other is p minus it.
const ORDER_8_Y = yOf(Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex'));

// The y-coordinates of the eight points whose order divides 8: 1 (the identity), p - 1 (order 2), 0 (the
// two points of order 4) and the two of order 8. With a public key A among them, [h]A is one of these
// eight points whatever the message hash h, so the signature (R = -[h]A, S = 0) verifies without any
// private key; a fixed R already verifies for one message in two to eight.
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([1n, P - 1n, 0n, ORDER_8_Y, P - ORDER_8_Y]);

/**
 * Why an Ed25519 public key must not verify signatures, or undefined when it may. Refuses:
 * - encodings a conforming decoder rejects (RFC 8032 §5.1.3): y ≥ p, or x = 0 with the sign bit set. Such
 *   a key has several spellings, and lenient decoders read several of them as small-order points;
 * - the eight encodings of points of small order: anyone can forge a token that verifies under them
 *   (S = 0, R of small order), the EdDSA twin of an RSA key with `e = 1`.
 * OpenSSL, and so node and jose, take such keys without complaint.
 *
 * @example
 * ```ts
 * import { createPublicKey, generateKeyPairSync } from 'node:crypto';
 * ed25519KeyWeakness(generateKeyPairSync('ed25519').publicKey); // undefined: a sound key
 * ed25519KeyWeakness(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: 'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, format: 'jwk' })); // 'Ed25519 public key is a point of small order: ...'
 * ```
 */
export function ed25519KeyWeakness(key: KeyObject): string | undefined {
  const encoded = Buffer.from(String(key.export({ format: 'jwk' }).x), 'base64url');
  if (encoded.length !== 32) return `Ed25519 public key is ${encoded.length} bytes, not 32`;
  const y = yOf(encoded);
  const signBit = ((encoded[31] ?? 0) & 0x80) !== 0;
  if (y >= P) return 'Ed25519 public key has a non-canonical encoding (y ≥ p)';
  if (signBit && (y === 1n || y === P - 1n)) return 'Ed25519 public key has a non-canonical encoding (x = 0 with the sign bit set)';
  if (SMALL_ORDER_Y.has(y)) return 'Ed25519 public key is a point of small order: anyone could forge signatures that verify under it';
  return undefined;
}
