import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRules, compileRules, createAuthInterceptor, fromSecret, requireScopes, type Guard, type RuleMap } from '../../src/index.ts';
import { EchoClient, EchoService, PublicService, echoPackageDefinition } from '../support/echo-server.ts';

const guard: Guard = requireScopes('echo:read');
const keys = fromSecret('x'.repeat(32));
const isConfigError = (option: string) => (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option;

describe('rules: matching and specificity', () => {
  const table = compileRules(
    {
      '/acme.orders.v1.Orders/GetOrder': guard,
      '/acme.orders.v1.Orders/*': 'deny',
      '/grpc.health.v1.Health/*': 'public',
      '/acme.orders.v1.Orders/Ping': 'optional',
    },
    'authenticated',
  );

  it('exact path beats service-wide, service-wide beats the default', () => {
    assert.equal(table.ruleFor('/acme.orders.v1.Orders/GetOrder'), guard);
    assert.equal(table.ruleFor('/acme.orders.v1.Orders/Ping'), 'optional');
    assert.equal(table.ruleFor('/acme.orders.v1.Orders/DeleteOrder'), 'deny');
    assert.equal(table.ruleFor('/grpc.health.v1.Health/Check'), 'public');
    assert.equal(table.ruleFor('/acme.billing.v1.Billing/Pay'), 'authenticated');
  });

  it('matching is exact: case, prefixes and sub-packages never match', () => {
    assert.equal(table.ruleFor('/acme.orders.v1.Orders/getorder'), 'deny', 'method names are case-sensitive');
    assert.equal(table.ruleFor('/acme.orders.v1.orders/GetOrder'), 'authenticated');
    assert.equal(table.ruleFor('/acme.orders.v1.OrdersAdmin/GetOrder'), 'authenticated');
    assert.equal(table.ruleFor('/grpc.health.v1.Health.Evil/Check'), 'authenticated');
    assert.equal(table.ruleFor('/x.acme.orders.v1.Orders/GetOrder'), 'authenticated');
  });

  it("'*' beats the default but loses to any service or method pattern", () => {
    const everything = compileRules({ '*': 'deny', '/a.S/*': 'public', '/a.S/M': 'optional' }, undefined);
    assert.equal(everything.ruleFor('/a.S/M'), 'optional');
    assert.equal(everything.ruleFor('/a.S/N'), 'public');
    assert.equal(everything.ruleFor('/b.T/M'), 'deny');
  });

  it("defaultRule defaults to 'authenticated'; 'deny' fails closed", () => {
    assert.equal(compileRules(undefined, undefined).ruleFor('/a.S/M'), 'authenticated');
    assert.equal(compileRules({}, 'deny').ruleFor('/a.S/M'), 'deny');
  });

  it('covers(): true only when a pattern, not the default, matches', () => {
    assert.equal(table.covers('/acme.orders.v1.Orders/Anything'), true);
    assert.equal(table.covers('/acme.billing.v1.Billing/Pay'), false);
    assert.equal(compileRules({ '*': 'public' }, undefined).covers('/any.S/M'), true);
  });
});

describe('rules: malformed patterns and rules throw at construction, naming the pattern', () => {
  const patterns = [
    'acme.orders.v1.Orders/GetOrder',
    '/acme.orders.v1.Orders/',
    '/acme.orders.v1.Orders',
    '/acme.orders.v1.Orders/GetOrder/',
    '//acme.orders.v1.Orders/GetOrder',
    '/acme.orders.v1.Orders/Get*',
    '/acme.orders.v1.*/GetOrder',
    '/acme.orders.v1.Orders/ GetOrder',
    '/acme.orders.v1.Orders/GetOrder ',
    '/acme..orders.Orders/GetOrder',
    '/*',
    '/*/*',
    '**',
    '',
  ];
  for (const pattern of patterns) {
    it(`${JSON.stringify(pattern)} → AuthConfigError`, () => {
      assert.throws(() => compileRules({ [pattern]: 'public' }, undefined), isConfigError(`rules[${JSON.stringify(pattern)}]`));
    });
  }

  it('unknown rule names, non-functions and both * and defaultRule throw', () => {
    assert.throws(() => compileRules({ '/a.S/M': 'Public' as never }, undefined), isConfigError('rules["/a.S/M"]'));
    assert.throws(() => compileRules({ '/a.S/M': ['public'] as never }, undefined), isConfigError('rules["/a.S/M"]'));
    assert.throws(() => compileRules({ '/a.S/M': undefined as never }, undefined), isConfigError('rules["/a.S/M"]'));
    assert.throws(() => compileRules({}, 'allow' as never), isConfigError('defaultRule'));
    assert.throws(() => compileRules({ '*': 'public' }, 'deny'), isConfigError('rules["*"]'));
    assert.throws(() => compileRules([] as never, undefined), isConfigError('rules'));
  });
});

describe('rules: typo protection against the service definitions', () => {
  const services = [EchoService, PublicService];

  it('rules naming existing methods and services pass, from every kind of source', () => {
    const rules: RuleMap = { '/test.echo.v1.Echo/Unary': guard, '/test.echo.v1.Public/*': 'public' };
    checkRules(rules, services);
    checkRules(rules, echoPackageDefinition);
    checkRules(rules, [EchoClient, PublicService]);
  });

  const typos: Array<[string, RuleMap, string]> = [
    ['a misspelt method', { '/test.echo.v1.Echo/Unry': guard }, 'no method Unry'],
    ['a method in the wrong case', { '/test.echo.v1.Echo/unary': guard }, 'did you mean Unary'],
    ['a misspelt service in an exact rule', { '/test.echo.v1.Ecko/Unary': guard }, 'no service test.echo.v1.Ecko'],
    ['a misspelt package in a service-wide rule', { '/test.echo.v2.Public/*': 'public' }, 'no service test.echo.v2.Public'],
    ['a service the server does not offer', { '/grpc.health.v1.Health/*': 'public' }, 'no service grpc.health.v1.Health'],
  ];
  for (const [name, rules, message] of typos) {
    it(`${name} → AuthConfigError naming the rule`, () => {
      const pattern = Object.keys(rules)[0] as string;
      assert.throws(
        () => checkRules(rules, services),
        (error: Error & { option?: string }) => {
          assert.equal(error.option, `rules[${JSON.stringify(pattern)}]`);
          assert.match(error.message, new RegExp(message));
          return true;
        },
      );
    });
  }

  it('strict: a method no pattern covers throws; a service-wide rule or * covers', () => {
    assert.throws(
      () => checkRules({ '/test.echo.v1.Echo/*': guard }, services, { strict: true }),
      (error: Error & { option?: string }) => {
        assert.equal(error.option, 'strict');
        assert.match(error.message, /\/test\.echo\.v1\.Public\/Ping/);
        return true;
      },
    );
    checkRules({ '/test.echo.v1.Echo/*': guard, '/test.echo.v1.Public/Ping': 'public' }, services, { strict: true });
    checkRules({ '*': 'deny' }, services, { strict: true });
    checkRules({ '/test.echo.v1.Echo/*': guard }, services, { strict: false });
  });

  it('sources that list no method, or are not sources at all, throw instead of turning the check off', () => {
    assert.throws(() => checkRules({}, []), isConfigError('services'));
    assert.throws(() => checkRules({}, {}), isConfigError('services'));
    assert.throws(() => checkRules({}, 'test.echo.v1.Echo' as never), isConfigError('services'));
    assert.throws(() => checkRules({}, [EchoService, null as never]), isConfigError('services[1]'));
    assert.throws(() => checkRules({}, { 'test.echo.v1.Echo': { Unary: { path: 'Unary' } } } as never), isConfigError('services'));
    assert.throws(() => checkRules({}, EchoService, { strict: 'yes' as never }), isConfigError('strict'));
  });
});

describe('interceptor options: services and strictRules', () => {
  const base = { keys, algorithms: ['HS256' as const] };

  it('a rule naming a method that does not exist throws at construction', () => {
    assert.throws(
      () => createAuthInterceptor({ ...base, rules: { '/test.echo.v1.Echo/Bidy': 'public' }, services: [EchoService, PublicService] }),
      isConfigError('rules["/test.echo.v1.Echo/Bidy"]'),
    );
  });

  it('strictRules: a method left to defaultRule throws; covering every method passes', () => {
    assert.throws(
      () => createAuthInterceptor({ ...base, rules: { '/test.echo.v1.Echo/*': guard }, services: echoPackageDefinition, strictRules: true }),
      isConfigError('strictRules'),
    );
    const auth = createAuthInterceptor({
      ...base,
      rules: { '/test.echo.v1.Echo/*': guard, '/test.echo.v1.Public/*': 'public' },
      services: echoPackageDefinition,
      strictRules: true,
    });
    assert.equal(typeof auth, 'function');
  });

  it('strictRules without services, or not a boolean, throws; services of the wrong shape throw', () => {
    assert.throws(() => createAuthInterceptor({ ...base, strictRules: true }), isConfigError('strictRules'));
    assert.throws(() => createAuthInterceptor({ ...base, strictRules: 1 as never, services: EchoService }), isConfigError('strictRules'));
    assert.throws(() => createAuthInterceptor({ ...base, services: 'test.echo.v1.Echo' as never }), isConfigError('services'));
  });

  it('misspelt option names still throw', () => {
    assert.throws(() => createAuthInterceptor({ ...base, strictRule: true } as never), isConfigError('strictRule'));
    assert.throws(() => createAuthInterceptor({ ...base, service: EchoService } as never), isConfigError('service'));
  });
});
