/**
 * What an operator may learn about a token whose signature verified: who it names, which key and
 * algorithm verified it, and its identity. Never the token, only claims of a genuine token, as the
 * issuer signed them (not escaped nor shortened: escape them for a terminal if users choose them).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type TokenFacts } from 'grpc-jwt-auth';
 * const line = (facts: TokenFacts): string => `${facts.subject ?? '?'} via ${facts.clientId ?? '?'} (kid ${facts.kid ?? '-'}, ${facts.alg}, id ${facts.tokenId})`;
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   onAuthenticated: (event) => console.info(line(event)),
 *   onRejected: (event) => console.warn(`${event.error.code}${event.verified ? ` for ${line(event.verified)}` : ''}`),
 * });
 * ```
 */
export interface TokenFacts {
  /** `sub`, when it is a string. */
  readonly subject: string | undefined;
  /** `iss`, when it is a string. */
  readonly issuer: string | undefined;
  /** The client the token was issued to: `azp`, else `client_id` (RFC 9068), when a string. */
  readonly clientId: string | undefined;
  /** `jti`, when it is a string. */
  readonly jti: string | undefined;
  /** The token's identity (as `AuthContext.tokenId`): the same for every spelling of one token. */
  readonly tokenId: string;
  /** The `kid` the verifying key was published under; undefined for a key without one. */
  readonly kid: string | undefined;
  /** The algorithm that verified the signature: one of the configured `algorithms`. */
  readonly alg: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The facts of a token whose signature verified, frozen. Only ever called after the signature check:
 * a forged token's claims must never reach a log as if they were true.
 *
 * @example
 * ```ts
 * const facts = tokenFacts({ sub: 'alice', azp: 'web-app' }, 'ES256', '2026-01', 'tRw7...');
 * facts.clientId; // 'web-app'
 * ```
 */
export function tokenFacts(claims: Readonly<Record<string, unknown>>, alg: string, kid: string | undefined, tokenId: string): TokenFacts {
  return Object.freeze({
    subject: text(claims.sub),
    issuer: text(claims.iss),
    clientId: text(claims.azp) ?? text(claims.client_id),
    jti: text(claims.jti),
    tokenId,
    kid,
    alg,
  });
}
