/** The registered JWT claims (RFC 7519 §4.1) plus whatever else the token carries. */
export interface JwtClaims {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly exp?: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly jti?: string;
  readonly [claim: string]: unknown;
}

/** The protected header of a verified token. */
export interface JwtHeader {
  readonly alg: string;
  readonly kid?: string;
  readonly typ?: string;
  readonly [parameter: string]: unknown;
}

/**
 * What a handler knows about the caller once the token is verified. Frozen (claims deeply): one
 * context may serve many calls through the verified-token cache, so no handler can change what another
 * sees.
 *
 * @example
 * ```ts
 * import { getAuth, type AuthContext } from 'grpc-jwt-auth';
 * interface MyClaims extends JwtClaims { tenant: string }
 * const auth: AuthContext<MyClaims> = getAuth<MyClaims>(call);
 * console.log(auth.subject, auth.scopes, auth.claims.tenant);
 * ```
 */
export interface AuthContext<C extends JwtClaims = JwtClaims> {
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
  /** `exp` as a Date, when present. */
  readonly expiresAt: Date | undefined;
  /** `iat` as a Date, when present. */
  readonly issuedAt: Date | undefined;
  /** Every claim of the verified token. */
  readonly claims: C;
  /** The verified protected header. */
  readonly header: JwtHeader;
  /** The bearer token itself, for forwarding to downstream services. Never log it. */
  readonly token: string;
}

/** Freezes a decoded JSON value all the way down. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
