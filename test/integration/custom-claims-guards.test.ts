/**
 * Guards over a claims interface of the user's own, without an index signature, in every place a guard
 * goes: the type-check compiles this file (a `Guard<OrdersClaims>` in `rules`, `defaultRule`, `allOf`,
 * `anyOf`, `withGuard` and `guardService`, next to the built-in guards), and the calls below run them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  allOf,
  anyOf,
  createAuthInterceptor,
  guardService,
  requireClaim,
  requireRoles,
  requireScopes,
  withGuard,
  type AuthContext,
  type ClaimPredicate,
  type Guard,
  type Rule,
  type RuleMap,
} from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { METHODS, echoImplementation, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;

/** A claims interface as users write it: no index signature. */
interface OrdersClaims {
  readonly tenant: string;
  readonly plan: 'free' | 'pro';
}

const acmeTenant: Guard<OrdersClaims> = (auth) => auth.claims.tenant === 'acme';
const sameOrg: ClaimPredicate<OrdersClaims> = (value, auth) => value === auth.claims.tenant;
const proPlan = requireClaim<OrdersClaims>('plan', 'pro');
const ownOrg = requireClaim('org', sameOrg);
const readOwnTenant: Guard<OrdersClaims> = allOf(requireScopes('orders:read'), acmeTenant, ownOrg);
const adminOrPro = anyOf(requireRoles('admin'), proPlan, acmeTenant);

// The registered claims are still typed, and the claims type catches a misuse at compile time.
const hasSubject: Guard<OrdersClaims> = (auth) => typeof auth.claims.sub === 'string' && auth.claims.tenant.length > 0;
// @ts-expect-error tenant is a string, not a number
const misuse: Guard<OrdersClaims> = (auth) => auth.claims.tenant.toFixed(0) === '1';
// @ts-expect-error a guard of OrdersClaims does not accept a context without them
const untyped = (auth: AuthContext) => acmeTenant(auth, { method: METHODS.unary });

const rules: RuleMap = {
  [METHODS.unary]: readOwnTenant,
  [METHODS.serverStream]: adminOrPro,
  [METHODS.clientStream]: hasSubject,
};
const defaultRule: Rule = acmeTenant;
void [misuse, untyped];

describe('guards over a custom claims interface without an index signature', () => {
  let idp: TestIssuer;
  let viaRules: EchoServer;
  let viaHandlers: EchoServer;

  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    viaRules = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], rules, defaultRule })] });
    viaHandlers = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] })],
      implementation: (runs) => {
        const echo = echoImplementation(runs);
        const guarded = guardService(echo, { Unary: readOwnTenant, ServerStream: proPlan });
        return {
          ...guarded,
          ClientStream: withGuard(acmeTenant, echo.ClientStream as grpc.handleClientStreamingCall<unknown, unknown>),
        };
      },
    });
  });
  after(async () => {
    await viaRules.close();
    await viaHandlers.close();
  });

  it('unary: rules and guardService run the typed guard: own tenant → OK, another tenant → PERMISSION_DENIED', async () => {
    const own = await idp.sign({ scope: 'orders:read', tenant: 'acme', org: 'acme', plan: 'free' });
    const other = await idp.sign({ scope: 'orders:read', tenant: 'evil', org: 'evil', plan: 'free' });
    for (const server of [viaRules, viaHandlers]) {
      assert.equal((await unary(server.client, bearer(Metadata, own))).code, status.OK);
      const refused = await unary(server.client, bearer(Metadata, other));
      assert.equal(refused.code, status.PERMISSION_DENIED);
      assert.equal(refused.reason, 'INSUFFICIENT_SCOPE');
    }
    assert.equal(viaRules.runs.unary + viaHandlers.runs.unary, 2);
  });

  it('defaultRule: a typed guard for every method no pattern names (Public/Ping)', async () => {
    const call = (token: string) =>
      new Promise<number>((resolve) => {
        viaRules.publicClient.Ping({ text: 'hi' }, bearer(Metadata, token), (error: grpc.ServiceError | null) => resolve(error?.code ?? status.OK));
      });
    assert.equal(await call(await idp.sign({ tenant: 'acme', plan: 'free' })), status.OK);
    assert.equal(await call(await idp.sign({ tenant: 'evil', plan: 'pro' })), status.PERMISSION_DENIED);
  });
});
