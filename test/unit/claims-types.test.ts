/**
 * Typed claims: a claims interface of your own, without an index signature, works with getAuth,
 * AuthContext and ValidateHook, and the registered claims keep their types beside it. The lines marked
 * @ts-expect-error are checked by `npm run typecheck` (which covers test/): each must stay an error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, getAuth, type AuthContext, type CallWithMetadata, type JwtClaims, type ValidateHook } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';

/** No index signature: what users write. */
interface TenantClaims {
  readonly tenant: string;
  readonly plan?: 'free' | 'pro';
}

/** Compiled, never called: the type-level half of this file. */
export function typedClaimsCompile(call: CallWithMetadata): void {
  const auth: AuthContext<TenantClaims> = getAuth<TenantClaims>(call);
  const tenant: string = auth.claims.tenant;
  const plan: 'free' | 'pro' | undefined = auth.claims.plan;
  const subject: string | undefined = auth.claims.sub;
  const expires: number | undefined = auth.claims.exp;
  // A typed context is still a context: code written for any caller accepts it.
  const anyCaller: AuthContext = auth;
  const registered: JwtClaims = auth.claims;
  // @ts-expect-error tenant is a string
  const tenantNumber: number = auth.claims.tenant;
  // @ts-expect-error a claim the interface does not declare is unknown, not a string
  const undeclared: string = auth.claims.department;
  // @ts-expect-error plan is one of two strings
  const badPlan: AuthContext<TenantClaims>['claims']['plan'] = 'enterprise';
  // @ts-expect-error claims types are objects
  getAuth<string>(call);

  const hook: ValidateHook<TenantClaims> = (claims, { tokenId, method }) => claims.tenant !== '' && claims.sub !== undefined && tokenId !== '' && method !== '';
  const asyncHook: ValidateHook<TenantClaims> = async (claims) => claims.plan === 'pro';
  // @ts-expect-error a hook answers a boolean (or a promise of one), not a claim
  const returnsClaim: ValidateHook<TenantClaims> = (claims) => claims.tenant;
  // @ts-expect-error the registered exp stays a number beside your claims
  const expAsText: ValidateHook<TenantClaims> = (claims) => claims.exp === 'soon';
  // @ts-expect-error tenant is declared a string
  const tenantAsNumber: ValidateHook<TenantClaims> = (claims) => claims.tenant === 7;
  void [tenant, plan, subject, expires, anyCaller, registered, tenantNumber, undeclared, badPlan, hook, asyncHook, returnsClaim, expAsText, tenantAsNumber];
}

describe('typed claims', () => {
  it('a ValidateHook<TenantClaims> (an interface without index signature) is accepted as validate and sees the claims at run time', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const seen: string[] = [];
    const proOnly: ValidateHook<TenantClaims> = (claims) => {
      seen.push(`${claims.tenant}/${claims.sub ?? '-'}`);
      return claims.plan === 'pro';
    };
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], validate: proOnly });
    const { context } = await authenticator.authenticate(await idp.sign({ sub: 'alice', tenant: 'acme', plan: 'pro' }), '/p.S/M');
    const typed = context as AuthContext<TenantClaims>;
    assert.equal(typed.claims.tenant, 'acme');
    await assert.rejects(authenticator.authenticate(await idp.sign({ sub: 'bob', tenant: 'acme', plan: 'free' }), '/p.S/M'), {
      code: 'ERR_AUTH_TOKEN_REJECTED',
    });
    assert.deepEqual(seen, ['acme/alice', 'acme/bob']);
  });
});
