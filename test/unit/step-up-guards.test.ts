/**
 * Step-up guards without a server: argument checks at construction, the time they read, and what of a
 * (custom) step-up challenge can reach the `www-authenticate` trailer and ErrorInfo.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, encodeStatusDetails } from '../../src/errors/error-info.ts';
import {
  AuthConfigError,
  AuthError,
  allOf,
  anyOf,
  requireAcr,
  requireAuthTime,
  requireScopes,
  toGrpcError,
  type AuthContext,
  type Guard,
} from '../../src/index.ts';
import { stepUpChallenge } from '../../src/client/index.ts';
import { judgeGuard, refusalOf } from '../../src/authz/guard-verdict.ts';
import { rejectionStatus } from '../../src/server/rejection.ts';

const NOW = 2_000_000_000_000;
const info = { method: '/p.S/M', clock: () => NOW };
const authWith = (claims: Record<string, unknown>) => ({ claims, scopes: [], roles: [] }) as unknown as AuthContext;

function throwsNaming(build: () => unknown, option: string): void {
  assert.throws(build, (error: unknown) => error instanceof AuthConfigError && error.option === option, option);
}

describe('requireAcr: arguments', () => {
  it('no value, a value with a space, a quote, a backslash, a control, non-ASCII, too long, not a string, too many → AuthConfigError naming it', () => {
    throwsNaming(() => requireAcr(), 'requireAcr');
    for (const bad of ['a b', 'a"b', 'a\\b', 'a\nb', 'mfä', '', 'x'.repeat(257), 5, null])
      throwsNaming(() => requireAcr('mfa', bad as string), 'requireAcr[1]');
    throwsNaming(() => requireAcr(...Array.from({ length: 33 }, (_, i) => `v${i}`)), 'requireAcr');
    assert.equal(typeof requireAcr('urn:acme:loa:2', 'x'.repeat(256)), 'function');
  });
});

describe('requireAuthTime: arguments', () => {
  it('maxAge missing, 0, negative, fractional, a string, NaN, over uint32; a bad clockTolerance; an unknown option; no object → AuthConfigError naming it', () => {
    throwsNaming(() => requireAuthTime(undefined as never), 'requireAuthTime(options)');
    throwsNaming(() => requireAuthTime(300 as never), 'requireAuthTime(options)');
    throwsNaming(() => requireAuthTime({} as never), 'requireAuthTime.maxAge');
    for (const maxAge of [0, -1, 1.5, '300', Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, null]) {
      throwsNaming(() => requireAuthTime({ maxAge: maxAge as number }), 'requireAuthTime.maxAge');
    }
    for (const clockTolerance of [-1, 301, '60', Number.NaN, null]) {
      throwsNaming(() => requireAuthTime({ maxAge: 300, clockTolerance: clockTolerance as number }), 'requireAuthTime.clockTolerance');
    }
    throwsNaming(() => requireAuthTime({ maxAge: 300, maxAgeSeconds: 1 } as never), 'requireAuthTime.maxAgeSeconds');
  });
});

describe('requireAuthTime: the time', () => {
  const guard = requireAuthTime({ maxAge: 300, clockTolerance: 10 });
  const at = (authTime: unknown) => guard(authWith({ auth_time: authTime }), info);

  it('reads GuardInfo.clock: exactly maxAge old passes, a second more refuses; tolerance only for the future', () => {
    assert.equal(at(NOW / 1000 - 300), true);
    assert.deepEqual(at(NOW / 1000 - 301), { allowed: false, message: 'login was 301 s ago, more than 300 s', stepUp: { maxAge: 300 } });
    assert.equal(at(NOW / 1000 + 10), true);
    assert.equal((at(NOW / 1000 + 11) as { allowed: boolean }).allowed, false);
    for (const bad of [undefined, null, '2000000000', Number.NaN, Number.POSITIVE_INFINITY, [NOW / 1000]]) assert.notEqual(at(bad), true, String(bad));
  });

  it('whole seconds, like maxTokenAge: a login exactly maxAge old passes for that whole second, and is refused from the next', () => {
    const late = (ms: number, authTime: number) => guard(authWith({ auth_time: authTime }), { method: '/p.S/M', clock: () => NOW + ms });
    assert.equal(late(999, NOW / 1000 - 300), true, '300.999 s after a login stamped 300 s ago');
    assert.notEqual(late(1000, NOW / 1000 - 300), true, '301 s');
    assert.equal(late(500, NOW / 1000 - 299.5), true, 'a fractional auth_time: 300 s');
    assert.notEqual(late(0, NOW / 1000 - 301), true);
  });

  it('without GuardInfo.clock it reads Date.now; a clock reading NaN throws INTERNAL, never allows', () => {
    assert.equal(guard(authWith({ auth_time: Date.now() / 1000 }), { method: '/p.S/M' }), true);
    assert.throws(
      () => guard(authWith({ auth_time: 0 }), { method: '/p.S/M', clock: () => Number.NaN }),
      (error: unknown) => error instanceof AuthError && error.code === 'ERR_AUTH_INTERNAL',
    );
  });
});

describe('step-up refusals and what reaches the wire', () => {
  it('a step-up denial → UNAUTHENTICATED INSUFFICIENT_USER_AUTHENTICATION with acr_values and max_age', () => {
    const refusal = refusalOf(judgeGuard(anyOf(requireAcr('mfa'), requireAuthTime({ maxAge: 600 }), requireAcr('hwk', 'mfa')), authWith({}), info) as never);
    assert.equal(refusal?.code, 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION');
    assert.equal(refusal?.status, status.UNAUTHENTICATED);
    assert.deepEqual(refusal?.stepUp, { acrValues: ['mfa', 'hwk'], maxAge: 600 });
    const sent = rejectionStatus(refusal as AuthError);
    assert.equal(
      sent.metadata.get('www-authenticate')[0],
      'Bearer error="insufficient_user_authentication", error_description="stronger or more recent user authentication required", acr_values="mfa hwk", max_age="600"',
    );
    assert.deepEqual(stepUpChallenge({ code: sent.code, metadata: sent.metadata }), { acrValues: ['mfa', 'hwk'], maxAge: 600 });
  });

  it('a custom guard building a challenge from token content: unsafe acr values and ages are dropped, never sent', () => {
    const hostile: Guard = (auth) => ({
      allowed: false,
      message: 'x',
      stepUp: { acrValues: [auth.claims.acr, 'mfa', 'a b', 'x'.repeat(300), 7] as string[], maxAge: 0.5 },
    });
    const refusal = refusalOf(judgeGuard(hostile, authWith({ acr: 'mfa", scope="admin' }), info) as never) as AuthError;
    assert.equal(refusal.code, 'ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION');
    assert.deepEqual(refusal.stepUp, { acrValues: ['mfa'] });
    assert.equal(
      rejectionStatus(refusal).metadata.get('www-authenticate')[0],
      'Bearer error="insufficient_user_authentication", error_description="stronger or more recent user authentication required", acr_values="mfa"',
    );
  });

  it('an Array subclass whose filter lets everything through cannot carry an unsafe acr value into the verdict', () => {
    class Permissive extends Array<unknown> {
      override filter(): never {
        return ['a"b', 'mfa', 5] as never;
      }
    }
    const sneaky: Guard = () => ({ allowed: false, message: 'x', stepUp: { acrValues: Permissive.from(['a"b', 'mfa', 5]) as never } });
    const verdict = judgeGuard(sneaky, authWith({}), info) as { stepUp?: object };
    assert.deepEqual(verdict.stepUp, { acrValues: ['mfa'] });
    class Iterating extends Array<unknown> {
      override *[Symbol.iterator](): ArrayIterator<never> {
        yield 'a"b' as never;
      }
    }
    const iterating: Guard = () => ({ allowed: false, message: 'x', stepUp: { acrValues: Iterating.from(['mfa']) as never } });
    assert.deepEqual((judgeGuard(iterating, authWith({}), info) as { stepUp?: object }).stepUp, { acrValues: ['mfa'] });
  });

  it('a challenge getter that throws is the guard failing (INTERNAL), not a refusal nor an allow', () => {
    const throwing: Guard = () =>
      ({
        allowed: false,
        message: 'x',
        get stepUp(): never {
          throw new Error('boom');
        },
      }) as never;
    const verdict = judgeGuard(throwing, authWith({}), info);
    assert.ok(verdict instanceof AuthError && verdict.code === 'ERR_AUTH_INTERNAL');
  });

  it('a handler refusing with toGrpcError and a stepUp sends the same trailers', () => {
    const error = toGrpcError(new AuthError('ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION', 'amount over 10k', { stepUp: { maxAge: 60 } }));
    assert.equal(error.code, status.UNAUTHENTICATED);
    assert.deepEqual(stepUpChallenge(error), { maxAge: 60 });
  });

  it('a stepUp given to an AuthError of another code is not sent: acr_values/max_age only ride insufficient_user_authentication', () => {
    for (const code of ['ERR_AUTH_TOKEN_EXPIRED', 'ERR_AUTH_INSUFFICIENT_SCOPE', 'ERR_AUTH_ACCESS_DENIED'] as const) {
      const error = new AuthError(code, 'x', { stepUp: { acrValues: ['mfa'], maxAge: 60 } });
      assert.equal(error.stepUp, undefined, code);
      const sent = rejectionStatus(error);
      assert.doesNotMatch(String(sent.metadata.get('www-authenticate')[0]), /acr_values|max_age/, code);
    }
  });

  it('stepUpChallenge never throws and reads nothing but a step-up from this library', () => {
    const other = rejectionStatus(new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'x', { requiredScopes: ['a'] }));
    assert.equal(stepUpChallenge(other), undefined);
    const wrongStatus = rejectionStatus(new AuthError('ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION', 'x', { stepUp: { maxAge: 5 } }));
    assert.equal(stepUpChallenge({ ...wrongStatus, code: status.PERMISSION_DENIED }), undefined);
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
      },
    );
    for (const value of [null, 5, 'x', {}, { code: 16 }, { code: 16, metadata: { get: () => [Buffer.from('garbage')] } }, hostile]) {
      assert.equal(stepUpChallenge(value), undefined);
    }
  });
});

describe('allOf with step-up guards: one challenge for everything a new login must meet', () => {
  const old = { acr: 'pwd', auth_time: NOW / 1000 - 3600 };
  const stepUpOf = async (guard: Guard, claims: Record<string, unknown>) => ((await guard(authWith(claims), info)) as { stepUp?: object }).stepUp;

  it('allOf(requireAcr, requireAuthTime), both refusing → acr_values and max_age together, so one new login is enough', async () => {
    assert.deepEqual(await stepUpOf(allOf(requireAcr('mfa'), requireAuthTime({ maxAge: 300 })), old), { acrValues: ['mfa'], maxAge: 300 });
    assert.deepEqual(await stepUpOf(allOf(requireAuthTime({ maxAge: 300 }), requireAcr('mfa')), old), { acrValues: ['mfa'], maxAge: 300 });
    assert.deepEqual(await stepUpOf(allOf(requireAcr('mfa'), requireAuthTime({ maxAge: 300 })), { ...old, auth_time: NOW / 1000 }), { acrValues: ['mfa'] });
  });

  it('two requireAcr → the values both accept; two requireAuthTime → the smallest max_age; after an async guard too', async () => {
    assert.deepEqual(await stepUpOf(allOf(requireAcr('mfa', 'hwk'), requireAcr('hwk', 'phr')), old), { acrValues: ['hwk'] });
    const asyncAllow: Guard = async () => true;
    assert.deepEqual(await stepUpOf(allOf(asyncAllow, requireAuthTime({ maxAge: 600 }), requireAcr('mfa'), requireAuthTime({ maxAge: 300 })), old), {
      acrValues: ['mfa'],
      maxAge: 300,
    });
  });

  it('after a step-up refusal only the built-in step-up guards are asked: a custom guard is never run, a scope refusal later is not merged', async () => {
    let customRuns = 0;
    const custom: Guard = () => {
      customRuns += 1;
      return { allowed: false, message: 'custom', stepUp: { maxAge: 5 } };
    };
    assert.deepEqual(await stepUpOf(allOf(requireAcr('mfa'), custom, requireAuthTime({ maxAge: 300 })), old), { acrValues: ['mfa'], maxAge: 300 });
    assert.equal(customRuns, 0);
    const refusal = await allOf(requireAcr('mfa'), requireScopes('orders:write'))(authWith(old), info);
    assert.deepEqual(refusal, { allowed: false, message: 'acr "pwd" is not one of mfa', stepUp: { acrValues: ['mfa'] } });
  });
});

describe('stepUpChallenge on trailers this library did not write', () => {
  const trailer = (domain: string, metadata: Record<string, string>, reason = 'INSUFFICIENT_USER_AUTHENTICATION') => {
    const sent = new Metadata();
    sent.set(STATUS_DETAILS_KEY, encodeStatusDetails(status.UNAUTHENTICATED, 'x', { reason, domain, metadata }));
    return { code: status.UNAUTHENTICATED, metadata: sent };
  };

  it('another domain, or another reason → undefined, even with step-up metadata', () => {
    assert.equal(stepUpChallenge(trailer('googleapis.com', { acrValues: 'mfa', maxAge: '60' })), undefined);
    assert.equal(stepUpChallenge(trailer(ERROR_DOMAIN, { acrValues: 'mfa' }, 'TOKEN_EXPIRED')), undefined);
  });

  it('a forged challenge keeps only what this library could have sent: header-safe acr values (at most 32), a plain decimal max_age', () => {
    const forged = trailer(ERROR_DOMAIN, {
      acrValues: `mfa  a"b ${'x'.repeat(300)} mfa ${Array.from({ length: 40 }, (_, i) => `v${i}`).join(' ')}`,
      maxAge: '0300',
    });
    const challenge = stepUpChallenge(forged);
    assert.equal(challenge?.acrValues?.[0], 'mfa');
    assert.equal(challenge?.acrValues?.length, 32);
    assert.equal(challenge?.maxAge, undefined);
    for (const maxAge of ['1e3', '-5', '4294967296', ' 300', '300\n', '0x10', '']) {
      assert.deepEqual(stepUpChallenge(trailer(ERROR_DOMAIN, { maxAge })), {}, JSON.stringify(maxAge));
    }
    assert.deepEqual(stepUpChallenge(trailer(ERROR_DOMAIN, { maxAge: '4294967295' })), { maxAge: 4_294_967_295 });
  });
});
