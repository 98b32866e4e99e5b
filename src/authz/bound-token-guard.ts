/**
 * A per-method requirement for sender-constrained tokens: a method that must not be reachable with a
 * bearer token (one copied from a log, a proxy or a heap dump works from anywhere) refuses tokens that
 * are not bound to a DPoP key (RFC 9449) or a client certificate (RFC 8705), even when the issuer's
 * `dpopBinding` / `certificateBinding` still admit bearer tokens elsewhere.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import type { Confirmation } from '../verify/confirmation.ts';
import type { Guard, GuardDenial } from './guards.ts';

/**
 * What {@link requireBoundToken} accepts: a token bound to a DPoP key (`cnf.jkt`), to a client
 * certificate (`cnf["x5t#S256"]`), or to either (`'any'`).
 *
 * @example
 * ```ts
 * import { requireBoundToken, type BoundTokenKind } from 'grpc-jwt-auth';
 * const kind: BoundTokenKind = 'dpop';
 * const rules = { '/acme.bank.v1.Payments/Transfer': requireBoundToken(kind) };
 * ```
 */
export type BoundTokenKind = 'dpop' | 'certificate' | 'any';

/** The kinds of {@link BoundTokenKind}, for the argument checks (the guard's and the `.proto` rule's `bound_token`). */
export const BOUND_TOKEN_KINDS: readonly BoundTokenKind[] = Object.freeze(['dpop', 'certificate', 'any']);

/**
 * True for one of {@link BOUND_TOKEN_KINDS}.
 *
 * @example
 * ```ts
 * isBoundTokenKind('dpop'); // true
 * isBoundTokenKind('DPoP'); // false
 * ```
 */
export function isBoundTokenKind(value: unknown): value is BoundTokenKind {
  return typeof value === 'string' && (BOUND_TOKEN_KINDS as readonly string[]).includes(value);
}

/**
 * The binding kind a denial refuses with: its own `binding` member when it is a {@link BoundTokenKind},
 * else undefined. Own members only, so a polluted `Object.prototype.binding` cannot turn every refusal
 * into UNAUTHENTICATED `TOKEN_NOT_BOUND`; anything else a custom guard put there (`'DPOP'`, an object)
 * leaves a plain PERMISSION_DENIED.
 *
 * @example
 * ```ts
 * bindingOfDenial({ allowed: false, message: 'bearer token', binding: 'dpop' }); // 'dpop'
 * bindingOfDenial({ allowed: false, message: 'typo', binding: 'DPOP' }); // undefined
 * ```
 */
export function bindingOfDenial(denial: object): BoundTokenKind | undefined {
  if (!Object.hasOwn(denial, 'binding')) return undefined;
  const binding: unknown = (denial as { binding?: unknown }).binding;
  return isBoundTokenKind(binding) ? binding : undefined;
}

/**
 * Checks a binding kind at construction; throws an `AuthConfigError` naming `option`.
 *
 * @example
 * ```ts
 * checkBoundTokenKind('certificate', 'requireBoundToken(kind)'); // 'certificate'
 * checkBoundTokenKind('mtls', 'requireBoundToken(kind)'); // throws AuthConfigError('requireBoundToken(kind)', ...)
 * ```
 */
export function checkBoundTokenKind(value: unknown, option: string): BoundTokenKind {
  if (!isBoundTokenKind(value)) {
    throw new AuthConfigError(option, `expected one of ${BOUND_TOKEN_KINDS.map((kind) => `'${kind}'`).join(', ')}, got ${describeForLog(value)}`);
  }
  return value;
}

// Only an own, non-empty string counts: a hand-built context (a test double, a custom authenticator)
// with `jkt: ''` or a non-string must not pass for a proven binding, nor a member inherited from a
// prototype (a polluted `Object.prototype.jkt` would make every certificate-bound call pass `'dpop'`).
const present = (confirmation: Confirmation | undefined, member: keyof Confirmation): boolean => {
  if (typeof confirmation !== 'object' || confirmation === null || !Object.hasOwn(confirmation, member)) return false;
  const value: unknown = confirmation[member];
  return typeof value === 'string' && value.length > 0;
};

/** Whether the proven confirmation satisfies `kind`. */
function bound(confirmation: Confirmation | undefined, kind: BoundTokenKind): boolean {
  const dpop = present(confirmation, 'jkt');
  const certificate = present(confirmation, 'x5tS256');
  if (kind === 'dpop') return dpop;
  if (kind === 'certificate') return certificate;
  return dpop || certificate;
}

const MESSAGES: Readonly<Record<BoundTokenKind, string>> = {
  dpop: 'token is not DPoP-bound (no proven cnf.jkt)',
  certificate: 'token is not certificate-bound (no proven cnf x5t#S256)',
  any: 'token is not sender-constrained (no proven cnf.jkt or cnf x5t#S256)',
};

/**
 * Requires a sender-constrained token on a method: allows when the caller's token is bound to a DPoP
 * key (`kind` `'dpop'`), a client certificate (`'certificate'`) or either (`'any'`, the default), and
 * the binding was proven on this call. A bearer token refuses with UNAUTHENTICATED
 * `ERR_AUTH_TOKEN_NOT_BOUND` (`invalid_token`): the caller must get a bound token, not more rights.
 *
 * It reads `AuthContext.confirmation`, which lists only what the interceptor proved before the guard
 * ran (the DPoP proof's key, the verified client certificate), so the guard itself costs nothing. An
 * issuer whose `certificateBinding` is `'off'` never lists a certificate: its tokens do not pass
 * `'certificate'`. Put it first in `allOf`, so a bearer token is refused as such before its scopes are
 * judged (the `.proto` rule's `bound_token` is judged first too). An unknown `kind` throws an
 * `AuthConfigError` at construction.
 *
 * @example
 * ```ts
 * import { allOf, createAuthInterceptor, requireBoundToken, requireScopes } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['ES256'],
 *   rules: {
 *     '/acme.bank.v1.Payments/Transfer': allOf(requireBoundToken('dpop'), requireScopes('payments:write')),
 *     '/acme.bank.v1.Admin/*': requireBoundToken('certificate'),
 *     '/acme.bank.v1.Accounts/*': requireBoundToken(),
 *   },
 * });
 * ```
 */
export function requireBoundToken<C extends object = object>(kind: BoundTokenKind = 'any'): Guard<C> {
  const required = checkBoundTokenKind(kind, 'requireBoundToken(kind)');
  const denial: GuardDenial = Object.freeze({ allowed: false, message: MESSAGES[required], binding: required });
  return (auth) => bound(auth.confirmation, required) || denial;
}
