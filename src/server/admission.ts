import type { Metadata } from '@grpc/grpc-js';
import { AuthError } from '../errors/auth-error.ts';
import { judgeGuard, refusalOf, type GuardVerdict } from '../authz/guard-verdict.ts';
import type { Guard, GuardInfo } from '../authz/guards.ts';
import type { Rule } from '../authz/rules.ts';
import type { Admission, SyncAuthenticator } from '../verify/authenticator.ts';
import { DEFAULT_TOKEN_READER, type TokenReader } from './token-reader.ts';
import { checkSenderBinding, type SenderProof } from '../verify/sender-binding.ts';
import type { DpopCallState, DpopCheck } from './dpop-call.ts';

type MaybePromise<T> = T | Promise<T>;

/**
 * What the interceptor decided once for a method path: its rule, the facts a guard is given, and where
 * the token is read (`tokenFrom`; `authorization: Bearer` when not given).
 *
 * @example
 * ```ts
 * import type { MethodPolicy } from './admission.ts';
 * const policy: MethodPolicy = { rule: 'authenticated', info: { method: '/acme.orders.v1.Orders/GetOrder' } };
 * ```
 */
export interface MethodPolicy {
  readonly rule: Rule;
  readonly info: GuardInfo;
  readonly token?: TokenReader;
}

/** The verified caller when the guard allowed; its refusal, thrown, otherwise. */
function admittedUnless(verdict: GuardVerdict, admitted: Admission): Admission {
  const refusal = refusalOf(verdict);
  if (refusal) throw refusal;
  return admitted;
}

// `any`: a rule's guard may be written for any claims type (see Rule).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function authorize(guard: Guard<any>, admitted: Admission, info: GuardInfo): MaybePromise<Admission> {
  const verdict = judgeGuard(guard, admitted.context, info);
  return verdict instanceof Promise ? verdict.then((settled) => admittedUnless(settled, admitted)) : admittedUnless(verdict, admitted);
}

/** No connection to read a certificate from (a unit test of admission): bound tokens are refused. */
const NO_CERTIFICATE = (): undefined => undefined;

/**
 * DPoP for one call: the interceptor's checker, and where the call's scheme and response nonce go.
 *
 * @example
 * ```ts
 * import type { CallDpop } from './admission.ts';
 * declare const check: import('./dpop-call.ts').DpopCheck;
 * const dpop: CallDpop = { check, state: { scheme: undefined, responseNonce: undefined } };
 * ```
 */
export interface CallDpop {
  readonly check: DpopCheck;
  readonly state: DpopCallState;
}

/**
 * Decides whether a call may reach its handler: the verified caller, undefined for a call admitted
 * without one (`'public'`, or `'optional'` without a token), or the refusal, thrown (or rejected with).
 *
 * Authentication, then the sender binding (a certificate-bound token needs the call's client certificate,
 * read through `certificate` only then; a DPoP-bound token the DPoP scheme and a proof by its key,
 * verified through `dpop`; both on a cache hit too), then authorization: a bad or unproven token on a
 * guarded method is UNAUTHENTICATED. A `'deny'` rule refuses without reading the token, a `'public'` one
 * admits without reading it. Answers synchronously when it can (a cached token that is not DPoP-bound
 * and a synchronous guard), so a repeated bearer token costs no promise.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * import { buildAuthenticator } from '../verify/authenticator.ts';
 * import { fromSecret } from '../keys/secret.ts';
 * const authenticator = buildAuthenticator({ keys: fromSecret('x'.repeat(32)), algorithms: ['HS256'] });
 * admit({ rule: 'authenticated', info: { method: '/acme.orders.v1.Orders/GetOrder' } }, authenticator, new Metadata()); // throws ERR_AUTH_TOKEN_MISSING
 * ```
 */
export function admit(
  { rule, info, token: reader = DEFAULT_TOKEN_READER }: MethodPolicy,
  authenticator: SyncAuthenticator,
  metadata: Metadata,
  certificate: () => string | undefined = NO_CERTIFICATE,
  dpop?: CallDpop,
): MaybePromise<Admission | undefined> {
  if (rule === 'public') return undefined;
  if (rule === 'deny') throw new AuthError('ERR_AUTH_ACCESS_DENIED', `${info.method} is denied by rule`);
  const presented = reader.read(metadata, info.method);
  if (presented === undefined) {
    if (rule === 'optional') return undefined;
    throw reader.missing();
  }
  const { token, scheme } = presented;
  if (dpop) dpop.state.scheme = scheme;
  const proof: SenderProof = {
    certificate,
    scheme,
    dpop: dpop && ((jkt: string) => dpop.check.verify(metadata, info.method, token, jkt, dpop.state)),
  };
  const answer = authenticator.authenticate(token, info.method);
  const authentication = answer instanceof Promise ? answer.then((admitted) => checkSenderBinding(admitted, proof)) : checkSenderBinding(answer, proof);
  if (typeof rule !== 'function') return authentication;
  return authentication instanceof Promise ? authentication.then((admitted) => authorize(rule, admitted, info)) : authorize(rule, authentication, info);
}
