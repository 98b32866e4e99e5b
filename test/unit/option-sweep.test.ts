/**
 * A sweep over every option of every server-side factory: each option, given values of the wrong type
 * (and a symbol and a bigint, which no check expects and a careless `${value}` would choke on), throws an
 * AuthConfigError naming that option, at construction. The tables are typed against the options
 * interfaces, so an option added to an interface without a row here fails the type-check: no option
 * can be added without its check being tried.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthConfigError,
  createAuthInterceptor,
  createAuthenticator,
  fromIssuer,
  fromJwks,
  fromSecret,
  type AuthInterceptorOptions,
  type AuthenticatorOptions,
  type RemoteJwksOptions,
  type TokenCacheOptions,
} from '../../src/index.ts';

/** Every option of `O`, with values of the wrong type for it. */
type WrongValues<O> = { readonly [K in keyof Required<O>]: readonly unknown[] };

const ANYTHING_UNEXPECTED: readonly unknown[] = [Symbol('wrong'), 10n];
const NOT_A_FUNCTION = ['() => true', 1, {}, null];
const NOT_A_BOOLEAN = ['true', 1, 0, null, {}];
const NOT_A_NUMBER = ['60', Number.NaN, Number.POSITIVE_INFINITY, null, {}, true];

const INTERCEPTOR: WrongValues<AuthInterceptorOptions> = {
  keys: [{}, 'secret', null, [], { getKeys: () => [] }],
  algorithms: ['HS256', [], ['none'], [256], null, {}],
  issuer: [[], [''], '', 5, null],
  audience: [[], [''], '', 5, null, {}],
  subject: ['', 5, null, ['a']],
  typ: ['', 'application/', 7, null],
  requiredClaims: ['tenant', [''], [5], null, {}],
  requireExp: NOT_A_BOOLEAN,
  clockTolerance: [...NOT_A_NUMBER, -1, 301],
  maxTokenAge: [...NOT_A_NUMBER, -1],
  maxTokenBytes: [...NOT_A_NUMBER, 63, 2048.5],
  scopeClaims: ['scope', [''], [5], [['org', '__proto__']], null, {}],
  roleClaims: ['roles', [''], [5], null, {}],
  validate: NOT_A_FUNCTION,
  certificateBinding: ['Required', 'on', true, 1, null, {}],
  issuers: [[], 'https://idp.example/', null, {}, [null]],
  clock: [...NOT_A_FUNCTION, 1_800_000_000_000],
  cache: [true, [], 'off', 5, { maxEntries: 0 }, { maxTtl: '300' }],
  maxConcurrentVerifications: [...NOT_A_NUMBER, 0, 2.5, -1, 1_000_001],
  rules: ['authenticated', [], 5, { '*': 'deny' }, { '/p.S/M': 'publik' }, { 'p.S/M': 'public' }],
  defaultRule: ['Deny', '', 5, null, {}],
  services: [5, 'orders.proto', {}, [], [5]],
  strictRules: NOT_A_BOOLEAN,
  streamExpiry: ['END', 'never', true, 0, null],
  onAuthenticated: NOT_A_FUNCTION,
  onRejected: NOT_A_FUNCTION,
  telemetry: [true, 'otel', 1, null, [], { meterProvider: {} }, { tracerProvider: { getTracer: 1 } }, { recordSubject: 'yes' }, { meter: {} }],
  tokenFrom: [
    'Authorization',
    'cookie',
    '',
    5,
    null,
    [],
    {},
    { metadata: 'x-token', cookie: 's' },
    { header: 'x' },
    { metadata: 'x-token-bin' },
    { cookie: 'a b' },
  ],
  logger: ['console', 5, null, true, { warn: 'loud' }, { error: 1 }],
  clientCertificate: ['x-forwarded-client-cert', 5, null, {}],
  dpopBinding: ['Required', 'off', 'required', true, 1, null, {}],
  dpop: [
    true,
    'https://orders.example',
    [],
    5,
    null,
    {},
    { origins: [] },
    { origins: ['https://orders.example/api'] },
    { origins: ['https://a.test'], nonce: false },
  ],
  replayStore: [{}, true, 'memory', 5, null, new Map()],
  revocations: [{}, true, 'memory', 5, null, new Map(), { match: () => undefined, revoke: 1, unrevoke: () => false }],
};

const CACHE: WrongValues<TokenCacheOptions> = {
  maxEntries: [...NOT_A_NUMBER, 0, 2.5, 10_000_001],
  maxTtl: [...NOT_A_NUMBER, 0, -1],
};

const REMOTE: WrongValues<RemoteJwksOptions> = {
  timeout: [...NOT_A_NUMBER, 0, 5000],
  maxResponseBytes: [...NOT_A_NUMBER, 10, 1024.5],
  cacheMaxAge: [...NOT_A_NUMBER, 0, 600_000],
  minCacheMaxAge: [...NOT_A_NUMBER, 0, 600_000],
  maxCacheMaxAge: [...NOT_A_NUMBER, 0, 10_000_000],
  cooldown: [...NOT_A_NUMBER, 0, 30_000],
  staleIfError: [...NOT_A_NUMBER, -1, 3_600_000],
  allowInsecureHttp: NOT_A_BOOLEAN,
  tokensWithoutKid: ['never', 'TRY', true, 3, null],
  onEvent: NOT_A_FUNCTION,
  clock: NOT_A_FUNCTION,
  fetch: NOT_A_FUNCTION,
};

/** The option an AuthConfigError names, or what happened instead. */
function refusal(build: () => unknown): string {
  try {
    const built = build() as { close?: () => void } | undefined;
    built?.close?.();
    return 'accepted';
  } catch (error) {
    return error instanceof AuthConfigError ? error.option : `not an AuthConfigError: ${String(error)}`;
  }
}

/** The option itself, or a path inside it (`algorithms[0]`, `issuers[0]`, `cache.maxEntries`, `rules["*"]`). */
const names = (refused: string, option: string): boolean => refused === option || refused.startsWith(`${option}[`) || refused.startsWith(`${option}.`);

function sweep<O>(table: WrongValues<O>, build: (option: string, value: unknown) => unknown, prefix = ''): string[] {
  const misses: string[] = [];
  for (const [option, wrong] of Object.entries(table) as Array<[string, readonly unknown[]]>) {
    for (const value of [...wrong, ...ANYTHING_UNEXPECTED]) {
      const refused = refusal(() => build(option, value));
      if (!names(refused, `${prefix}${option}`)) misses.push(`${prefix}${option} = ${typeof value === 'symbol' ? 'a symbol' : String(value)}: ${refused}`);
    }
  }
  return misses;
}

describe('option sweep: every option of every server factory, given a wrong type, throws naming it', () => {
  const keys = fromSecret('x'.repeat(32));
  const base = { keys, algorithms: ['HS256'] as const };

  it('createAuthInterceptor: every option of AuthInterceptorOptions', () => {
    assert.deepEqual(
      sweep(INTERCEPTOR, (option, value) => createAuthInterceptor({ ...base, [option]: value } as AuthInterceptorOptions)),
      [],
    );
  });

  it('createAuthenticator: every option of AuthenticatorOptions (the interceptor options are unknown to it)', () => {
    const own = Object.fromEntries(
      Object.entries(INTERCEPTOR).filter(
        ([option]) =>
          !['rules', 'defaultRule', 'services', 'strictRules', 'streamExpiry', 'onAuthenticated', 'onRejected', 'telemetry', 'tokenFrom', 'logger'].includes(
            option,
          ),
      ),
    ) as WrongValues<AuthenticatorOptions>;
    assert.deepEqual(
      sweep(own, (option, value) => createAuthenticator({ ...base, [option]: value } as AuthenticatorOptions)),
      [],
    );
    assert.equal(
      refusal(() => createAuthenticator({ ...base, rules: {} } as AuthenticatorOptions)),
      'rules',
    );
  });

  it('cache: every option of TokenCacheOptions, named cache.<option>', () => {
    assert.deepEqual(
      sweep(CACHE, (option, value) => createAuthInterceptor({ ...base, cache: { [option]: value } }), 'cache.'),
      [],
    );
  });

  it('fromJwks(url, options) and fromIssuer(url, options): every option of RemoteJwksOptions', () => {
    assert.deepEqual(
      sweep(REMOTE, (option, value) => fromJwks('https://idp.example/jwks.json', { [option]: value })),
      [],
    );
    assert.deepEqual(
      sweep(REMOTE, (option, value) => fromIssuer('https://idp.example/', { [option]: value })),
      [],
    );
  });
});
