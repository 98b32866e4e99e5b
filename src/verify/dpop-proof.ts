/**
 * DPoP proof verification (RFC 9449 §4.3), pure: no gRPC. The interceptor calls it once per call whose
 * token is DPoP-bound; the test issuer's token endpoint calls it for token requests.
 */
import { KeyObject, createHash, type webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, type JWK } from 'jose';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog, thrownText } from '../errors/log-text.ts';
import { ed25519KeyWeakness } from '../keys/ed25519-key-checks.ts';
import { rsaKeyWeakness } from '../keys/rsa-key-checks.ts';
import { checkOptionNames, isRecord, optionNames } from '../util/option-checks.ts';
import { isThenable } from '../util/thenable.ts';
import { createMemoryReplayStore } from '../stores/memory-replay-store.ts';
import { optionalReplayStore, type ReplayStore } from '../stores/replay-store.ts';
import { checkedClock } from '../util/clock.ts';
import { decodeJsonObject, splitCompactToken } from './compact.ts';
import { DpopKeyCache, signatureVerifies, type DpopKeyEntry } from './dpop-key-cache.ts';
import { createDpopNonces, NONCE_WINDOW, type DpopNonces } from './dpop-nonce.ts';
import { DPOP_OPTION_NAMES, compileDpopOptions, type CompiledDpopOptions, type DpopAlgorithm, type DpopOptions } from './dpop-options.ts';
import { normalizeTyp } from './header.ts';
import { parseHtu } from './htu.ts';

/** Largest proof accepted, in bytes: a proof with an RSA-4096 key is under 2 KiB. */
export const MAX_DPOP_PROOF_BYTES = 8 * 1024;
/** RFC 9449 §4.2 `jti`: enough for any random identifier, bounded because it becomes a store key. */
const MAX_JTI_LENGTH = 256;
const DPOP_TYP = 'application/dpop+jwt';
/** Members only a private or symmetric JWK has: a proof that carries one gives its key away, or has none. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const MIN_RSA_BITS = 2048;
/**
 * A proof key is the client's own, made for DPoP: nothing needs more. Without a cap, a proof with a
 * 16384-bit modulus and a garbage signature costs the server ten times an ES256 check, and a token
 * endpoint (no `jkt` to compare first) checks any key it is sent.
 */
const MAX_RSA_BITS = 4096;
// RFC 6750 b64token and any JWS: printable ASCII without space. `ath` hashes the token's ASCII bytes, and
// node's 'ascii' encoding keeps only the low byte of each UTF-16 unit: 'š' would hash as 'a'.
const ACCESS_TOKEN_TEXT = /^[\x21-\x7E]+$/;
/** Longest protected header whose key is cached: an RSA-4096 jwk header is about 1 KiB of base64url. */
const MAX_CACHED_HEADER = 2048;

/** A proof whose checks passed, before its `jti` is recorded. */
interface CheckedProof {
  readonly key: DpopKeyEntry;
  readonly jti: string;
  readonly iat: number;
  readonly nonce: string | undefined;
}

/** No bound of the caller's: the check runs at once. */
const unlimited = <T>(check: () => Promise<T>): Promise<T> => check();

/**
 * Options of {@link createDpopProofVerifier}: the {@link DpopOptions}, the store of used `jti`s, the clock.
 *
 * @example
 * ```ts
 * const options: DpopProofVerifierOptions = { origins: ['https://issuer.test'], proofMaxAge: 60 };
 * const verifier = createDpopProofVerifier(options);
 * ```
 */
export interface DpopProofVerifierOptions extends Omit<DpopOptions, 'algorithms'> {
  /** The algorithms proofs may use (checked: asymmetric {@link DpopAlgorithm}s only); default `['ES256', 'EdDSA', 'PS256']`. */
  readonly algorithms?: readonly string[];
  /** Where used proof `jti`s are remembered; default a new {@link createMemoryReplayStore}. */
  readonly replayStore?: ReplayStore;
  /** The clock, in milliseconds since the epoch; default `Date.now`. */
  readonly clock?: () => number;
}

/**
 * One request's proof and what it must match.
 *
 * @example
 * ```ts
 * declare const verifier: DpopProofVerifier;
 * const request: DpopRequest = { proof: 'eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln', path: '/acme.orders.v1.Orders/GetOrder', accessToken: 'eyJ…', jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' };
 * await verifier.verify(request);
 * ```
 */
export interface DpopRequest {
  /** The compact JWS from the `dpop` metadata (or `DPoP` HTTP header). */
  readonly proof: string;
  /** The path the request was sent to: the gRPC method path, or the token endpoint's path. */
  readonly path: string;
  /** The request method; gRPC calls are always `POST`. */
  readonly htm?: 'POST';
  /** The access token the proof accompanies: its hash must be the proof's `ath`. Absent at a token endpoint. */
  readonly accessToken?: string;
  /** The token's `cnf.jkt`: the proof must be signed by that key. */
  readonly jkt?: string;
}

/**
 * What a verified proof says: its key's thumbprint, its `jti`, and the nonce it carried.
 *
 * @example
 * ```ts
 * declare const verifier: DpopProofVerifier;
 * const { jkt }: VerifiedDpopProof = await verifier.verify({ proof: 'eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln', path: '/token' });
 * ```
 */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: what an access token's `cnf.jkt` binds to. */
  readonly jkt: string;
  readonly jti: string;
  /** The server nonce the proof carried, when nonces are on. */
  readonly nonce?: string;
}

/**
 * Verifies DPoP proofs for one server (one set of origins).
 *
 * @example
 * ```ts
 * const verifier: DpopProofVerifier = createDpopProofVerifier({ origins: ['https://orders.example'], nonce: true });
 * verifier.currentNonce(); // the nonce to hand out, e.g. in a `dpop-nonce` header
 * ```
 */
export interface DpopProofVerifier {
  /** Checks one proof (all RFC 9449 §4.3 checks, then the replay store last). Rejects with an AuthError with the DPoP codes. */
  verify(request: DpopRequest): Promise<VerifiedDpopProof>;
  /** The nonce a client should use next (undefined when nonces are off). */
  currentNonce(): string | undefined;
}

const VERIFIER_OPTION_NAMES: ReadonlySet<string> = new Set([
  ...DPOP_OPTION_NAMES,
  ...optionNames<Omit<DpopProofVerifierOptions, keyof DpopOptions>>({ replayStore: true, clock: true }),
]);

function invalid(message: string, cause?: unknown): AuthError {
  return new AuthError('ERR_AUTH_DPOP_PROOF_INVALID', message, cause === undefined ? {} : { cause });
}

/** The key types each algorithm verifies with: a proof's `jwk` must fit its `alg` (no RSA key under `ES256`). */
function keyFits(alg: DpopAlgorithm, jwk: Readonly<Record<string, unknown>>): boolean {
  switch (alg) {
    case 'ES256':
      return jwk.kty === 'EC' && jwk.crv === 'P-256';
    case 'ES384':
      return jwk.kty === 'EC' && jwk.crv === 'P-384';
    case 'ES512':
      return jwk.kty === 'EC' && jwk.crv === 'P-521';
    case 'EdDSA':
    case 'Ed25519':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    default:
      return jwk.kty === 'RSA';
  }
}

/** Why a public key must not verify proofs (too short, forgeable), or undefined. */
function keyWeakness(object: KeyObject): string | undefined {
  if (object.asymmetricKeyType === 'ed25519') return ed25519KeyWeakness(object);
  if (object.asymmetricKeyType === 'rsa' || object.asymmetricKeyType === 'rsa-pss') {
    const bits = object.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) return `RSA key has ${bits} bits, fewer than ${MIN_RSA_BITS}`;
    if (bits > MAX_RSA_BITS) return `RSA key has ${bits} bits, more than ${MAX_RSA_BITS}`;
    return rsaKeyWeakness(object);
  }
  return undefined;
}

/** Checks an untrusted protected header; returns its `alg` and `jwk`. Reads nothing that points elsewhere. */
function checkProofHeader(header: Readonly<Record<string, unknown>>, algorithms: ReadonlySet<DpopAlgorithm>): { alg: DpopAlgorithm; jwk: JWK } {
  const { typ, alg, jwk } = header;
  // Stops a token (typ at+jwt, JWT) or any other JWS signed by the same key from passing as a proof.
  if (typeof typ !== 'string' || normalizeTyp(typ) !== DPOP_TYP) throw invalid(`DPoP proof typ ${describeForLog(typ)} is not dpop+jwt`);
  if (typeof alg !== 'string' || !algorithms.has(alg as DpopAlgorithm)) {
    throw invalid(`DPoP proof alg ${describeForLog(alg)} is not in dpop.algorithms [${[...algorithms].join(', ')}]`);
  }
  // No critical extension is implemented; b64:false would change the signing input.
  if (header.crit !== undefined) throw invalid('DPoP proof header has crit; no critical extension is supported');
  if (header.b64 !== undefined && header.b64 !== true) throw invalid('DPoP proof header has b64 other than true');
  // The key comes from `jwk` only: `jku`, `x5u`, `x5c` and `kid` are never read, so nothing is ever fetched.
  if (!isRecord(jwk)) throw invalid('DPoP proof header has no jwk object');
  for (const member of PRIVATE_MEMBERS) {
    // `k`: a symmetric key, anyone who reads the proof could sign with it; `d` and friends: a private key given away.
    if (Object.hasOwn(jwk, member)) throw invalid(`DPoP proof jwk has the private or symmetric member ${member}`);
  }
  if (!keyFits(alg as DpopAlgorithm, jwk))
    throw invalid(`DPoP proof jwk (kty ${describeForLog(jwk.kty)}, crv ${describeForLog(jwk.crv)}) does not fit alg ${alg}`);
  return { alg: alg as DpopAlgorithm, jwk: jwk as JWK };
}

/** base64url(SHA-256(ASCII token)): the proof's `ath` (RFC 9449 §4.2). */
function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * Builds a DPoP proof verifier (RFC 9449 §4.3). Checks run cheapest first, and only a proof signed by its
 * own key reaches the claims and the replay store, so forged proofs cannot burn `jti`s or fill the store:
 * 1. size cap and strict compact form;
 * 2. header: `typ` dpop+jwt, `alg` allowed, a public `jwk` that fits it, no `crit` (checked once per
 *    distinct header; the imported key and its thumbprint are cached by the header text);
 * 3. the thumbprint against `jkt` (`ERR_AUTH_DPOP_KEY_MISMATCH`), before any signature work;
 * 4. the signature (the key imported by jose once, then node:crypto's synchronous verify: see {@link signatureVerifies});
 * 5. claims: `jti`, `htm`, `htu` (one of `origins` plus `path`), `ath`, `iat`;
 * 6. freshness: `iat` within `proofMaxAge` (`ERR_AUTH_DPOP_PROOF_STALE`), or with nonces the nonce
 *    (`ERR_AUTH_DPOP_NONCE_REQUIRED`, whose `dpopNonce` is the one to use);
 * 7. the replay store: `false` is `ERR_AUTH_DPOP_PROOF_REPLAYED`, a throw `ERR_AUTH_REPLAY_CHECK_UNAVAILABLE`.
 * Bad options throw an {@link AuthConfigError} naming the option.
 *
 * @example
 * ```ts
 * const verifier = createDpopProofVerifier({ origins: ['https://issuer.test'] });
 * declare const proof: string; // the DPoP header of a token request to https://issuer.test/token
 * const { jkt } = await verifier.verify({ proof, path: '/token' });
 * // bind the access token: cnf: { jkt }
 * ```
 */
export function createDpopProofVerifier(options: DpopProofVerifierOptions): DpopProofVerifier {
  checkOptionNames(options as unknown, VERIFIER_OPTION_NAMES);
  const { replayStore, clock, ...dpop } = options;
  const now = checkedClock(clock);
  // The default store reads the verifier's clock: with another clock, keys would expire early or late.
  return new ProofVerifier(compileDpopOptions(dpop, 'dpop'), optionalReplayStore(replayStore, 'replayStore') ?? createMemoryReplayStore({ clock: now }), now);
}

/**
 * The verifier over compiled options (the interceptor compiles `dpop` itself, naming its own options).
 *
 * @example
 * ```ts
 * import { compileDpopOptions } from './dpop-options.ts';
 * import { createMemoryReplayStore } from '../stores/memory-replay-store.ts';
 * const verifier = new ProofVerifier(compileDpopOptions({ origins: ['https://orders.example'] }), createMemoryReplayStore(), Date.now);
 * ```
 */
export class ProofVerifier implements DpopProofVerifier {
  readonly #keys = new DpopKeyCache();
  readonly #nonces: DpopNonces | undefined;

  constructor(
    readonly options: CompiledDpopOptions,
    private readonly store: ReplayStore,
    private readonly clock: () => number,
  ) {
    this.#nonces = options.nonceSecret === undefined ? undefined : createDpopNonces(options.nonceSecret, clock);
  }

  /** Headers whose key is cached (for tests: garbage never takes a place). */
  get cachedKeys(): number {
    return this.#keys.size;
  }

  currentNonce(): string | undefined {
    return this.#nonces?.current();
  }

  /**
   * Checks one proof, then records its `jti`. `limited` runs the proof check (the crypto) under the
   * caller's bound of concurrent verifications; the replay store is awaited outside it, so a store that
   * is slow or never answers holds no place: it cannot starve token verifications of other calls.
   */
  async verify(request: DpopRequest, limited: <T>(check: () => Promise<T>) => Promise<T> = unlimited): Promise<VerifiedDpopProof> {
    const { key, jti, iat, nonce } = await limited(() => this.checkProof(request));
    // A synchronous store (the memory one) answers without another promise on the per-call path.
    const remembering = this.remember(key.jkt, jti, iat, nonce);
    if (remembering !== undefined) await remembering;
    return nonce === undefined ? { jkt: key.jkt, jti } : { jkt: key.jkt, jti, nonce };
  }

  /** RFC 9449 §4.3 checks 1 to 11: everything but the replay check. */
  private async checkProof(request: DpopRequest): Promise<CheckedProof> {
    const { proof, path, htm = 'POST', accessToken, jkt } = request;
    if (typeof proof !== 'string') throw invalid(`DPoP proof is a ${proof === null ? 'null' : typeof proof}, not a string`);
    if (proof.length > MAX_DPOP_PROOF_BYTES) throw invalid(`DPoP proof has ${proof.length} bytes, over ${MAX_DPOP_PROOF_BYTES}`);
    let segments;
    try {
      segments = splitCompactToken(proof, MAX_DPOP_PROOF_BYTES);
    } catch (error) {
      throw invalid(`DPoP proof is not a compact JWS: ${thrownText(error)}`);
    }
    if (segments.signature === '') throw invalid('DPoP proof has no signature');
    let entry = this.#keys.get(segments.header);
    let fresh: { alg: DpopAlgorithm; jwk: JWK; jkt: string } | undefined;
    if (entry === undefined) {
      const { alg, jwk } = checkProofHeader(parseSegment(segments.header, 'header'), this.options.algorithms);
      fresh = { alg, jwk, jkt: await thumbprintOf(jwk) };
    }
    const keyJkt = entry?.jkt ?? (fresh as { jkt: string }).jkt;
    // A stolen token sent with the thief's own key costs no signature check.
    if (jkt !== undefined && keyJkt !== jkt)
      throw new AuthError('ERR_AUTH_DPOP_KEY_MISMATCH', `DPoP proof key ${keyJkt} is not the token's cnf.jkt ${describeForLog(jkt)}`);
    if (entry === undefined && fresh !== undefined) entry = { jkt: fresh.jkt, alg: fresh.alg, key: await importProofKey(fresh.jwk, fresh.alg) };
    const key = entry as DpopKeyEntry;
    // The signing input is the proof's own `header.payload` text (ASCII: splitCompactToken admitted only
    // strict base64url), and the signature segment is strict base64url too, so this decoding is exact.
    const signingInput = Buffer.from(proof.slice(0, segments.header.length + 1 + segments.payload.length), 'latin1');
    let verified: boolean;
    try {
      verified = signatureVerifies(key, signingInput, Buffer.from(segments.signature, 'base64url'));
    } catch (error) {
      throw invalid('DPoP proof signature does not verify with its jwk', error);
    }
    if (!verified) throw invalid('DPoP proof signature does not verify with its jwk');
    // Only now: a header whose proof never verified never takes a place. A key holder could still pad
    // headers to fill the cache with large entries: only headers of a real key's size are kept.
    if (fresh !== undefined && segments.header.length <= MAX_CACHED_HEADER) this.#keys.set(segments.header, key);
    const claims = parsePayload(Buffer.from(segments.payload, 'base64url'));
    const jti = this.checkClaims(claims, path, htm, accessToken);
    const nonce = this.checkFreshness(claims);
    return { key, jti, iat: claims.iat as number, nonce };
  }

  /** RFC 9449 §4.3 checks 5 to 11, on a proof whose signature verified. Returns its `jti`. */
  private checkClaims(claims: Readonly<Record<string, unknown>>, path: string, htm: string, accessToken: string | undefined): string {
    const { jti, htu, ath, iat } = claims;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH)
      throw invalid(`DPoP proof jti is ${describeForLog(jti, 20)}, not a string of 1 to ${MAX_JTI_LENGTH} characters`);
    // Methods are case-sensitive (RFC 9110 §9.1): `post` is not POST.
    if (claims.htm !== htm) throw invalid(`DPoP proof htm ${describeForLog(claims.htm)} is not ${htm}`);
    if (!this.targets(htu, path)) {
      throw invalid(`DPoP proof htu ${describeForLog(htu)} is not ${path} at one of dpop.origins [${[...this.options.origins].join(', ')}]`);
    }
    if (accessToken !== undefined) {
      // Two tokens must never share an ath: only printable ASCII has one unambiguous ASCII encoding.
      if (typeof accessToken !== 'string' || !ACCESS_TOKEN_TEXT.test(accessToken)) throw invalid('the access token is not printable ASCII: no ath can bind it');
      if (ath !== accessTokenHash(accessToken)) throw invalid(`DPoP proof ath ${describeForLog(ath, 50)} is not the hash of the access token`);
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid(`DPoP proof iat is ${describeForLog(iat, 30)}, not a number`);
    return jti;
  }

  /** Whether `htu` names `path` at a configured origin. */
  private targets(htu: unknown, path: string): boolean {
    if (typeof htu !== 'string') return false;
    // The usual case costs no URL parsing: the htu is exactly a configured origin (as normalized) plus the path.
    if (htu.endsWith(path) && this.options.origins.has(htu.slice(0, htu.length - path.length))) return true;
    const target = parseHtu(htu);
    return target !== undefined && this.options.origins.has(target.origin) && target.path === path;
  }

  /** `iat` within the window, or with nonces a current nonce. Returns the nonce the proof carried. */
  private checkFreshness(claims: Readonly<Record<string, unknown>>): string | undefined {
    const now = this.clock() / 1000;
    const iat = claims.iat as number;
    const { proofMaxAge, clockTolerance } = this.options;
    const nonces = this.#nonces;
    if (nonces === undefined) {
      if (iat < now - proofMaxAge - clockTolerance || iat > now + clockTolerance) {
        throw new AuthError(
          'ERR_AUTH_DPOP_PROOF_STALE',
          `DPoP proof iat ${iat} is outside [now - ${proofMaxAge + clockTolerance} s, now + ${clockTolerance} s]`,
        );
      }
      return undefined;
    }
    const { nonce } = claims;
    // A nonce that is no string is a broken client, not one that needs the nonce: no challenge to retry.
    if (nonce !== undefined && typeof nonce !== 'string') throw invalid(`DPoP proof nonce is a ${nonce === null ? 'null' : typeof nonce}, not a string`);
    if (nonce === undefined || !nonces.check(nonce)) {
      throw new AuthError('ERR_AUTH_DPOP_NONCE_REQUIRED', nonce === undefined ? 'DPoP proof has no nonce' : 'DPoP proof nonce is not a current server nonce', {
        dpopNonce: nonces.current(),
      });
    }
    // The nonce proves freshness and absorbs the client's clock skew; iat only has to be near it.
    if (Math.abs(now - iat) > NONCE_WINDOW + clockTolerance) {
      throw new AuthError('ERR_AUTH_DPOP_PROOF_STALE', `DPoP proof iat ${iat} is more than ${NONCE_WINDOW + clockTolerance} s from now`);
    }
    return nonce;
  }

  /**
   * The one-time use: keyed by the key and the `jti`, so one client cannot burn another's `jti`s; kept
   * as long as the proof could still be accepted (its `iat` window, or the nonce window).
   */
  private remember(jkt: string, jti: string, iat: number, nonce: string | undefined): Promise<void> | undefined {
    const { proofMaxAge, clockTolerance } = this.options;
    // The last millisecond the proof is fresh is floor((iat + window) * 1000); a store forgets a key AT its
    // expiresAt (and Date drops sub-milliseconds), so the key must outlive that instant by one millisecond.
    const lastFresh = nonce === undefined ? (iat + proofMaxAge + clockTolerance) * 1000 : this.clock() + (NONCE_WINDOW + clockTolerance) * 1000;
    const expiresAt = new Date(Math.floor(lastFresh) + 1);
    let answer: unknown;
    let pending: Promise<unknown> | undefined;
    try {
      answer = this.store.add(`dpop:${jkt}:${jti}`, expiresAt);
      // Inside the try: reading `then` (a getter) is the store's code too.
      if (isThenable(answer)) pending = Promise.resolve(answer);
    } catch (error) {
      throw unavailable(error);
    }
    if (pending === undefined) return judgeReplay(answer, jkt, jti);
    return pending.then(
      (settled) => judgeReplay(settled, jkt, jti),
      (error: unknown) => {
        throw unavailable(error);
      },
    );
  }
}

function parseSegment(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  try {
    return decodeJsonObject(segment, part);
  } catch (error) {
    throw invalid(`DPoP proof ${part} is not a JSON object`, error);
  }
}

/** A store that throws or rejects: fail closed, the proof cannot be checked for reuse. */
function unavailable(error: unknown): AuthError {
  return new AuthError('ERR_AUTH_REPLAY_CHECK_UNAVAILABLE', `replay store failed: ${thrownText(error)}`, { cause: error });
}

/** Only `true` (first use) admits; `false` is a replay, anything else a broken store. */
function judgeReplay(answer: unknown, jkt: string, jti: string): undefined {
  if (answer === true) return undefined;
  if (answer === false) throw new AuthError('ERR_AUTH_DPOP_PROOF_REPLAYED', `DPoP proof jti ${describeForLog(jti, 60)} of key ${jkt} was already used`);
  throw new AuthError('ERR_AUTH_REPLAY_CHECK_UNAVAILABLE', `replay store answered ${describeForLog(answer)}, not true or false`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The verified payload (decoded from strict base64url) as a JSON object. */
function parsePayload(payload: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch (error) {
    throw invalid('DPoP proof payload is not UTF-8 JSON', error);
  }
  if (!isRecord(value)) throw invalid('DPoP proof payload is not a JSON object');
  return value;
}

async function thumbprintOf(jwk: JWK): Promise<string> {
  try {
    return await calculateJwkThumbprint(jwk, 'sha256');
  } catch (error) {
    throw invalid('DPoP proof jwk lacks the members of its key type', error);
  }
}

/** The members of a public key: `ext`, `key_ops`, `use` or `alg` in a header cannot change how it is imported. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/**
 * The header's public key, imported by jose for `alg` (which checks the members against the key type and
 * curve), as the node:crypto KeyObject the signature check uses.
 */
async function importProofKey(jwk: JWK, alg: DpopAlgorithm): Promise<KeyObject> {
  let key: KeyObject;
  try {
    const publicJwk: JWK = Object.fromEntries(PUBLIC_MEMBERS.filter((member) => jwk[member] !== undefined).map((member) => [member, jwk[member]]));
    key = KeyObject.from((await importJWK(publicJwk, alg)) as webcrypto.CryptoKey);
  } catch (error) {
    throw invalid('DPoP proof jwk is not a usable public key', error);
  }
  // Only public keys: a KeyObject of another type would not be what the header described.
  if (key.type !== 'public') throw invalid('DPoP proof jwk is not a public key');
  const weakness = keyWeakness(key);
  if (weakness !== undefined) throw invalid(`DPoP proof jwk is refused: ${weakness}`);
  return key;
}
