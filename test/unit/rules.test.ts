import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as api from '../../src/index.ts';
import {
  createAuthInterceptor,
  fromSecret,
  requireScopes,
  type AuthInterceptorOptions,
  type Guard,
  type RuleMap,
  type ServiceSource,
} from '../../src/index.ts';
import { compileRules } from '../../src/authz/rules.ts';
import { EchoClient, EchoService, PublicService, echoPackageDefinition } from '../support/echo-server.ts';

const guard: Guard = requireScopes('echo:read');
const keys = fromSecret('x'.repeat(32));
const isConfigError = (option: string) => (error: { code?: string; option?: string }) => error.code === 'ERR_AUTH_INVALID_OPTION' && error.option === option;

/** The one way to check rules against the services: the interceptor's options, at construction. */
function createWithServices(rules: RuleMap, services: ServiceSource | readonly ServiceSource[], more: Partial<AuthInterceptorOptions> = {}): void {
  createAuthInterceptor({ keys, algorithms: ['HS256'], rules, services, ...more });
}

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

  it("rules['*'] → AuthConfigError naming it, whose message points to defaultRule (one way to set the fallback)", () => {
    for (const defaultRule of [undefined, 'deny' as const]) {
      assert.throws(
        () => createAuthInterceptor({ keys, algorithms: ['HS256'], rules: { '*': 'public', '/a.S/M': 'optional' }, ...(defaultRule ? { defaultRule } : {}) }),
        (error: Error & { code?: string; option?: string }) => {
          assert.equal(error.code, 'ERR_AUTH_INVALID_OPTION');
          assert.equal(error.option, 'rules["*"]');
          assert.match(error.message, /defaultRule/);
          return true;
        },
      );
    }
  });

  it("defaultRule defaults to 'authenticated'; 'deny' fails closed", () => {
    assert.equal(compileRules(undefined, undefined).ruleFor('/a.S/M'), 'authenticated');
    assert.equal(compileRules({}, 'deny').ruleFor('/a.S/M'), 'deny');
  });

  it('covers(): true only when a pattern, not the default, matches', () => {
    assert.equal(table.covers('/acme.orders.v1.Orders/Anything'), true);
    assert.equal(table.covers('/acme.billing.v1.Billing/Pay'), false);
    assert.equal(compileRules({}, 'public').covers('/any.S/M'), false, 'defaultRule covers nothing');
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

  it('unknown rule names, non-functions, a catch-all pattern and a rules array throw', () => {
    assert.throws(() => compileRules({ '/a.S/M': 'Public' as never }, undefined), isConfigError('rules["/a.S/M"]'));
    assert.throws(() => compileRules({ '/a.S/M': ['public'] as never }, undefined), isConfigError('rules["/a.S/M"]'));
    assert.throws(() => compileRules({ '/a.S/M': undefined as never }, undefined), isConfigError('rules["/a.S/M"]'));
    assert.throws(() => compileRules({}, 'allow' as never), isConfigError('defaultRule'));
    assert.throws(() => compileRules({ '*': 'public' }, undefined), isConfigError('rules["*"]'));
    assert.throws(() => compileRules([] as never, undefined), isConfigError('rules'));
  });
});

describe('rules: typo protection against the service definitions', () => {
  const services = [EchoService, PublicService];

  it('rules naming existing methods and services pass, from every kind of source', () => {
    const rules: RuleMap = { '/test.echo.v1.Echo/Unary': guard, '/test.echo.v1.Public/*': 'public' };
    createWithServices(rules, services);
    createWithServices(rules, echoPackageDefinition);
    createWithServices(rules, [EchoClient, PublicService]);
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
        () => createWithServices(rules, services),
        (error: Error & { option?: string }) => {
          assert.equal(error.option, `rules[${JSON.stringify(pattern)}]`);
          assert.match(error.message, new RegExp(message));
          return true;
        },
      );
    });
  }

  it('strictRules: a method no pattern covers throws, even with a defaultRule; a service-wide rule covers', () => {
    assert.throws(
      () => createWithServices({ '/test.echo.v1.Echo/*': guard }, services, { strictRules: true, defaultRule: 'deny' }),
      (error: Error & { option?: string }) => {
        assert.equal(error.option, 'strictRules');
        assert.match(error.message, /\/test\.echo\.v1\.Public\/Ping/);
        return true;
      },
    );
    createWithServices({ '/test.echo.v1.Echo/*': guard, '/test.echo.v1.Public/Ping': 'public' }, services, { strictRules: true });
    createWithServices({ '/test.echo.v1.Echo/*': guard }, services, { strictRules: false });
  });

  it('sources that list no method, or are not sources at all, throw instead of turning the check off', () => {
    assert.throws(() => createWithServices({}, []), isConfigError('services'));
    assert.throws(() => createWithServices({}, {}), isConfigError('services'));
    assert.throws(() => createWithServices({}, 'test.echo.v1.Echo' as never), isConfigError('services'));
    assert.throws(() => createWithServices({}, [EchoService, null as never]), isConfigError('services[1]'));
    assert.throws(() => createWithServices({}, { 'test.echo.v1.Echo': { Unary: { path: 'Unary' } } } as never), isConfigError('services'));
    assert.throws(() => createWithServices({}, EchoService, { strictRules: 'yes' as never }), isConfigError('strictRules'));
  });
});

describe('the public surface: one way per idea', () => {
  it('checkRules and compileRules are not exported: the interceptor options services and strictRules are the one way', () => {
    for (const name of ['checkRules', 'compileRules']) assert.equal(name in api, false, name);
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
