/**
 * Every verification option is checked at construction, by name: a wrong type or range throws an
 * AuthConfigError naming the option (with its path inside `issuers[]` or `cache`), never a call later.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError, createAuthenticator, type AuthenticatorOptions } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { AUTHENTICATOR_OPTION_NAMES } from '../../src/verify/authenticator.ts';

/** The option an AuthConfigError names, or what happened instead. */
function refusedOption(options: AuthenticatorOptions): string {
  try {
    createAuthenticator(options);
    return 'accepted';
  } catch (error) {
    return error instanceof AuthConfigError ? error.option : `not an AuthConfigError: ${String(error)}`;
  }
}

const WRONG: ReadonlyArray<readonly [string, unknown]> = [
  ['issuer', []],
  ['audience', 5],
  ['audience', ['']],
  ['subject', ''],
  ['subject', 5],
  ['typ', 'application/'],
  ['typ', 7],
  ['requiredClaims', 'tenant'],
  ['requiredClaims', ['']],
  ['requireExp', 'false'],
  ['clockTolerance', 301],
  ['clockTolerance', '60'],
  ['maxTokenAge', -1],
  ['scopeClaims', 5],
  ['roleClaims', {}],
  ['validate', 'yes'],
  ['certificateBinding', 'on'],
  ['dpopBinding', 'off'],
];

describe('verify options: a wrong value is refused by name', () => {
  it('every option with a wrong type or range → AuthConfigError naming it, at the top level and inside issuers[0]', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    for (const [name, value] of WRONG) {
      assert.equal(refusedOption({ keys: idp.keys, algorithms: ['HS256'], [name]: value }), name, `${name}: ${JSON.stringify(value)}`);
      if (name === 'issuer') continue;
      const entry = { issuer: 'https://idp.example/', keys: idp.keys, algorithms: ['HS256'], [name]: value };
      assert.equal(refusedOption({ issuers: [entry as never] }), `issuers[0].${name}`, `issuers[0].${name}: ${JSON.stringify(value)}`);
    }
  });

  it('with issuers, a wrong top-level default → AuthConfigError naming the top-level option, where it was written', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const entry = { issuer: 'https://idp.example/', keys: idp.keys, algorithms: ['HS256'] as const };
    for (const [name, value] of WRONG) {
      if (name === 'issuer') continue; // refused at the top level beside issuers, whatever its value
      assert.equal(refusedOption({ issuers: [entry], [name]: value }), name, `top-level ${name}: ${JSON.stringify(value)}`);
      // The same value inside an entry is still named by the entry's path.
      assert.equal(refusedOption({ issuers: [{ ...entry, [name]: value } as never], [name]: undefined }), `issuers[0].${name}`, `issuers[0].${name}`);
    }
    // A nested path keeps its top-level name too.
    assert.equal(refusedOption({ issuers: [entry], scopeClaims: [['org', '__proto__']] }), 'scopeClaims[0]');
    // What only an entry can give (keys, algorithms) is named in the entry when it is missing.
    assert.equal(refusedOption({ issuers: [{ issuer: entry.issuer, algorithms: ['HS256'] } as never] }), 'issuers[0].keys');
    assert.equal(refusedOption({ issuers: [{ issuer: entry.issuer, keys: idp.keys } as never] }), 'issuers[0].algorithms');
    assert.equal(refusedOption({ issuers: [entry, { issuer: 'https://b.example/', keys: idp.keys } as never] }), 'issuers[1].algorithms');
  });

  it('maxTokenBytes, clock and cache (top level only) → AuthConfigError naming them', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const base = { keys: idp.keys, algorithms: ['HS256'] as const };
    const cases: ReadonlyArray<readonly [string, Partial<Record<keyof AuthenticatorOptions, unknown>>]> = [
      ['maxTokenBytes', { maxTokenBytes: 63 }],
      ['maxTokenBytes', { maxTokenBytes: 2048.5 }],
      ['clock', { clock: 1_800_000_000_000 }],
      ['cache', { cache: [] }],
      ['cache', { cache: true }],
      ['cache.maxEntries', { cache: { maxEntries: 2.5 } }],
      ['cache.maxTtl', { cache: { maxTtl: 0 } }],
      ['cache.maxTtl', { cache: { maxTtl: '300' } }],
    ];
    for (const [option, given] of cases) assert.equal(refusedOption({ ...base, ...given } as AuthenticatorOptions), option, JSON.stringify(given));
  });

  it('the authenticator knows exactly the options of AuthenticatorOptions (the interceptor adds its own to these)', () => {
    assert.deepEqual([...AUTHENTICATOR_OPTION_NAMES].sort(), [
      'algorithms',
      'audience',
      'cache',
      'certificateBinding',
      'clock',
      'clockTolerance',
      'dpopBinding',
      'issuer',
      'issuers',
      'keys',
      'maxConcurrentVerifications',
      'maxTokenAge',
      'maxTokenBytes',
      'requireExp',
      'requiredClaims',
      'revocations',
      'roleClaims',
      'scopeClaims',
      'subject',
      'typ',
      'validate',
    ]);
  });
});
