/**
 * Typed claims through every server API a user writes a guard or reads claims with: guards, claim
 * predicates, `allOf`/`anyOf` mixing guard types, `withGuard`, `guardService`, rules, `validate`,
 * `getAuth`/`findAuth`. A claims interface without an index signature must compile everywhere without
 * the user writing `any`; the lines marked @ts-expect-error are checked by `npm run typecheck` (which
 * covers test/): each must stay an error. The names removed in 0.x are compile errors too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as api from '../../src/index.ts';
import {
  allOf,
  anyOf,
  createAuthInterceptor,
  findAuth,
  fromIssuer,
  fromJwks,
  fromSecret,
  getAuth,
  guardService,
  requireClaim,
  requireRoles,
  requireScopes,
  withGuard,
  type AuthContext,
  type AuthError,
  type CallWithMetadata,
  type ClaimPredicate,
  type Guard,
  type Rule,
  type RuleMap,
  type ValidateHook,
} from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';

/** What users write: interfaces without an index signature. */
interface OrdersClaims {
  readonly tenant: string;
  readonly plan: 'free' | 'pro';
}
interface BillingClaims {
  readonly account: string;
}

const anyCaller: Guard = (auth) => auth.subject !== undefined;
const acme: Guard<OrdersClaims> = (auth) => auth.claims.tenant === 'acme';
const billed: Guard<BillingClaims> = (auth) => auth.claims.account !== '';

/** Compiled, never called: the type-level half of this file. */
export function guardTypesCompile(call: CallWithMetadata, handler: grpc.handleUnaryCall<{ id: string }, { id: string }>): void {
  // allOf/anyOf: a guard of the default claims combines with a typed one, in either order, and the
  // result is typed by the narrower claims.
  const mixedAll: Guard<OrdersClaims> = allOf(anyCaller, acme);
  const mixedAny: Guard<OrdersClaims> = anyOf(acme, anyCaller, requireScopes('orders:read'));
  // @ts-expect-error the combination reads OrdersClaims: it is not a guard for any caller
  const lost: Guard = allOf(anyCaller, acme);
  // Built-in guards take the claims type asked of them; a plain mix stays a plain guard.
  const plain: Guard = anyOf(requireScopes('orders:read'), requireRoles('admin'), anyCaller);
  // Two different claims types: TypeScript infers the first, so name their intersection.
  // @ts-expect-error BillingClaims is not OrdersClaims
  const inferredFromFirst = allOf(acme, billed);
  const both: Guard<OrdersClaims & BillingClaims> = allOf<OrdersClaims & BillingClaims>(acme, billed, anyCaller);
  // An inline guard inside a typed combination sees the claims type.
  const inline = allOf<OrdersClaims>(requireScopes('orders:write'), (auth) => auth.claims.plan === 'pro');
  // @ts-expect-error plan is 'free' | 'pro'
  const badInline = allOf<OrdersClaims>((auth) => auth.claims.plan === 'enterprise');

  // Claim predicates: typed by annotation, by a ClaimPredicate<C>, or by requireClaim<C>.
  const sameOrg: ClaimPredicate<OrdersClaims> = (value, auth) => value === auth.claims.tenant;
  const byAnnotation: Guard<OrdersClaims> = requireClaim('org', (value, auth: AuthContext<OrdersClaims>) => value === auth.claims.tenant);
  const byPredicate: Guard<OrdersClaims> = requireClaim('org', sameOrg);
  const byTypeArgument = requireClaim<OrdersClaims>('plan', (value, auth) => value === auth.claims.plan);
  // @ts-expect-error a predicate answers a boolean
  const notBoolean = requireClaim<OrdersClaims>('plan', (_value, auth) => auth.claims.plan);
  // @ts-expect-error requireClaim compares with a string, number or boolean, not an object
  const objectValue = requireClaim('org', { id: 1 });

  // Reading claims in a handler.
  const tenant: string = getAuth<OrdersClaims>(call).claims.tenant;
  const maybeTenant: string | undefined = findAuth<OrdersClaims>(call)?.claims.tenant;
  type AliasClaims = { tenant: string };
  const aliasTenant: string = getAuth<AliasClaims>(call).claims.tenant;
  const registered: number | undefined = getAuth<OrdersClaims>(call).claims.exp;
  const logCaller = (auth: AuthContext): string => auth.subject ?? '?';
  logCaller(getAuth<OrdersClaims>(call));
  const takesGuard = (guard: Guard): Guard => guard;
  // @ts-expect-error a guard that reads OrdersClaims cannot judge any caller
  takesGuard(acme);

  // Handler wrappers keep the handler's type and take a guard of any claims type.
  const wrapped: grpc.handleUnaryCall<{ id: string }, { id: string }> = withGuard(acme, handler);
  const wrappedMixed = withGuard(allOf(acme, requireRoles('admin')), handler);
  const impl = { getOrder: handler, deleteOrder: handler };
  const perHandler = guardService(impl, { getOrder: acme, deleteOrder: billed });
  const oneForAll: typeof impl = guardService(impl, both);
  // @ts-expect-error a typo in a handler name
  const typo = guardService(impl, { getOrdr: acme });

  // Rules: typed guards of several claims types, inline guards, named rules.
  const rules: RuleMap = { '/acme.orders.v1.Orders/GetOrder': acme, '/acme.billing.v1.Billing/*': billed, '/acme.x.v1.X/Y': (auth) => auth.subject === 'x' };
  const defaultRule: Rule = mixedAll;
  // @ts-expect-error 'publik' is not a rule
  const misspelt: Rule = 'publik';
  const validate: ValidateHook<OrdersClaims> = (claims) => claims.tenant === 'acme';
  const keys = fromSecret('x'.repeat(32));
  const interceptor = createAuthInterceptor({ keys, algorithms: ['HS256'], rules, defaultRule, validate });
  // @ts-expect-error streamExpiry is 'end' or 'ignore'
  createAuthInterceptor({ keys, algorithms: ['HS256'], streamExpiry: 'never' });
  // @ts-expect-error `none` is never an algorithm
  createAuthInterceptor({ keys, algorithms: ['none'] });

  // The reason is the code without ERR_AUTH_; the status is a grpc-js refusal status.
  const reason: AuthError['reason'] = 'ALG_NOT_ALLOWED';
  // @ts-expect-error the reason of 0.1 is gone
  const oldReason: AuthError['reason'] = 'ALGORITHM_NOT_ALLOWED';
  const refusalStatus = (error: AuthError): boolean => error.status === grpc.status.UNAUTHENTICATED;
  // @ts-expect-error a refusal never has status OK
  const okStatus = (error: AuthError): boolean => error.status === grpc.status.OK;

  void [mixedAll, mixedAny, lost, plain, inferredFromFirst, both, inline, badInline, byAnnotation, byPredicate, byTypeArgument, notBoolean, objectValue];
  void [tenant, maybeTenant, aliasTenant, registered, wrapped, wrappedMixed, perHandler, oneForAll, typo, misspelt, interceptor];
  void [reason, oldReason, refusalStatus, okStatus];
}

/** Names and options removed in 0.x: each is a compile error (and the options an AuthConfigError at run time). */
export function removedNamesCompile(): void {
  // @ts-expect-error use grpc-js `status`
  void api.GrpcStatus;
  // @ts-expect-error pass `services` and `strictRules` to createAuthInterceptor
  void api.checkRules;
  // @ts-expect-error internal: pass `rules` and `defaultRule` to createAuthInterceptor
  void api.compileRules;
  // @ts-expect-error internal
  void api.PUBLIC_KEY_ALGORITHMS;
  // @ts-expect-error moved to grpc-jwt-auth/client
  void api.decodeErrorInfo;
  // @ts-expect-error moved to grpc-jwt-auth/client
  void api.createTokenInterceptor;
  // @ts-expect-error renamed timeout, in seconds
  fromJwks('https://idp.example/jwks.json', { timeoutMs: 5000 });
  // @ts-expect-error renamed cooldown, in seconds
  fromIssuer('https://idp.example/', { cooldownMs: 30_000 });
  // @ts-expect-error the verify `algorithms` is the one list
  fromIssuer('https://idp.example/', { algorithms: ['RS256'] });
}

describe('typed guards', () => {
  it('guards of the default claims and of OrdersClaims, combined, judge the same context at run time', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = api.createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const { context } = await authenticator.authenticate(await idp.sign({ sub: 'alice', tenant: 'acme', plan: 'pro' }), '/p.S/M');
    const typed = context as AuthContext<OrdersClaims>;
    const info = { method: '/p.S/M' };
    assert.equal(await allOf(anyCaller, acme)(typed, info), true);
    assert.equal(await anyOf(acme, anyCaller)(typed, info), true);
    assert.equal(await requireClaim<OrdersClaims>('plan', (value, auth) => value === auth.claims.plan)(typed, info), true);
  });
});
