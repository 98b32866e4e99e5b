/**
 * Log messages quote values taken from tokens (an unknown `iss`, a bad `exp`): they must not carry a
 * control, bidi or separator character that a log viewer or terminal would act on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, fromSecret, isAuthError } from '../../src/index.ts';
import { describeForLog } from '../../src/errors.ts';
import { hasUnsafeText } from '../../src/unsafe-text.ts';
import { HOSTILE, hostile, unsignedToken } from '../support/hostile-text.ts';

describe('log messages quoting token values', () => {
  it('describeForLog escapes C1, bidi controls and U+2028 that JSON.stringify leaves raw', () => {
    for (const text of Object.values(HOSTILE)) assert.equal(hasUnsafeText(describeForLog(text)), false, JSON.stringify(text));
    assert.equal(hasUnsafeText(describeForLog({ [HOSTILE.rlo]: [HOSTILE.c1Csi] })), false);
  });

  it('a refusal of a token with a hostile iss, typ and exp has a log message with no unsafe character', async () => {
    const authenticator = createAuthenticator({
      keys: fromSecret('a-secret-of-thirty-two-bytes-or-more!'),
      algorithms: ['HS256'],
      issuer: 'https://idp.example/',
      typ: 'at+jwt',
    });
    const tokens = [unsignedToken({ alg: hostile('HS256') }, { exp: 4e9 }), unsignedToken({ alg: 'HS256', kid: 7 }, { exp: 4e9 })];
    for (const token of tokens) {
      await assert.rejects(
        Promise.resolve().then(() => authenticator.authenticate(token, '/p.S/M')),
        (error: unknown) => {
          assert.ok(isAuthError(error));
          assert.equal(hasUnsafeText(error.message), false, error.message);
          return true;
        },
      );
    }
  });
});
