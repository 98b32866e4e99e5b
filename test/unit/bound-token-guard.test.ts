/**
 * requireBoundToken without a server: its argument, its verdict for each proven confirmation, what a
 * binding denial (its own or a custom guard's) becomes on the wire, and how allOf / anyOf combine it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  AuthConfigError,
  AuthError,
  allOf,
  anyOf,
  requireAcr,
  requireBoundToken,
  requireScopes,
  type AuthContext,
  type BoundTokenKind,
  type Confirmation,
  type Guard,
  type GuardDenial,
} from '../../src/index.ts';
import { judgeGuard, refusalOf } from '../../src/authz/guard-verdict.ts';
import { rejectionStatus } from '../../src/server/rejection.ts';

const info = { method: '/p.S/M' };
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const X5T = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2';
const caller = (confirmation: Confirmation | undefined, scopes: string[] = [], claims: Record<string, unknown> = {}) =>
  ({ claims, scopes, roles: [], confirmation }) as unknown as AuthContext;

/** The verdict a guard comes to, as the interceptor reads it. */
async function verdictOf(guard: Guard, auth: AuthContext) {
  return judgeGuard(guard, auth, info);
}

async function refusal(guard: Guard, auth: AuthContext): Promise<AuthError | undefined> {
  return refusalOf(await verdictOf(guard, auth));
}

describe('requireBoundToken: argument', () => {
  it("no argument is 'any'; dpop, certificate, any are accepted", async () => {
    assert.equal(await verdictOf(requireBoundToken(), caller({ jkt: JKT })), true);
    assert.equal(await verdictOf(requireBoundToken(), caller({ x5tS256: X5T })), true);
    for (const kind of ['dpop', 'certificate', 'any'] as const) assert.equal(typeof requireBoundToken(kind), 'function');
  });

  it("an unknown kind ('DPoP', 'mtls', '', null, a number, an array) → AuthConfigError naming requireBoundToken(kind)", () => {
    for (const bad of ['DPoP', 'mtls', 'x5t#S256', '', null, 1, ['dpop']]) {
      assert.throws(
        () => requireBoundToken(bad as BoundTokenKind),
        (error: unknown) => error instanceof AuthConfigError && error.option === 'requireBoundToken(kind)',
        String(bad),
      );
    }
  });
});

describe('requireBoundToken: verdicts', () => {
  const table: Array<[string, Confirmation | undefined, Record<BoundTokenKind, boolean>]> = [
    ['bearer token (no confirmation)', undefined, { dpop: false, certificate: false, any: false }],
    ['empty confirmation', {}, { dpop: false, certificate: false, any: false }],
    ['DPoP-bound', { jkt: JKT }, { dpop: true, certificate: false, any: true }],
    ['certificate-bound', { x5tS256: X5T }, { dpop: false, certificate: true, any: true }],
    ['bound to both', { jkt: JKT, x5tS256: X5T }, { dpop: true, certificate: true, any: true }],
    ['empty jkt (a hand-built context)', { jkt: '' }, { dpop: false, certificate: false, any: false }],
    ['non-string x5tS256 (a hand-built context)', { x5tS256: 5 as never }, { dpop: false, certificate: false, any: false }],
  ];
  for (const [name, confirmation, expected] of table) {
    it(`${name} → dpop ${expected.dpop}, certificate ${expected.certificate}, any ${expected.any}`, async () => {
      for (const kind of ['dpop', 'certificate', 'any'] as const) {
        const verdict = await verdictOf(requireBoundToken(kind), caller(confirmation));
        if (expected[kind]) assert.equal(verdict, true, kind);
        else assert.equal((verdict as GuardDenial).binding, kind, kind);
      }
    });
  }

  it('the guard never reads the claims: a cnf claim without a proven confirmation does not pass', async () => {
    const unproven = caller(undefined, [], { cnf: { jkt: JKT, 'x5t#S256': X5T } });
    for (const kind of ['dpop', 'certificate', 'any'] as const) assert.notEqual(await verdictOf(requireBoundToken(kind), unproven), true, kind);
  });
});

describe('binding denials on the wire', () => {
  it('requireBoundToken refusing → UNAUTHENTICATED ERR_AUTH_TOKEN_NOT_BOUND, Bearer error="invalid_token", ErrorInfo TOKEN_NOT_BOUND', async () => {
    const error = (await refusal(requireBoundToken('dpop'), caller(undefined))) as AuthError;
    assert.equal(error.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
    assert.equal(error.status, status.UNAUTHENTICATED);
    assert.equal(error.reason, 'TOKEN_NOT_BOUND');
    const sent = rejectionStatus(error);
    assert.equal(sent.code, status.UNAUTHENTICATED);
    assert.match(String(sent.metadata.get('www-authenticate')[0]), /^Bearer error="invalid_token"/);
  });

  it('a custom guard denying with a known binding kind → TOKEN_NOT_BOUND; an unknown one is dropped → PERMISSION_DENIED INSUFFICIENT_SCOPE', async () => {
    const custom =
      (binding: unknown): Guard =>
      () =>
        ({ allowed: false, message: 'x', binding }) as GuardDenial;
    assert.equal((await refusal(custom('certificate'), caller(undefined)))?.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
    for (const bad of ['mtls', 'DPOP', '', 1, true, { kind: 'dpop' }]) {
      const verdict = (await verdictOf(custom(bad), caller(undefined))) as GuardDenial;
      assert.equal(verdict.binding, undefined, String(bad));
      const error = refusalOf(verdict) as AuthError;
      assert.equal(error.code, 'ERR_AUTH_INSUFFICIENT_SCOPE', String(bad));
      assert.equal(error.status, status.PERMISSION_DENIED);
    }
  });

  it('a denial with both a step-up and a binding is the step-up (a new login can bring a bound token too)', async () => {
    const both: Guard = () => ({ allowed: false, message: 'x', binding: 'dpop', stepUp: { acrValues: ['mfa'] } });
    assert.equal((await refusal(both, caller(undefined)))?.code, 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION');
  });

  it('a binding getter that throws is the guard failing (INTERNAL), not a refusal nor an allow', async () => {
    const throwing: Guard = () =>
      ({
        allowed: false,
        message: 'x',
        get binding(): never {
          throw new Error('boom');
        },
      }) as never;
    const verdict = await verdictOf(throwing, caller(undefined));
    assert.ok(verdict instanceof AuthError && verdict.code === 'ERR_AUTH_INTERNAL');
  });
});

describe('requireBoundToken in allOf and anyOf', () => {
  const bearerWithScope = caller(undefined, ['orders:write']);
  const bearerWithoutScope = caller(undefined, []);
  const dpopWithoutScope = caller({ jkt: JKT }, []);

  it('allOf: the first refusal, unchanged — binding first refuses a bearer token as such, scope first refuses the missing scope first', async () => {
    const bindingFirst = allOf(requireBoundToken('dpop'), requireScopes('orders:write'));
    assert.equal((await refusal(bindingFirst, bearerWithoutScope))?.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
    assert.equal((await refusal(bindingFirst, bearerWithScope))?.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
    assert.equal((await refusal(bindingFirst, dpopWithoutScope))?.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
    assert.equal(await verdictOf(bindingFirst, caller({ jkt: JKT }, ['orders:write'])), true);
    const scopeFirst = allOf(requireScopes('orders:write'), requireBoundToken('dpop'));
    assert.equal((await refusal(scopeFirst, bearerWithoutScope))?.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
    assert.equal((await refusal(scopeFirst, bearerWithScope))?.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
  });

  it('allOf: a step-up refusal first is not merged with a later binding refusal (only step-up guards are asked after it)', async () => {
    const verdict = (await verdictOf(allOf(requireAcr('mfa'), requireBoundToken()), bearerWithScope)) as GuardDenial;
    assert.deepEqual(verdict.stepUp, { acrValues: ['mfa'] });
    assert.equal(verdict.binding, undefined);
  });

  it('anyOf: every denial a binding refusal → one binding refusal, of their kind if they agree, else any', async () => {
    const sameKind = (await verdictOf(anyOf(requireBoundToken('dpop'), requireBoundToken('dpop')), bearerWithScope)) as GuardDenial;
    assert.equal(sameKind.binding, 'dpop');
    const mixed = (await verdictOf(anyOf(requireBoundToken('dpop'), requireBoundToken('certificate')), bearerWithScope)) as GuardDenial;
    assert.equal(mixed.binding, 'any');
    assert.equal(refusalOf(mixed)?.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
    assert.equal(await verdictOf(anyOf(requireBoundToken('dpop'), requireBoundToken('certificate')), caller({ x5tS256: X5T })), true);
  });

  it('anyOf: a binding refusal beside a scope refusal is outvoted → PERMISSION_DENIED naming the scopes; beside a step-up → the step-up', async () => {
    const withScope = refusalOf(await verdictOf(anyOf(requireBoundToken('dpop'), requireScopes('orders:admin')), bearerWithoutScope)) as AuthError;
    assert.equal(withScope.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
    assert.deepEqual(withScope.requiredScopes, ['orders:admin']);
    const withStepUp = refusalOf(await verdictOf(anyOf(requireBoundToken('dpop'), requireAcr('mfa')), bearerWithoutScope)) as AuthError;
    assert.equal(withStepUp.code, 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION');
  });

  it('anyOf: an async binding refusal counts like a synchronous one', async () => {
    const later: Guard = async (auth, guardInfo) => requireBoundToken('certificate')(auth, guardInfo);
    const verdict = (await verdictOf(anyOf(later, requireBoundToken('certificate')), bearerWithScope)) as GuardDenial;
    assert.equal(verdict.binding, 'certificate');
  });
});
