import { hash } from 'node:crypto';
import { deepFreeze, type AuthContext, type JwtClaims, type JwtHeader } from './auth-context.ts';
import { collectClaimValues } from '../util/claim-paths.ts';
import type { VerificationKey } from '../keys/resolver.ts';
import { audienceList, checkIdentityClaims, checkTimeClaims, type TimeWindow } from './claims.ts';
import type { ParsedToken } from './compact.ts';
import type { CompiledVerifyOptions } from './options.ts';
import { verifySignature } from './signature.ts';
import { tokenFacts, type TokenFacts } from './token-facts.ts';
import { readConfirmation, type Confirmation } from './confirmation.ts';

/** A token that passed every check, with what the cache needs to keep it honest. */
interface VerifiedToken {
  readonly context: AuthContext;
  /** The key that verified it: when it leaves the key set, cached copies die. */
  readonly key: VerificationKey;
  /** When its time claims hold, in seconds. */
  readonly window: TimeWindow;
  /** What events may tell about it. */
  readonly facts: TokenFacts;
}

/**
 * Refusals of tokens whose signature verified (their claims did not pass) → what the genuine token says.
 * Keyed by the error object, so the refusal travels unchanged (a real AuthError, its stack included)
 * through everyone between here and the interceptor, and only those who ask learn the facts.
 */
const genuineRefusals = new WeakMap<object, TokenFacts>();

/**
 * What a refused token says, when the refusal came after its signature verified; undefined for every
 * other failure (parse, unknown key, forged signature), whose claims must never be told as fact.
 *
 * @example
 * ```ts
 * import { AuthError } from '../errors/auth-error.ts';
 * factsOfRefusal(new AuthError('ERR_AUTH_SIGNATURE_INVALID')); // undefined: only the verifier marks refusals
 * ```
 */
export function factsOfRefusal(error: unknown): TokenFacts | undefined {
  return typeof error === 'object' && error !== null ? genuineRefusals.get(error) : undefined;
}

/**
 * The token's identity: base64url SHA-256 of its signing input (`header.payload`), the same for every
 * spelling of one signed token. ECDSA signatures are malleable ((r, s) and (r, n − s) both verify), so
 * the token text is not an identity; the signing input is, because the strict base64url check gives
 * each header and payload exactly one spelling. Computed once per fresh verification: a cache hit reuses
 * the context. Exported for the CLI's `revoke --token`, which must name a token exactly as servers do.
 *
 * @example
 * ```ts
 * tokenIdOf('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln'); // base64url SHA-256 of the first two segments
 * ```
 */
export function tokenIdOf(token: string): string {
  // One call, no Hash object: this runs once per fresh verification.
  return hash('sha256', token.slice(0, token.lastIndexOf('.')), 'base64url');
}

/**
 * The context handlers see, frozen: nothing in it can be changed, its Dates included. A class, so the
 * two Date getters live once on its (frozen) prototype instead of as two closures per verified token.
 * What a copy of it holds: `{ ...context }` and `Object.keys(context)` see the data fields only (the
 * getters are inherited); `JSON.stringify(context)` gives every field, `expiresAt` and `issuedAt`
 * included, in the order of {@link AuthContext}.
 */
class VerifiedContext implements AuthContext {
  readonly subject: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: readonly string[];
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly claims: JwtClaims;
  readonly header: JwtHeader;
  readonly token: string;
  readonly tokenId: string;
  readonly confirmation: Confirmation | undefined;

  constructor(parsed: ParsedToken, options: CompiledVerifyOptions, tokenId: string, confirmation: Confirmation | undefined) {
    const claims = deepFreeze(parsed.claims) as JwtClaims;
    this.subject = claims.sub;
    this.issuer = claims.iss;
    this.audience = Object.freeze(audienceList(claims));
    this.scopes = collectClaimValues(claims, options.scopeClaims);
    this.roles = collectClaimValues(claims, options.roleClaims);
    this.claims = claims;
    this.header = deepFreeze(parsed.header) as JwtHeader;
    this.token = parsed.token;
    this.tokenId = tokenId;
    this.confirmation = confirmation;
    Object.freeze(this);
  }

  // A fresh Date on every read: Object.freeze does not freeze a Date, and this context is shared by every
  // call the verified-token cache answers, so one handler's setTime would otherwise move another's. The
  // claims are deeply frozen and `exp`/`iat` were checked to be NumericDates, so the getters cannot fail.
  get expiresAt(): Date | undefined {
    const { exp } = this.claims;
    return exp === undefined ? undefined : new Date(exp * 1000);
  }

  get issuedAt(): Date | undefined {
    const { iat } = this.claims;
    return iat === undefined ? undefined : new Date(iat * 1000);
  }

  /** What a context serialises to: every field of {@link AuthContext}, the getters' Dates included. */
  toJSON(): Record<string, unknown> {
    const { subject, issuer, audience, scopes, roles, expiresAt, issuedAt, claims, header, token, tokenId, confirmation } = this;
    return { subject, issuer, audience, scopes, roles, expiresAt, issuedAt, claims, header, token, tokenId, confirmation };
  }
}
// Frozen too: a handler that redefined `expiresAt` on the prototype would change every caller's context.
Object.freeze(VerifiedContext.prototype);

/**
 * Verifies parsed tokens of one issuer: header policy, key lookup, signature (jose), then claims. Claims
 * are checked only after the signature, so every claim error is about an authentic token.
 */
export class TokenVerifier {
  constructor(readonly options: CompiledVerifyOptions) {}

  /**
   * `now` is read after the signature check, which may have waited on a key fetch: a token that expired
   * meanwhile is refused. Not async (one promise reaction after jose's, no suspended frame): a refusal
   * found before the signature check (header policy, a resolver that throws) may throw synchronously, and
   * the caller turns it into a rejection.
   */
  verify(parsed: ParsedToken, now: () => number): Promise<VerifiedToken> {
    return verifySignature(parsed.token, parsed.header, this.options.header, this.options.keys, (key) => this.#accept(parsed, key, now));
  }

  /** The claim checks of a token whose signature verified, and what the cache keeps of it. */
  #accept(parsed: ParsedToken, key: VerificationKey, now: () => number): VerifiedToken {
    // Only now is the token genuine: a refusal from here on may say whose it was (never before: a forged
    // token's `sub` must not reach a log as if the issuer had said it).
    const facts = tokenFacts(parsed.claims, parsed.header.alg as string, key.kid, tokenIdOf(parsed.token));
    let window: TimeWindow;
    let confirmation: Confirmation | undefined;
    try {
      window = checkTimeClaims(parsed.claims, this.options.claims, now());
      checkIdentityClaims(parsed.claims, this.options.claims);
      // Read once here, cached with the token; what it lists is proven on every call (verify/sender-binding.ts).
      confirmation = readConfirmation(parsed.claims, this.options.certificateBinding);
    } catch (error) {
      // The claim checks throw a new error each time: one token's facts never attach to another's refusal.
      if (typeof error === 'object' && error !== null) genuineRefusals.set(error, facts);
      throw error;
    }
    return { context: new VerifiedContext(parsed, this.options, facts.tokenId, confirmation), key, window, facts };
  }
}
