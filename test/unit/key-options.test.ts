import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import * as api from '../../src/index.ts';
import { AuthConfigError, fromIssuer, fromJwks, type KeyResolver } from '../../src/index.ts';

const JWKS_URL = 'https://idp.example/.well-known/jwks.json';
const ISSUER = 'https://idp.example/';
const isConfigError = (option: string) => (error: unknown) => error instanceof AuthConfigError && error.option === option;

/** Both remote factories, built with the same options and closed at once (nothing is fetched). */
const remoteFactories: ReadonlyArray<[string, (options: object) => KeyResolver]> = [
  ['fromJwks', (options) => fromJwks(JWKS_URL, options)],
  ['fromIssuer', (options) => fromIssuer(ISSUER, options)],
];

describe('remote key options: every duration is a number of seconds', () => {
  it('fromJwks and fromIssuer take timeout, cacheMaxAge, minCacheMaxAge, maxCacheMaxAge, cooldown and staleIfError in seconds, fractions allowed', () => {
    const options = { timeout: 2.5, cacheMaxAge: 300, minCacheMaxAge: 0.5, maxCacheMaxAge: 3600, cooldown: 10, staleIfError: 1800 };
    for (const [name, build] of remoteFactories) assert.doesNotThrow(() => build(options).close?.(), name);
  });

  it('a millisecond count left in after the rename is refused where it is out of range: timeout 5000, cooldown 30000, staleIfError 3600000, cacheMaxAge 600000', () => {
    const cases: Array<[string, number]> = [
      ['timeout', 5000],
      ['cooldown', 30_000],
      ['staleIfError', 3_600_000],
      ['cacheMaxAge', 600_000],
      ['minCacheMaxAge', 600_000],
    ];
    for (const [, build] of remoteFactories) {
      for (const [option, value] of cases) assert.throws(() => build({ [option]: value }), isConfigError(option), option);
    }
  });

  it('the old millisecond names are unknown options, named in the error', () => {
    for (const option of ['timeoutMs', 'cacheMaxAgeMs', 'minCacheMaxAgeMs', 'maxCacheMaxAgeMs', 'cooldownMs', 'staleIfErrorMs']) {
      for (const [, build] of remoteFactories) assert.throws(() => build({ [option]: 1000 }), isConfigError(option), option);
    }
  });
});

describe('remote key options: one list of algorithms', () => {
  it('fromIssuer has no algorithms option of its own: the verification allowlist is the one list', () => {
    assert.throws(() => fromIssuer(ISSUER, { algorithms: ['RS256'] } as never), isConfigError('algorithms'));
  });
});

describe('local key sets take no options', () => {
  it('fromJwks(jwks, options) is refused: the options of a fetched set would be ignored in silence', () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    assert.doesNotThrow(() => fromJwks({ keys: [jwk] }));
    const untyped = fromJwks as (source: unknown, options?: unknown) => KeyResolver;
    assert.throws(() => untyped({ keys: [jwk] }, { cooldown: 1 }), isConfigError('options'));
  });
});

describe('public entry: only user-facing names', () => {
  it('PUBLIC_KEY_ALGORITHMS and the option-name lists are not exported', () => {
    for (const name of ['PUBLIC_KEY_ALGORITHMS', 'REMOTE_JWKS_OPTION_NAMES', 'REMOTE_FETCH_OPTION_NAMES']) assert.equal(name in api, false, name);
  });
});
