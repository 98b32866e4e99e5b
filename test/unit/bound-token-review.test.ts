/**
 * Independent review of requireBoundToken, GuardDenial.binding and the `.proto` field bound_token:
 * forged or polluted confirmations, hostile custom denials, allOf / anyOf merges in every order and
 * nested, withGuard over the four call kinds' handler shapes, and `.proto` values of the wrong type.
 *
 * Ported (our own code) from spring-projects/spring-security at commit
 * d449950b36fe9387c9991130ca8e7701c902192a:
 * - oauth2/oauth2-jose/src/test/java/org/springframework/security/oauth2/jwt/X509CertificateThumbprintValidatorTests.java
 *   (validateWhenCnfClaimNotAvailableThenSuccess, validateWhenX5tClaimNotAvailableThenSuccess,
 *   validateWhenX509CertificateThumbprintValidThenSuccess), asked of requireBoundToken('certificate'),
 *   which refuses what Spring's validator lets pass (an unbound token passes our certificateBinding
 *   'when-bound' too, checked before any guard; the guard is the per-method requirement on top). The
 *   missing and mismatched certificate cases are refused before any guard (test/integration/certificate-binding.test.ts);
 * - oauth2/oauth2-resource-server/src/test/java/org/springframework/security/oauth2/server/resource/authentication/DPoPAuthenticationProviderTests.java
 *   (authenticateWhenJktMissingThenThrowOAuth2AuthenticationException, authenticateWhenDPoPProofValidThenSuccess),
 *   asked of requireBoundToken('dpop'): a token whose proven confirmation has no jkt is refused. (The
 *   jkt mismatch and ath cases are the proof verifier's, before any guard.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  AuthError,
  allOf,
  anyOf,
  requireAcr,
  requireAuthTime,
  requireBoundToken,
  requireScopes,
  rulesFromProto,
  type AuthContext,
  type Confirmation,
  type Guard,
  type GuardDenial,
  type ServiceSource,
} from '../../src/index.ts';
import { judgeGuard, refusalOf } from '../../src/authz/guard-verdict.ts';

const NOW = 2_000_000_000_000;
const info = { method: '/p.S/M', clock: () => NOW };
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const X5T = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2';
const KINDS = ['dpop', 'certificate', 'any'] as const;
const caller = (confirmation: unknown, scopes: string[] = [], claims: Record<string, unknown> = {}) =>
  Object.freeze({ claims, scopes, roles: [], confirmation }) as unknown as AuthContext;
const verdict = async (guard: Guard, auth: AuthContext) => judgeGuard(guard, auth, info);
const codeOf = async (guard: Guard, auth: AuthContext) => refusalOf(await verdict(guard, auth))?.code;

/** Runs `body` with `name` defined on Object.prototype (a polluted process), and removes it after. */
function withPolluted(name: string, value: unknown, body: () => Promise<void>): Promise<void> {
  Object.defineProperty(Object.prototype, name, { value, configurable: true, enumerable: false, writable: true });
  return body().finally(() => {
    delete (Object.prototype as Record<string, unknown>)[name];
  });
}

describe('requireBoundToken: only an own, proven confirmation member counts', () => {
  it('Object.prototype.jkt polluted: a certificate-bound caller does not pass dpop, a DPoP-bound one does not pass certificate through x5tS256', async () => {
    await withPolluted('jkt', JKT, async () => {
      assert.equal(await codeOf(requireBoundToken('dpop'), caller({ x5tS256: X5T })), 'ERR_AUTH_TOKEN_NOT_BOUND');
      assert.equal(await codeOf(requireBoundToken('dpop'), caller({})), 'ERR_AUTH_TOKEN_NOT_BOUND');
      assert.equal(await verdict(requireBoundToken('dpop'), caller({ jkt: JKT })), true);
    });
    await withPolluted('x5tS256', X5T, async () => {
      assert.equal(await codeOf(requireBoundToken('certificate'), caller({ jkt: JKT })), 'ERR_AUTH_TOKEN_NOT_BOUND');
      assert.equal(await codeOf(requireBoundToken('any'), caller({})), 'ERR_AUTH_TOKEN_NOT_BOUND');
    });
  });

  it('a confirmation inherited from a prototype object (not own members) → refused', async () => {
    const inherited = Object.create({ jkt: JKT, x5tS256: X5T }) as Confirmation;
    for (const kind of KINDS) assert.equal(await codeOf(requireBoundToken(kind), caller(inherited)), 'ERR_AUTH_TOKEN_NOT_BOUND', kind);
  });

  it('a confirmation that is no object (a string, an array, true) → refused, never a throw', async () => {
    for (const confirmation of ['jkt', [JKT], true, 1, null]) {
      for (const kind of KINDS)
        assert.equal(await codeOf(requireBoundToken(kind), caller(confirmation)), 'ERR_AUTH_TOKEN_NOT_BOUND', `${String(confirmation)} ${kind}`);
    }
  });

  it('a confirmation member that is a String object or whitespace-free empty text → refused', async () => {
    for (const jkt of [new String(JKT), '', ['x']]) {
      assert.equal(await codeOf(requireBoundToken('dpop'), caller({ jkt })), 'ERR_AUTH_TOKEN_NOT_BOUND', String(jkt));
    }
  });

  it('a confirmation getter that throws → INTERNAL, not an allow', async () => {
    const hostile = {
      get jkt(): string {
        throw new Error('boom');
      },
    };
    const result = await verdict(requireBoundToken('dpop'), caller(hostile));
    assert.ok(result instanceof AuthError && result.code === 'ERR_AUTH_INTERNAL');
  });

  it('claims that name a binding (cnf, confirmation, x5tS256, jkt) never stand in for a proven one', async () => {
    const claims = { cnf: { jkt: JKT, 'x5t#S256': X5T }, confirmation: { jkt: JKT }, jkt: JKT, x5tS256: X5T };
    for (const kind of KINDS) assert.equal(await codeOf(requireBoundToken(kind), caller(undefined, [], claims)), 'ERR_AUTH_TOKEN_NOT_BOUND', kind);
  });

  describe('spring-security X509CertificateThumbprintValidatorTests, as requireBoundToken("certificate")', () => {
    it('no cnf (no confirmation) → TOKEN_NOT_BOUND', async () => {
      assert.equal(await codeOf(requireBoundToken('certificate'), caller(undefined)), 'ERR_AUTH_TOKEN_NOT_BOUND');
    });
    it('cnf without x5t#S256 (an empty confirmation) → TOKEN_NOT_BOUND', async () => {
      assert.equal(await codeOf(requireBoundToken('certificate'), caller({})), 'ERR_AUTH_TOKEN_NOT_BOUND');
    });
    it('a thumbprint proven on the call → allowed', async () => {
      assert.equal(await verdict(requireBoundToken('certificate'), caller({ x5tS256: X5T })), true);
    });
  });

  describe('spring-security DPoPAuthenticationProviderTests, as requireBoundToken("dpop")', () => {
    it('jkt missing (only a certificate proven) → TOKEN_NOT_BOUND, UNAUTHENTICATED', async () => {
      const error = refusalOf(await verdict(requireBoundToken('dpop'), caller({ x5tS256: X5T }))) as AuthError;
      assert.deepEqual([error.code, error.status], ['ERR_AUTH_TOKEN_NOT_BOUND', status.UNAUTHENTICATED]);
    });
    it('a jkt proven on the call → allowed', async () => {
      assert.equal(await verdict(requireBoundToken('dpop'), caller({ jkt: JKT })), true);
    });
  });
});

describe('GuardDenial.binding from custom guards', () => {
  const custom =
    (denial: unknown): Guard =>
    () =>
      denial as GuardDenial;

  it("'DPOP', ' dpop', 'dpop\\0', a String object, an array, an object → dropped: PERMISSION_DENIED", async () => {
    for (const binding of ['DPOP', ' dpop', 'dpop\0', new String('dpop'), ['dpop'], { toString: () => 'dpop' }]) {
      assert.equal(await codeOf(custom({ allowed: false, message: 'x', binding }), caller(undefined)), 'ERR_AUTH_INSUFFICIENT_SCOPE', String(binding));
    }
  });

  it('Object.prototype.binding polluted: a plain refusal stays PERMISSION_DENIED', async () => {
    await withPolluted('binding', 'dpop', async () => {
      assert.equal(await codeOf(custom({ allowed: false, message: 'x' }), caller(undefined)), 'ERR_AUTH_INSUFFICIENT_SCOPE');
      assert.equal(await codeOf(requireScopes('a'), caller(undefined)), 'ERR_AUTH_INSUFFICIENT_SCOPE');
    });
  });

  it('a binding on an allowed-looking object ({ allowed: true, binding }) or on `false` is still a refusal, never an allow', async () => {
    assert.notEqual(await verdict(custom({ allowed: true, binding: 'dpop' }), caller({ jkt: JKT })), true);
    assert.equal(await codeOf(custom(false), caller(undefined)), 'ERR_AUTH_INSUFFICIENT_SCOPE');
  });

  it('the verdict is a copy: changing the returned denial afterwards changes nothing', async () => {
    const denial: { allowed: false; message: string; binding?: unknown } = { allowed: false, message: 'x', binding: 'dpop' };
    const settled = (await verdict(custom(denial), caller(undefined))) as GuardDenial;
    denial.binding = 'nonsense';
    assert.equal(settled.binding, 'dpop');
    assert.equal(refusalOf(settled)?.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
  });
});

describe('binding in allOf / anyOf: every order, nested', () => {
  const bearer = caller(undefined, [], { acr: 'pwd', auth_time: NOW / 1000 - 10_000 });
  const binding = requireBoundToken('dpop');
  const scope = requireScopes('payments:write');
  const stepUp = requireAcr('mfa');
  const age = requireAuthTime({ maxAge: 60 });

  it('allOf over binding, scope and step-up in all six orders: the first guard decides the code', async () => {
    const first: Record<string, string> = {
      binding: 'ERR_AUTH_TOKEN_NOT_BOUND',
      scope: 'ERR_AUTH_INSUFFICIENT_SCOPE',
      stepUp: 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION',
    };
    const named: Record<string, Guard> = { binding, scope, stepUp };
    const orders = [
      ['binding', 'scope', 'stepUp'],
      ['binding', 'stepUp', 'scope'],
      ['scope', 'binding', 'stepUp'],
      ['scope', 'stepUp', 'binding'],
      ['stepUp', 'binding', 'scope'],
      ['stepUp', 'scope', 'binding'],
    ];
    for (const order of orders) {
      const guard = allOf(...order.map((name) => named[name] as Guard));
      assert.equal(await codeOf(guard, bearer), first[order[0] as string], order.join(','));
    }
  });

  it('allOf: binding first, then two step-up guards → TOKEN_NOT_BOUND with no step-up challenge', async () => {
    const denial = (await verdict(allOf(binding, stepUp, age), bearer)) as GuardDenial;
    assert.equal(denial.binding, 'dpop');
    assert.equal(denial.stepUp, undefined);
  });

  it('anyOf over binding, scope and step-up in every order: step-up if any; binding and scope alone → PERMISSION_DENIED', async () => {
    for (const guards of [
      [binding, scope, stepUp],
      [stepUp, scope, binding],
      [scope, binding, stepUp],
    ]) {
      assert.equal(await codeOf(anyOf(...guards), bearer), 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION');
    }
    for (const guards of [
      [binding, scope],
      [scope, binding],
    ]) {
      const error = refusalOf(await verdict(anyOf(...guards), bearer)) as AuthError;
      assert.equal(error.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
      assert.deepEqual(error.requiredScopes, ['payments:write']);
    }
  });

  it('nested: anyOf(allOf(dpop, scope), certificate) for a bearer token → TOKEN_NOT_BOUND (any); for a DPoP caller without the scope → PERMISSION_DENIED', async () => {
    const guard = anyOf(allOf(requireBoundToken('dpop'), scope), requireBoundToken('certificate'));
    const denial = (await verdict(guard, bearer)) as GuardDenial;
    assert.equal(denial.binding, 'any');
    assert.equal(await codeOf(guard, caller({ jkt: JKT })), 'ERR_AUTH_INSUFFICIENT_SCOPE');
    assert.equal(await verdict(guard, caller({ x5tS256: X5T })), true);
    assert.equal(await verdict(guard, caller({ jkt: JKT }, ['payments:write'])), true);
  });

  it('nested: allOf(anyOf(dpop, dpop), scope) and anyOf(anyOf(dpop), anyOf(certificate)) keep the binding refusal', async () => {
    assert.equal(((await verdict(allOf(anyOf(binding, binding), scope), bearer)) as GuardDenial).binding, 'dpop');
    assert.equal(((await verdict(anyOf(anyOf(binding), anyOf(requireBoundToken('certificate'))), bearer)) as GuardDenial).binding, 'any');
  });

  it('an async guard in between changes nothing: allOf(async scope-allow, binding) and anyOf(async binding, binding)', async () => {
    const asyncAllow: Guard = async () => true;
    const asyncBinding: Guard = async (auth, guardInfo) => requireBoundToken('certificate')(auth, guardInfo);
    assert.equal(((await verdict(allOf(asyncAllow, binding), bearer)) as GuardDenial).binding, 'dpop');
    assert.equal(((await verdict(anyOf(asyncBinding, binding), bearer)) as GuardDenial).binding, 'any');
  });
});

describe('.proto bound_token of the wrong type or in the wrong place', () => {
  /** A ServiceSource of one method with these options, as proto-loader describes it. */
  const source = (options: Record<string, unknown>, extra: Record<string, unknown> = {}): ServiceSource =>
    ({
      'p.S': {
        M: {
          path: '/p.S/M',
          requestStream: false,
          responseStream: false,
          originalName: 'm',
          requestType: { format: 'Protocol Buffer 3 DescriptorProto', type: { name: 'M', field: [], options: {} } },
          responseType: { format: 'Protocol Buffer 3 DescriptorProto', type: { name: 'M', field: [], options: {} } },
          options: { '(grpc_jwt_auth.v1.rule)': options },
          ...extra,
        },
      },
    }) as unknown as ServiceSource;

  for (const [name, value] of [
    ['a number', 1],
    ['true', true],
    ['a list of one', ['dpop']],
    ['a list of two', ['dpop', 'any']],
    ['an object', { kind: 'dpop' }],
    ['null', null],
    ['"dpop " with a space', 'dpop '],
    ['"any\\u0000"', 'any\u0000'],
  ] as const) {
    it(`bound_token ${name} → AuthConfigError naming .bound_token`, () => {
      assert.throws(() => rulesFromProto(source({ bound_token: value })), {
        code: 'ERR_AUTH_INVALID_OPTION',
        option: '/p.S/M (grpc_jwt_auth.v1.rule).bound_token',
      });
    });
  }

  it('bound_token with deny or optional → AuthConfigError (flags stand alone); with public: false it is the guard', async () => {
    for (const flag of ['deny', 'optional']) {
      assert.throws(() => rulesFromProto(source({ [flag]: true, bound_token: 'dpop' })), {
        code: 'ERR_AUTH_INVALID_OPTION',
        option: '/p.S/M (grpc_jwt_auth.v1.rule)',
      });
    }
    const rule = rulesFromProto(source({ public: false, bound_token: 'dpop' }))['/p.S/M'] as Guard;
    assert.equal(refusalOf(await verdict(rule, caller(undefined)))?.code, 'ERR_AUTH_TOKEN_NOT_BOUND');
  });

  it('an own __proto__ field beside bound_token → AuthConfigError (unknown field), never a prototype change', () => {
    const options = JSON.parse('{"bound_token":"dpop","__proto__":{"public":true}}') as Record<string, unknown>;
    assert.throws(() => rulesFromProto(source(options)), { code: 'ERR_AUTH_INVALID_OPTION' });
  });
});
