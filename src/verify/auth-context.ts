import type { Confirmation } from './confirmation.ts';

/**
 * The registered JWT claims (RFC 7519 §4.1) plus whatever else the token carries; verification has
 * already refused registered claims of the wrong type. Your own claims interface need not extend it:
 * `getAuth<C>()`, guards and `validate` give you `C & JwtClaims`.
 *
 * @example
 * ```ts
 * import { getAuth, type JwtClaims } from 'grpc-jwt-auth';
 * interface OrdersClaims {
 *   readonly tenant: string;
 * }
 * const { claims } = getAuth<OrdersClaims>(call);
 * console.log(claims.sub, claims.tenant, claims.jti);
 * const registered: JwtClaims = claims;
 * ```
 */
export interface JwtClaims {
  /** Issuer: who issued the token, usually the identity provider's URL. */
  readonly iss?: string;
  /** Subject: the user or client the token is about. */
  readonly sub?: string;
  /** Audience: the service(s) the token is meant for, one string or several. */
  readonly aud?: string | readonly string[];
  /** Expiration time, in seconds since the epoch: the token is refused from then on (give or take `clockTolerance`). */
  readonly exp?: number;
  /** Not before, in seconds since the epoch: the token is refused until then (give or take `clockTolerance`). */
  readonly nbf?: number;
  /** Issued at, in seconds since the epoch: the token is refused while it lies in the future (give or take `clockTolerance`); `maxTokenAge` counts from it. */
  readonly iat?: number;
  /** JWT ID: a unique identifier of the token per issuer, when the provider sets one; {@link AuthContext.tokenId} always exists. */
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

/**
 * The protected header of a verified token.
 *
 * @example
 * ```ts
 * import { getAuth, type JwtHeader } from 'grpc-jwt-auth';
 * const header: JwtHeader = getAuth(call).header;
 * console.log(`verified ${header.alg} token signed with key ${header.kid ?? '(no kid)'}`);
 * ```
 */
export interface JwtHeader {
  /** The signing algorithm; always one of the configured `algorithms`. */
  readonly alg: string;
  /** The id of the key that signed the token, when the token names one. */
  readonly kid?: string;
  /** The token's media type as it spells it, e.g. `JWT` or `at+jwt`, when present. */
  readonly typ?: string;
  readonly [parameter: string]: unknown;
}

/**
 * What a handler knows about the caller once the token is verified. Frozen (claims deeply): one
 * context may serve many calls through the verified-token cache, so no handler can change what another
 * sees. `expiresAt` and `issuedAt` are getters (a new Date on every read): `JSON.stringify(context)`
 * includes them; a spread copy (`{ ...context }`), `Object.keys`/`Object.entries`, `structuredClone`
 * (`postMessage` to a worker) and `util.inspect` do not — read them by name. The context is an instance
 * of a class, so `assert.deepStrictEqual(context, { ... })` with a plain object fails: compare fields.
 *
 * `C` types your own claims (an interface needs no index signature); they come together with the
 * registered claims of {@link JwtClaims}. The default, `object`, adds none, so an `AuthContext<MyClaims>`
 * can be passed wherever a plain `AuthContext` is expected.
 *
 * @example
 * ```ts
 * import { getAuth, type AuthContext } from 'grpc-jwt-auth';
 * interface MyClaims { readonly tenant: string }
 * const auth: AuthContext<MyClaims> = getAuth<MyClaims>(call);
 * auth.claims.tenant; // string: yours
 * auth.claims.sub; // string | undefined: the registered claims are still there
 * console.log(auth.subject, auth.scopes, auth.claims.tenant, auth.tokenId);
 * ```
 */
export interface AuthContext<C extends object = object> {
  /** `sub`, when present. */
  readonly subject: string | undefined;
  /** `iss`, when present. */
  readonly issuer: string | undefined;
  /** `aud` as a list (empty when absent). */
  readonly audience: readonly string[];
  /** Scopes from the configured scope claims (`scope`, `scp`, `permissions` by default). */
  readonly scopes: readonly string[];
  /** Roles from the configured role claims (`roles`, `realm_access.roles`, `cognito:groups` by default). */
  readonly roles: readonly string[];
  /** `exp` as a Date, when present: a new Date on every read, so changing it changes nothing else. */
  readonly expiresAt: Date | undefined;
  /** `iat` as a Date, when present: a new Date on every read, so changing it changes nothing else. */
  readonly issuedAt: Date | undefined;
  /**
   * Every claim of the verified token: your claims type `C` (an interface needs no index signature)
   * together with the registered claims of {@link JwtClaims}.
   */
  readonly claims: C & JwtClaims;
  /** The verified protected header. */
  readonly header: JwtHeader;
  /** The bearer token itself, for forwarding to downstream services. Never log it. */
  readonly token: string;
  /**
   * The token's identity, for denylists, replay stores and logs: base64url SHA-256 of the signed part
   * (`header.payload`), 43 characters. Key on this, never on {@link AuthContext.token}: ECDSA signatures
   * are malleable, so anyone holding an ES256/384/512 token can respell its signature into a second,
   * different string that verifies with the same claims; both spellings have the same `tokenId`. (`jti`,
   * when your provider sets one, is the same for both spellings too, but it is optional and unique only
   * per issuer.) Safe to log: it reveals nothing of the token.
   */
  readonly tokenId: string;
  /**
   * What the token is bound to (its `cnf` claim), each member proven on this call before it was admitted:
   * `x5tS256`, the thumbprint of the client certificate (RFC 8705; omitted when the issuer's
   * `certificateBinding` is `'off'`), and `jkt`, the thumbprint of the DPoP key whose proof this call
   * carried (RFC 9449). Undefined for a bearer token. Safe to log.
   */
  readonly confirmation: Confirmation | undefined;
}

/** Freezes a decoded JSON value all the way down. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
