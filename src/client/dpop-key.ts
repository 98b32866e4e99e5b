/**
 * The client's DPoP key (RFC 9449): one key pair whose public half the identity provider binds tokens to
 * (`cnf.jkt`), and which signs one proof per request, so a token copied off the wire, a log or a proxy is
 * useless without the private key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { types } from 'node:util';
import { CompactSign, calculateJwkThumbprint, compactVerify, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { AuthConfigError } from '../errors/config-error.ts';
import { checkOptionNames, isRecord, optionNames, optionalChoice, optionalFunction } from '../util/option-checks.ts';

/** The proof algorithms offered: the FAPI 2.0 set, the server's default list. */
const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'PS256'] as const;

/**
 * Options of {@link createDpopKey}.
 *
 * @example
 * ```ts
 * import type { DpopKeyOptions } from 'grpc-jwt-auth/client';
 * const options: DpopKeyOptions = { alg: 'EdDSA' };
 * ```
 */
export interface DpopKeyOptions {
  /**
   * The proof algorithm: `ES256` (default), `EdDSA` (Ed25519) or `PS256`. With a `keyPair`, default the
   * algorithm that key is for.
   */
  readonly alg?: 'ES256' | 'EdDSA' | 'PS256';
  /**
   * Your own key pair (WebCrypto `CryptoKey`s), e.g. one kept across restarts so bound refresh tokens stay
   * usable. Default: a new pair whose private key is not extractable (it cannot be exported, only used).
   * The public key must be extractable (it goes into every proof).
   */
  readonly keyPair?: {
    /** The private key: signs the proofs. */
    readonly privateKey: CryptoKey;
    /** Its public key: sent in every proof's header. */
    readonly publicKey: CryptoKey;
  };
  /**
   * The clock for the proofs' `iat`, a function like `Date.now` (milliseconds since the epoch). Default
   * `Date.now`.
   */
  readonly clock?: () => number;
}

/**
 * A DPoP key: signs the proofs the token interceptor and the token requests send. Make it with
 * {@link createDpopKey}; give the same key to the token source and the interceptor.
 *
 * @example
 * ```ts
 * import { createDpopKey } from 'grpc-jwt-auth/client';
 * const key = await createDpopKey();
 * key.thumbprint; // the `cnf.jkt` bound tokens carry
 * const proof = await key.proof({ htu: 'https://orders.example/acme.orders.v1.Orders/GetOrder', accessToken: token });
 * ```
 */
export interface DpopKey {
  /** The proof algorithm (`ES256`, `EdDSA`, `PS256`). */
  readonly alg: string;
  /** The RFC 7638 SHA-256 thumbprint of the public key: the `cnf.jkt` of tokens bound to it. */
  readonly thumbprint: string;
  /** The public key as a JWK: public members only. */
  readonly publicJwk: JWK;
  /**
   * One proof JWT: header `typ: dpop+jwt`, `alg` and the public `jwk`; claims a fresh random `jti`, `htm`
   * (default `POST`), `htu` without query and fragment, `iat`, `ath` (the access token's SHA-256) when an
   * `accessToken` is given, and `nonce` when given.
   */
  proof(request: {
    readonly htu: string;
    readonly htm?: string | undefined;
    readonly accessToken?: string | undefined;
    readonly nonce?: string | undefined;
  }): Promise<string>;
}

const DPOP_KEY_OPTION_NAMES = optionNames<DpopKeyOptions>({ alg: true, keyPair: true, clock: true });

/** 2001-01-01 in milliseconds: a smaller reading comes from a clock in seconds or `performance.now`, not `Date.now`. */
const EARLIEST_READING = Date.UTC(2001, 0, 1);
/** RFC 9110 token characters: what an HTTP method name may hold. */
const METHOD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9449 §8.1: a nonce is 1*NQCHAR (printable ASCII without `"` and `\`). */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** Longest nonce put in a proof: a server's nonce is a few dozen characters; this bounds a hostile one. */
export const MAX_NONCE_LENGTH = 1024;

/**
 * True for a value that can be a DPoP nonce (RFC 9449 §8.1 characters, bounded length).
 *
 * @example
 * ```ts
 * isDpopNonce('eyJ7S_zG.eyJH0-Z.HX4w-7v'); // true
 * isDpopNonce('a"b'); // false
 * ```
 */
export function isDpopNonce(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_NONCE_LENGTH && NONCE.test(value);
}

/**
 * The `htu` of a request: an absolute http(s) URL, without query and fragment (RFC 9449 §4.2), or an
 * AuthConfigError naming `option`.
 *
 * @example
 * ```ts
 * proofTarget('https://idp.example/token?x=1#y', 'htu'); // 'https://idp.example/token'
 * ```
 */
export function proofTarget(value: unknown, option: string): string {
  const url = typeof value === 'string' || value instanceof URL ? URL.parse(String(value)) : null;
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new AuthConfigError(option, 'expected an absolute http(s) URL');
  // The server compares htu with the URL it serves; credentials never belong in it.
  if (url.username !== '' || url.password !== '') throw new AuthConfigError(option, 'must not contain a user name or password');
  return `${url.origin}${url.pathname}`;
}

/** A WebCrypto key (of this process's Node: a CryptoKey of another realm is refused too). */
function isCryptoKey(value: unknown): value is CryptoKey {
  return types.isCryptoKey(value);
}

/** Which proof algorithm a key pair is for, or why it is none of ours. */
function algorithmOf(key: CryptoKey): (typeof DPOP_ALGORITHMS)[number] | string {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name?: string }; modulusLength?: number };
  if (algorithm.name === 'ECDSA') return algorithm.namedCurve === 'P-256' ? 'ES256' : `an ECDSA ${String(algorithm.namedCurve)} key`;
  if (algorithm.name === 'Ed25519' || algorithm.name === 'EdDSA') return 'EdDSA';
  if (algorithm.name === 'RSA-PSS') {
    if (algorithm.hash?.name !== 'SHA-256') return `an RSA-PSS key for ${String(algorithm.hash?.name)}`;
    // Below 2048 bits an RSA key is breakable with public means; servers refuse such proofs anyway.
    return (algorithm.modulusLength ?? 0) >= 2048 ? 'PS256' : `an RSA key of ${algorithm.modulusLength ?? 0} bits`;
  }
  return `an ${algorithm.name} key`;
}

/** The given key pair, checked: a private signing key and its extractable public half. */
function checkKeyPair(value: unknown, alg: string | undefined): { readonly keyPair: { privateKey: CryptoKey; publicKey: CryptoKey }; readonly alg: string } {
  if (!isRecord(value)) throw new AuthConfigError('keyPair', 'expected a CryptoKeyPair ({ privateKey, publicKey })');
  const { privateKey, publicKey } = value;
  if (!isCryptoKey(privateKey) || privateKey.type !== 'private' || !privateKey.usages.includes('sign')) {
    throw new AuthConfigError('keyPair', 'privateKey must be a private CryptoKey usable to sign');
  }
  if (!isCryptoKey(publicKey) || publicKey.type !== 'public') throw new AuthConfigError('keyPair', 'publicKey must be a public CryptoKey');
  if (!publicKey.extractable) throw new AuthConfigError('keyPair', 'publicKey must be extractable: every proof carries it');
  const fits = algorithmOf(privateKey);
  if (!(DPOP_ALGORITHMS as readonly string[]).includes(fits)) throw new AuthConfigError('keyPair', `${fits} cannot sign DPoP proofs (ES256, EdDSA, PS256)`);
  if (algorithmOf(publicKey) !== fits) throw new AuthConfigError('keyPair', 'privateKey and publicKey are not of the same kind');
  if (alg !== undefined && alg !== fits) throw new AuthConfigError('alg', `${alg} does not fit the keyPair, which is for ${fits}`);
  return { keyPair: { privateKey, publicKey }, alg: fits };
}

/** The members of a public JWK a proof header may carry (RFC 7517/7518/8037): never `d`, `p`, `q`, ... */
function publicMembers(jwk: JWK): JWK {
  const names = jwk.kty === 'RSA' ? (['kty', 'n', 'e'] as const) : jwk.kty === 'EC' ? (['kty', 'crv', 'x', 'y'] as const) : (['kty', 'crv', 'x'] as const);
  const members: Record<string, string> = {};
  for (const name of names) {
    const value = jwk[name];
    if (typeof value === 'string') members[name] = value;
  }
  return Object.freeze(members as JWK);
}

/** The clock option, its readings checked: a clock in seconds would date every proof to 1970, and servers refuse it as stale. */
function checkedClock(clock: () => number): () => number {
  return () => {
    const now = clock();
    if (typeof now !== 'number' || !Number.isFinite(now) || now < EARLIEST_READING) {
      throw new AuthConfigError('clock', 'must return milliseconds since the epoch, like Date.now()');
    }
    return now;
  };
}

/**
 * A key for DPoP (RFC 9449, sender-constrained tokens). Give it to {@link clientCredentials} or
 * {@link refreshingToken} (`dpop: key`), which then ask the identity provider for tokens bound to it, and
 * to {@link createTokenInterceptor} (it takes the token source's key by itself), which sends each call
 * with `authorization: DPoP <token>` and a fresh proof.
 *
 * A generated key's private half is not extractable: it can sign, but nothing in the process can export
 * it (a heap dump still holds it; the OS keystore does not). Keep one key per process for its lifetime: a
 * new key needs new tokens. A given `keyPair` is checked (private signing key, extractable public key,
 * one of the three algorithms, halves of the same kind) and throws {@link AuthConfigError} naming the option.
 * Server nonces (`dpop-nonce`) are remembered per origin with the key (the last 100 origins).
 *
 * @example
 * ```ts
 * import { Client, credentials } from '@grpc/grpc-js';
 * import { clientCredentials, createDpopKey, createTokenInterceptor } from 'grpc-jwt-auth/client';
 * declare const OrdersClient: typeof Client;
 * const key = await createDpopKey(); // ES256
 * const token = clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: secret, dpop: key });
 * const orders = new OrdersClient('orders.example:443', credentials.createSsl(), {
 *   interceptors: [createTokenInterceptor({ token, channelSecurity: 'tls' })], // DPoP with the token source's key
 * });
 * ```
 */
export async function createDpopKey(options: DpopKeyOptions = {}): Promise<DpopKey> {
  checkOptionNames(options, DPOP_KEY_OPTION_NAMES);
  const wanted = optionalChoice(options.alg, 'alg', DPOP_ALGORITHMS);
  const clock = checkedClock(optionalFunction<() => number>(options.clock, 'clock') ?? Date.now);
  const given = options.keyPair;
  const { keyPair, alg } =
    given === undefined
      ? // Not extractable: the private key can sign but never be exported (copied off to another host).
        { keyPair: await generateKeyPair(wanted ?? 'ES256', { extractable: false }), alg: wanted ?? 'ES256' }
      : checkKeyPair(given, wanted);
  const publicJwk = publicMembers(await exportJWK(keyPair.publicKey));
  const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  // Built once (as oauth4webapi's DPoPHandler): the same for every proof of this key.
  const header = { typ: 'dpop+jwt', alg, jwk: publicJwk };
  const encoder = new TextEncoder();

  const proof: DpopKey['proof'] = async (request) => {
    if (!isRecord(request)) throw new AuthConfigError('request', 'expected { htu, htm?, accessToken?, nonce? }');
    const htu = proofTarget(request.htu, 'htu');
    const htm = request.htm ?? 'POST';
    if (typeof htm !== 'string' || !METHOD_NAME.test(htm)) throw new AuthConfigError('htm', 'expected an HTTP method name');
    const { accessToken, nonce } = request;
    // ath hashes the token's ASCII bytes (RFC 9449 §4.2): anything else would hash to what no server computes.
    if (accessToken !== undefined && (typeof accessToken !== 'string' || !/^[\x21-\x7e]+$/.test(accessToken))) {
      throw new AuthConfigError('accessToken', 'expected a non-empty string of printable ASCII');
    }
    if (nonce !== undefined && !isDpopNonce(nonce)) throw new AuthConfigError('nonce', 'expected a DPoP nonce (printable ASCII without quotes or backslashes)');
    const payload: Record<string, unknown> = {
      // 128 random bits: the server's replay check keys on it.
      jti: randomBytes(16).toString('base64url'),
      htm,
      htu,
      iat: Math.floor(clock() / 1000),
    };
    // RFC 9449 §4.2: the hash of the ASCII access token binds the proof to that token.
    if (accessToken !== undefined) payload.ath = createHash('sha256').update(accessToken, 'ascii').digest('base64url');
    if (nonce !== undefined) payload.nonce = nonce;
    return new CompactSign(encoder.encode(JSON.stringify(payload))).setProtectedHeader(header).sign(keyPair.privateKey);
  };

  if (given !== undefined) {
    // Halves of different pairs would sign proofs every server refuses: found here, not at the first call.
    const sample = await proof({ htu: 'https://dpop.invalid/' });
    await compactVerify(sample, keyPair.publicKey).catch(() => {
      throw new AuthConfigError('keyPair', 'privateKey and publicKey are not halves of one key pair');
    });
  }
  return Object.freeze({ alg, thumbprint, publicJwk, proof });
}

/**
 * The `dpop` option of a factory, checked: undefined, or a {@link DpopKey} (one from
 * {@link createDpopKey}, or your own object of that shape, e.g. over a hardware key).
 *
 * @example
 * ```ts
 * optionalDpopKey(undefined, 'dpop'); // undefined
 * optionalDpopKey('ES256', 'dpop'); // throws AuthConfigError('dpop', ...): make the key with createDpopKey()
 * ```
 */
export function optionalDpopKey(value: unknown, option: string): DpopKey | undefined {
  if (value === undefined) return undefined;
  if (
    !isRecord(value) ||
    typeof value.proof !== 'function' ||
    typeof value.thumbprint !== 'string' ||
    typeof value.alg !== 'string' ||
    !isRecord(value.publicJwk)
  ) {
    throw new AuthConfigError(option, 'expected a DPoP key from createDpopKey()');
  }
  return value as unknown as DpopKey;
}
