import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import {
  AuthError,
  DEFAULT_ROLE_CLAIMS,
  allOf,
  anyOf,
  createAuthenticator,
  requireAnyRole,
  requireAnyScope,
  requireClaim,
  requireRoles,
  requireScopes,
  type AuthContext,
  type ClaimPath,
  type Guard,
  type GuardDenial,
  type GuardResult,
} from '../../src/index.ts';
import { judgeGuard, refusalOf, type GuardVerdict } from '../../src/authz/guard-verdict.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';

const METHOD = '/acme.orders.v1.Orders/GetOrder';
const info = { method: METHOD };

let idp: TestIssuer;
before(async () => {
  idp = await createTestIssuer({ alg: 'HS256' });
});

interface ContextOptions {
  readonly scopeClaims?: readonly ClaimPath[];
  readonly roleClaims?: readonly ClaimPath[];
}

/** A context exactly as the interceptor builds it: a real token through the real authenticator. */
async function contextFor(claims: Record<string, unknown>, options: ContextOptions = {}): Promise<AuthContext> {
  const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], ...options });
  return (await authenticator.authenticate(await idp.sign(claims), METHOD)).context;
}

/** The same for a payload given as raw JSON text (duplicate keys, `__proto__` keys). */
async function contextForRaw(json: string, options: ContextOptions = {}): Promise<AuthContext> {
  const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], ...options });
  return (await authenticator.authenticate(await idp.signRaw(json), METHOD)).context;
}

const allows = async (guard: Guard, auth: AuthContext): Promise<boolean> => (await guard(auth, info)) === true;

/** The refusal the interceptor and withGuard answer a guard's verdict with; undefined when it allowed. */
const refusal = async (guard: Guard, auth: AuthContext): Promise<AuthError | undefined> => refusalOf(await judgeGuard(guard, auth, info));

const exp = () => Math.floor(Date.now() / 1000) + 600;

describe('guards: scopes in every identity-provider layout', () => {
  const layouts: Array<[string, Record<string, unknown>]> = [
    ['scope, space-delimited (RFC 8693 / RFC 9068)', { scope: 'orders:read orders:write' }],
    ['scp as a string (Azure AD delegated permissions)', { scp: 'orders:read orders:write' }],
    ['scp as an array (Okta)', { scp: ['orders:read', 'orders:write'] }],
    ['permissions array (Auth0 RBAC)', { permissions: ['orders:read', 'orders:write'] }],
    ['split across scope and permissions', { scope: 'orders:read', permissions: ['orders:write'] }],
  ];
  for (const [name, claims] of layouts) {
    it(`${name} → requireScopes, requireAnyScope see both scopes`, async () => {
      const auth = await contextFor(claims);
      assert.equal(await allows(requireScopes('orders:read', 'orders:write'), auth), true);
      assert.equal(await allows(requireAnyScope('orders:admin', 'orders:write'), auth), true);
      assert.equal(await allows(requireScopes('orders:read', 'orders:admin'), auth), false);
      assert.equal(await allows(requireAnyScope('orders:admin'), auth), false);
    });
  }

  it('a custom scope claim path (scopeClaims option) is read, the defaults are not', async () => {
    const auth = await contextFor({ scope: 'orders:admin', authz: { scopes: ['orders:read'] } }, { scopeClaims: [['authz', 'scopes']] });
    assert.equal(await allows(requireScopes('orders:read'), auth), true);
    assert.equal(await allows(requireScopes('orders:admin'), auth), false);
  });
});

describe('guards: roles in every identity-provider layout', () => {
  const keycloakClient: readonly ClaimPath[] = [...DEFAULT_ROLE_CLAIMS, ['resource_access', 'orders-api', 'roles']];
  const layouts: Array<[string, Record<string, unknown>, ContextOptions]> = [
    ['roles array (Azure AD app roles)', { roles: ['admin', 'support'] }, {}],
    ['Keycloak realm_access.roles', { realm_access: { roles: ['admin', 'support'] } }, {}],
    [
      'Keycloak resource_access.<client>.roles (roleClaims)',
      { resource_access: { 'orders-api': { roles: ['admin', 'support'] } } },
      { roleClaims: keycloakClient },
    ],
    ['cognito:groups (AWS Cognito)', { 'cognito:groups': ['admin', 'support'] }, {}],
    ['a namespaced custom claim (Auth0 Actions)', { 'https://acme.example/roles': ['admin', 'support'] }, { roleClaims: ['https://acme.example/roles'] }],
  ];
  for (const [name, claims, options] of layouts) {
    it(`${name} → requireRoles, requireAnyRole see both roles`, async () => {
      const auth = await contextFor(claims, options);
      assert.equal(await allows(requireRoles('admin', 'support'), auth), true);
      assert.equal(await allows(requireAnyRole('auditor', 'support'), auth), true);
      assert.equal(await allows(requireRoles('admin', 'auditor'), auth), false);
      assert.equal(await allows(requireAnyRole('auditor'), auth), false);
    });
  }

  it('Keycloak client roles of another client never count', async () => {
    const auth = await contextFor({ resource_access: { 'billing-api': { roles: ['admin'] } } }, { roleClaims: keycloakClient });
    assert.equal(await allows(requireRoles('admin'), auth), false);
  });
});

describe('guards: exact matching, bad claim shapes', () => {
  it('scopes with tabs, newlines and doubled spaces are split into exact entries', async () => {
    const auth = await contextFor({ scope: ' orders:read\t\torders:write  \n orders:list ' });
    assert.deepEqual([...auth.scopes], ['orders:read', 'orders:write', 'orders:list']);
    assert.equal(await allows(requireScopes('orders:read', 'orders:write', 'orders:list'), auth), true);
  });

  it('prefixes, suffixes and case never match: read ≠ readonly, admin ≠ superadmin, Orders:Read ≠ orders:read', async () => {
    const auth = await contextFor({ scope: 'readonly Orders:Read', roles: ['superadmin', 'Admin'] });
    assert.equal(await allows(requireScopes('read'), auth), false);
    assert.equal(await allows(requireAnyScope('orders:read', 'only'), auth), false);
    assert.equal(await allows(requireRoles('admin'), auth), false);
    assert.equal(await allows(requireAnyRole('super', 'admin'), auth), false);
  });

  it('a scope string that holds several scopes is never one scope: "a b" in an array stays one entry', async () => {
    const auth = await contextFor({ scp: ['orders:read orders:write'] });
    assert.equal(await allows(requireScopes('orders:read'), auth), false);
  });

  it('numbers, booleans, objects and nulls grant nothing; strings in a mixed array still count', async () => {
    const auth = await contextFor({ scope: 42, scp: [7, true, null, { 'orders:admin': true }, 'orders:read'], permissions: { 'orders:write': true } });
    assert.deepEqual([...auth.scopes], ['orders:read']);
    assert.equal(await allows(requireAnyScope('42', '7', 'true', 'orders:admin', 'orders:write'), auth), false);
  });

  it('a role claim that is a string instead of an array counts as that one role, and still matches exactly', async () => {
    const auth = await contextFor({ roles: 'admin' });
    assert.equal(await allows(requireRoles('admin'), auth), true);
    const superadmin = await contextFor({ roles: 'superadmin' });
    assert.equal(await allows(requireRoles('admin'), superadmin), false);
  });

  it('nested claims missing halfway grant nothing and never throw', async () => {
    const shapes: Array<Record<string, unknown>> = [
      { realm_access: null },
      { realm_access: 'admin' },
      { realm_access: ['roles', 'admin'] },
      { realm_access: { roles: null } },
      { realm_access: { role: ['admin'] } },
      { realm_access: [{ roles: ['admin'] }] },
    ];
    for (const claims of shapes) {
      const auth = await contextFor(claims);
      assert.equal(await allows(requireRoles('admin'), auth), false, JSON.stringify(claims));
      assert.equal(
        await allows(
          requireClaim(['realm_access', 'roles'], () => true),
          auth,
        ),
        false,
        JSON.stringify(claims),
      );
    }
  });

  it('a payload key __proto__ is an own, inert claim: its contents never grant', async () => {
    const auth = await contextForRaw(
      `{"exp":${exp()},"__proto__":{"scope":"orders:admin","roles":["admin"]},"realm_access":{"__proto__":{"roles":["admin"]}}}`,
    );
    assert.equal(Object.getPrototypeOf(auth.claims), Object.prototype, 'the prototype was not replaced');
    assert.deepEqual([...auth.scopes], []);
    assert.deepEqual([...auth.roles], []);
    assert.equal(await allows(requireScopes('orders:admin'), auth), false);
    assert.equal(await allows(requireRoles('admin'), auth), false);
    assert.equal(({} as Record<string, unknown>).scope, undefined, 'Object.prototype is untouched');
  });

  it('scopes and roles named after prototype members are plain strings: granted only when present', async () => {
    const none = await contextFor({});
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      assert.equal(await allows(requireScopes(name), none), false, name);
      assert.equal(await allows(requireRoles(name), none), false, name);
    }
    const present = await contextFor({ scope: 'constructor', constructor: { roles: ['admin'] } });
    assert.equal(await allows(requireScopes('constructor'), present), true);
    assert.equal(await allows(requireRoles('admin'), present), false);
  });

  it('duplicate JSON keys: the guard sees exactly what jose decodes (the last value)', async () => {
    const json = `{"exp":${exp()},"scope":"orders:admin","scope":"orders:read","roles":["admin"],"roles":["user"],"tenant":"acme","tenant":"evil"}`;
    const token = await idp.signRaw(json);
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const auth = (await authenticator.authenticate(token, METHOD)).context;
    const joseView = decodeJwt(token);
    assert.deepEqual([...auth.scopes], String(joseView.scope).split(' '));
    assert.deepEqual([...auth.roles], joseView.roles);
    assert.equal(auth.claims.tenant, joseView.tenant);
    assert.equal(await allows(requireScopes('orders:read'), auth), true);
    assert.equal(await allows(requireScopes('orders:admin'), auth), false);
    assert.equal(await allows(requireRoles('admin'), auth), false);
    assert.equal(await allows(requireClaim('tenant', 'acme'), auth), false);
  });
});

describe('guards: requireClaim', () => {
  it('a value: exact ===, or contained in an array claim', async () => {
    const auth = await contextFor({ tenant: 'acme', level: 3, verified: true, amr: ['pwd', 'mfa'] });
    assert.equal(await allows(requireClaim('tenant', 'acme'), auth), true);
    assert.equal(await allows(requireClaim('tenant', 'ACME'), auth), false);
    assert.equal(await allows(requireClaim('level', 3), auth), true);
    assert.equal(await allows(requireClaim('level', '3'), auth), false, 'no type coercion');
    assert.equal(await allows(requireClaim('verified', true), auth), true);
    assert.equal(await allows(requireClaim('amr', 'mfa'), auth), true);
    assert.equal(await allows(requireClaim('amr', 'otp'), auth), false);
    assert.equal(await allows(requireClaim('missing', 'x'), auth), false);
  });

  it('a name with dots and colons is one claim; an array is a nested path', async () => {
    const auth = await contextFor({ 'https://acme.example/tenant': 'acme', org: { id: 'o-1', 'a.b': 'dotted' } });
    assert.equal(await allows(requireClaim('https://acme.example/tenant', 'acme'), auth), true);
    assert.equal(await allows(requireClaim(['org', 'id'], 'o-1'), auth), true);
    assert.equal(await allows(requireClaim('org.id', 'o-1'), auth), false, 'a string is never split on dots');
    assert.equal(await allows(requireClaim(['org', 'a.b'], 'dotted'), auth), true);
  });

  it('a predicate must return literal true; it sees the value and the context; a missing or null claim never reaches it', async () => {
    const auth = await contextFor({ sub: 'alice', age: 30, owner: 'alice', nothing: null });
    let calls = 0;
    const owner = requireClaim('owner', (value, context) => {
      calls += 1;
      return value === context.subject;
    });
    assert.equal(await allows(owner, auth), true);
    assert.equal(
      await allows(
        requireClaim('age', (value) => typeof value === 'number' && value >= 18),
        auth,
      ),
      true,
    );
    assert.equal(await allows(requireClaim('age', (() => 1) as unknown as () => boolean), auth), false, 'truthy is not true');
    assert.equal(
      await allows(
        requireClaim('nope', () => {
          calls += 100;
          return true;
        }),
        auth,
      ),
      false,
    );
    assert.equal(
      await allows(
        requireClaim('nothing', () => {
          calls += 100;
          return true;
        }),
        auth,
      ),
      false,
    );
    assert.equal(calls, 1);
  });

  it('constructor, __proto__ and prototype in a claim path throw at construction', () => {
    for (const claim of ['constructor', '__proto__', 'prototype', ['realm_access', '__proto__'], ['constructor', 'name']]) {
      assert.throws(() => requireClaim(claim as ClaimPath, 'x'), { code: 'ERR_AUTH_INVALID_OPTION', option: 'requireClaim(claim)' });
    }
  });

  it('a missing constructor claim never satisfies a predicate that accepts anything', async () => {
    const auth = await contextFor({});
    assert.equal(
      await allows(
        requireClaim(['a', 'b'], () => true),
        auth,
      ),
      false,
    );
    assert.equal(
      await allows(
        requireClaim('toString', () => true),
        auth,
      ),
      false,
    );
  });
});

describe('guards: allOf and anyOf', () => {
  const yes: Guard = () => true;
  const no: Guard = () => ({ allowed: false, message: 'no', requiredScopes: ['s:no'] });
  const later =
    (result: GuardResult): Guard =>
    async () =>
      result;

  it('allOf: every guard must allow; the first refusal is returned and later guards do not run', async () => {
    const auth = await contextFor({});
    let ran = false;
    const spy: Guard = () => {
      ran = true;
      return true;
    };
    assert.equal(await allOf(yes, later(true), yes)(auth, info), true);
    const result = await allOf(yes, no, spy)(auth, info);
    assert.deepEqual(result, { allowed: false, message: 'no', requiredScopes: ['s:no'] });
    assert.equal(ran, false);
    assert.equal(((await allOf(yes, later(false))(auth, info)) as { allowed: boolean }).allowed, false);
  });

  it('anyOf: one allowing guard is enough; a refusal lists every message and every named scope', async () => {
    const auth = await contextFor({ scope: 'orders:read' });
    assert.equal(await anyOf(no, later(true))(auth, info), true);
    assert.equal(await anyOf(requireScopes('orders:admin'), requireScopes('orders:read'))(auth, info), true);
    const result = await anyOf(requireScopes('orders:admin'), later(false), requireAnyScope('orders:root', 'orders:admin'))(auth, info);
    assert.equal(typeof result, 'object');
    assert.deepEqual((result as GuardDenial).requiredScopes, ['orders:admin', 'orders:root']);
  });

  it('synchronous guards stay synchronous through the combinators (no promise on the hot path)', async () => {
    const auth = await contextFor({ scope: 'a' });
    assert.equal(allOf(requireScopes('a'), anyOf(requireScopes('b'), requireScopes('a')))(auth, info), true);
    assert.equal(typeof allOf(requireScopes('b'))(auth, info), 'object');
  });

  it('undefined or a truthy non-true result refuses (fail closed)', async () => {
    const auth = await contextFor({});
    const sloppy = [(() => undefined) as unknown as Guard, (() => 1) as unknown as Guard, (() => ({ allowed: true })) as unknown as Guard];
    for (const guard of sloppy) {
      assert.notEqual(await allOf(guard)(auth, info), true);
      assert.notEqual(await anyOf(guard)(auth, info), true);
      assert.equal((await refusal(guard, auth))?.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
    }
  });

  it('nest: anyOf(allOf(...), ...) composes', async () => {
    const support = await contextFor({ roles: ['support'], tenant: 'acme' });
    const other = await contextFor({ roles: ['support'], tenant: 'evil' });
    const guard = anyOf(requireScopes('orders:admin'), allOf(requireRoles('support'), requireClaim('tenant', 'acme')));
    assert.equal(await allows(guard, support), true);
    assert.equal(await allows(guard, other), false);
  });
});

describe('guards: denials and enforcement', () => {
  it('requireScopes names every required scope, requireAnyScope every accepted one', async () => {
    const auth = await contextFor({ scope: 'orders:read' });
    const all = requireScopes('orders:read', 'orders:write')(auth, info);
    assert.deepEqual(all, { allowed: false, message: 'missing scope orders:write', requiredScopes: ['orders:read', 'orders:write'] });
    const any = requireAnyScope('orders:write', 'orders:admin')(auth, info) as GuardDenial;
    assert.deepEqual(any.requiredScopes, ['orders:write', 'orders:admin']);
  });

  it('judgeGuard: a denial → ERR_AUTH_INSUFFICIENT_SCOPE (PERMISSION_DENIED) with requiredScopes; a sync guard is judged synchronously', async () => {
    const auth = await contextFor({});
    const verdict = judgeGuard(requireScopes('orders:write'), auth, info);
    assert.equal(verdict instanceof Promise, false, 'no promise for a synchronous guard');
    const error = refusalOf(verdict as GuardVerdict);
    assert.equal(error?.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
    assert.equal(error?.status, 7);
    assert.deepEqual(error?.requiredScopes, ['orders:write']);
    assert.equal(
      judgeGuard(() => true, auth, info),
      true,
    );
  });

  it('judgeGuard: a thrown AuthError passes through, any other throw is INTERNAL, also when async; it never throws itself', async () => {
    const auth = await contextFor({});
    const throwing = (error: unknown): Guard[] => [
      () => {
        throw error;
      },
      async () => {
        throw error;
      },
    ];
    for (const guard of throwing(new AuthError('ERR_AUTH_ACCESS_DENIED'))) assert.equal((await refusal(guard, auth))?.code, 'ERR_AUTH_ACCESS_DENIED');
    for (const guard of throwing(new Error('db down'))) assert.equal((await refusal(guard, auth))?.code, 'ERR_AUTH_INTERNAL');
  });

  it('judgeGuard: a thenable that is no promise is awaited; a throwing then getter or denial getter is INTERNAL, sync and async', async () => {
    const auth = await contextFor({});
    const thenable = (value: unknown) => ({ then: (resolve: (settled: unknown) => void) => resolve(value) });
    assert.equal(await judgeGuard((() => thenable(true)) as unknown as Guard, auth, info), true);
    assert.equal((await refusal((() => thenable(false)) as unknown as Guard, auth))?.code, 'ERR_AUTH_INSUFFICIENT_SCOPE');
    const throwingThen = {
      get then(): never {
        throw new Error('then getter');
      },
    };
    const throwingDenial = {
      allowed: false,
      get message(): never {
        throw new Error('message getter');
      },
    };
    for (const result of [throwingThen, throwingDenial, Promise.resolve(throwingDenial)]) {
      const verdict = judgeGuard((() => result) as unknown as Guard, auth, info);
      assert.equal((await verdict) instanceof AuthError, true);
      assert.equal(refusalOf(await verdict)?.code, 'ERR_AUTH_INTERNAL');
    }
  });

  it('allOf and anyOf: an inner guard that throws makes the combinator fail with its error (a bug is never outvoted)', async () => {
    const auth = await contextFor({ scope: 'a' });
    const broken: Guard = () => {
      throw new Error('db down');
    };
    const brokenLater: Guard = async () => {
      throw new AuthError('ERR_AUTH_ACCESS_DENIED');
    };
    assert.equal((await refusal(anyOf(broken, requireScopes('a')), auth))?.code, 'ERR_AUTH_INTERNAL');
    assert.equal((await refusal(allOf(requireScopes('a'), broken), auth))?.code, 'ERR_AUTH_INTERNAL');
    assert.equal((await refusal(anyOf(requireScopes('b'), brokenLater, requireScopes('a')), auth))?.code, 'ERR_AUTH_ACCESS_DENIED');
    assert.equal((await refusal(allOf(brokenLater, requireScopes('a')), auth))?.code, 'ERR_AUTH_ACCESS_DENIED');
  });

  it('requiredScopes a custom guard builds from token content are filtered to well-formed scopes', async () => {
    const auth = await contextFor({});
    const echoing: Guard = () => ({ allowed: false, message: 'x', requiredScopes: ['ok:scope', 'bad" scope="x', 'a\r\nb'] });
    assert.deepEqual((await refusal(echoing, auth))?.requiredScopes, ['ok:scope']);
  });
});

describe('guards: configuration mistakes throw at construction, naming the guard', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['requireScopes()', () => requireScopes(), 'requireScopes'],
    ['requireScopes with a space inside', () => requireScopes('orders:read orders:write'), 'requireScopes[0]'],
    ['requireScopes with a tab', () => requireScopes('ok', 'a\tb'), 'requireScopes[1]'],
    ['requireScopes with a quote', () => requireScopes('a"b'), 'requireScopes[0]'],
    ['requireScopes with an empty string', () => requireScopes(''), 'requireScopes[0]'],
    ['requireScopes with an array', () => requireScopes(['a'] as never), 'requireScopes[0]'],
    ['requireScopes with a number', () => requireScopes(5 as never), 'requireScopes[0]'],
    ['requireAnyScope()', () => requireAnyScope(), 'requireAnyScope'],
    ['requireRoles()', () => requireRoles(), 'requireRoles'],
    ['requireRoles with a blank role', () => requireRoles('  '), 'requireRoles[0]'],
    ['requireAnyRole with null', () => requireAnyRole(null as never), 'requireAnyRole[0]'],
    ['requireClaim with an empty name', () => requireClaim('', 'x'), 'requireClaim(claim)'],
    ['requireClaim with an empty path', () => requireClaim([], 'x'), 'requireClaim(claim)'],
    ['requireClaim with an object value', () => requireClaim('tenant', { id: 1 } as never), 'requireClaim(value)'],
    ['requireClaim with undefined', () => requireClaim('tenant', undefined as never), 'requireClaim(value)'],
    ['requireClaim with NaN', () => requireClaim('tenant', Number.NaN), 'requireClaim(value)'],
    ['allOf()', () => allOf(), 'allOf'],
    ['anyOf with a string', () => anyOf('public' as never), 'anyOf[0]'],
  ];
  for (const [name, create, option] of cases) {
    it(`${name} → AuthConfigError naming ${option}`, () => {
      assert.throws(create, { code: 'ERR_AUTH_INVALID_OPTION', option });
    });
  }
});
