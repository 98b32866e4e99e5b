/**
 * RFC 8705 §3.1 certificate thumbprints (`x5t#S256`): the base64url SHA-256 of the certificate's DER
 * bytes, 43 characters without padding.
 */
import { X509Certificate, createHash, timingSafeEqual } from 'node:crypto';
import { AuthConfigError } from '../errors/config-error.ts';

/**
 * The `x5t#S256` thumbprint of an X.509 certificate (RFC 8705 §3.1): base64url SHA-256 of its DER
 * bytes. Takes a PEM certificate (string or bytes) or its DER bytes; anything that is not a certificate
 * throws an {@link AuthConfigError} (a key or a CSR by mistake would give a thumbprint no call can match).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { certificateThumbprint } from 'grpc-jwt-auth';
 * const x5t = certificateThumbprint(readFileSync('orders-app.crt')); // 43 base64url characters
 * const claims = { sub: 'orders-app', cnf: { 'x5t#S256': x5t } }; // what a provider puts in a bound token
 * ```
 */
export function certificateThumbprint(certificate: string | Uint8Array): string {
  if (typeof certificate !== 'string' && !(certificate instanceof Uint8Array))
    throw new AuthConfigError('certificate', 'expected a PEM certificate (string or bytes) or its DER bytes');
  let der: Buffer;
  try {
    der = new X509Certificate(typeof certificate === 'string' ? certificate : Buffer.from(certificate)).raw;
  } catch {
    throw new AuthConfigError('certificate', 'not an X.509 certificate (PEM or DER)');
  }
  return thumbprintOfDer(der);
}

/**
 * The thumbprint of DER bytes as they are (no parsing): what the certificate a TLS stack verified hashes to.
 *
 * @example
 * ```ts
 * thumbprintOfDer(new Uint8Array([0x30, 0x00])); // base64url SHA-256 of the two bytes
 * ```
 */
export function thumbprintOfDer(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/**
 * Whether `bytes` are one DER SEQUENCE that fills them exactly, as every X.509 certificate is. Cheap (no
 * parsing of the certificate): it tells DER from a 32-byte SHA-256 or a base64 text given as bytes by
 * mistake, which hashed again would give a thumbprint no token matches.
 *
 * @example
 * ```ts
 * isDerSequence(new Uint8Array([0x30, 0x00])); // true: an empty SEQUENCE
 * isDerSequence(new Uint8Array(32)); // false: a raw hash is not DER
 * ```
 */
export function isDerSequence(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes[0] !== 0x30) return false;
  const first = bytes[1]!;
  if (first < 0x80) return 2 + first === bytes.length;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || bytes.length < 2 + count) return false;
  let length = 0;
  for (let index = 2; index < 2 + count; index += 1) length = length * 256 + bytes[index]!;
  return 2 + count + length === bytes.length;
}

/**
 * A certificate the caller says the connection presented, as a thumbprint: a canonical `x5t#S256` as it
 * is, DER bytes hashed; undefined for anything else (a hex hash, a PEM, the raw 32-byte hash), which the
 * caller refuses rather than compare.
 *
 * @example
 * ```ts
 * presentedThumbprint('A'.repeat(43)); // 'AAA…'
 * presentedThumbprint('ab'.repeat(32)); // undefined: hex is not an x5t#S256
 * ```
 */
export function presentedThumbprint(value: unknown): string | undefined {
  if (value instanceof Uint8Array) return isDerSequence(value) ? thumbprintOfDer(value) : undefined;
  return isThumbprint(value) ? value : undefined;
}

/** `AB:CD:…`: 32 bytes as upper- or lower-case hex pairs joined by colons, as Node's `fingerprint256`. */
const FINGERPRINT256 = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}$/;

/**
 * The thumbprint from Node's `PeerCertificate.fingerprint256` (`"AB:CD:…"`, the hex SHA-256 of the DER
 * bytes): the same value as hashing `raw`, without hashing again. Undefined for anything else, so the
 * caller falls back to hashing the DER.
 *
 * @example
 * ```ts
 * thumbprintFromFingerprint256('00:'.repeat(31) + '00'); // 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
 * thumbprintFromFingerprint256('not a fingerprint'); // undefined
 * ```
 */
export function thumbprintFromFingerprint256(fingerprint: unknown): string | undefined {
  if (typeof fingerprint !== 'string' || !FINGERPRINT256.test(fingerprint)) return undefined;
  return Buffer.from(fingerprint.replaceAll(':', ''), 'hex').toString('base64url');
}

/**
 * A well-formed `x5t#S256`: 43 base64url characters encoding exactly 32 bytes (the last character
 * carries 2 padding bits, which must be zero). One spelling per hash, so two thumbprints of one
 * certificate are equal strings, and a comparison of strings is a comparison of hashes.
 */
const THUMBPRINT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * Whether `value` is a canonical SHA-256 thumbprint (base64url, 43 characters, no padding).
 *
 * @example
 * ```ts
 * isThumbprint('A'.repeat(43)); // true
 * isThumbprint('ab'.repeat(32)); // false: hex is not base64url
 * ```
 */
export function isThumbprint(value: unknown): value is string {
  return typeof value === 'string' && THUMBPRINT.test(value);
}

/**
 * Compares two canonical thumbprints in constant time: how long the comparison takes tells nothing of
 * how many leading characters an attacker guessed right.
 *
 * @example
 * ```ts
 * sameThumbprint('A'.repeat(43), 'A'.repeat(43)); // true
 * ```
 */
export function sameThumbprint(a: string, b: string): boolean {
  const left = Buffer.from(a, 'latin1');
  const right = Buffer.from(b, 'latin1');
  return left.length === right.length && timingSafeEqual(left, right);
}
