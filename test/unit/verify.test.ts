import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkIdentityClaims, checkTimeClaims, type ClaimPolicy } from '../../src/verify/claims.ts';
import { parseCompactToken } from '../../src/verify/compact.ts';
import { checkHeader, normalizeTyp } from '../../src/verify/header.ts';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const token = (header: unknown, payload: unknown, signature = 'c2ln') => `${b64(header)}.${b64(payload)}.${signature}`;
const code = (expected: string) => ({ code: expected });

describe('parseCompactToken', () => {
  it('decodes header and claims of a well-formed token', () => {
    const parsed = parseCompactToken(token({ alg: 'HS256' }, { sub: 'a' }), 8192);
    assert.deepEqual(parsed.header, { alg: 'HS256' });
    assert.deepEqual(parsed.claims, { sub: 'a' });
  });

  it('refuses the size cap first, before any parsing', () => {
    assert.throws(() => parseCompactToken('x'.repeat(8193), 8192), code('ERR_AUTH_TOKEN_TOO_LARGE'));
    assert.throws(() => parseCompactToken('.'.repeat(1024 * 1024), 8192), code('ERR_AUTH_TOKEN_TOO_LARGE'));
  });

  const good = token({ alg: 'HS256' }, { sub: 'a' });
  const [h, p, s] = good.split('.') as [string, string, string];
  const malformed: Array<[string, string]> = [
    ['two segments', `${h}.${p}`],
    ['four segments', `${good}.x`],
    ['empty header', `.${p}.${s}`],
    ['empty payload', `${h}..${s}`],
    ['padding', `${h}.${p}=.${s}`],
    ['standard base64 characters', `${h}.${p}+/.${s}`],
    ['a space', `${h}.${p} .${s}`],
    ['a newline', `${h}.\n${p}.${s}`],
    ['length 1 mod 4', `${h}.${p}A.${s}`],
    ['non-canonical last character', `${h}.${b64('{"a":1}').slice(0, -1)}B.${s}`],
    ['non-JSON payload', `${h}.${b64('nope')}.${s}`],
    ['array payload', token({ alg: 'HS256' }, [1])],
    ['string payload', token({ alg: 'HS256' }, 'just a string')],
    ['number header', token(42, {})],
    ['null header', token(null, {})],
    ['invalid UTF-8 payload', `${h}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${s}`],
  ];
  for (const [name, input] of malformed) {
    it(`${name} → TOKEN_MALFORMED`, () => assert.throws(() => parseCompactToken(input, 8192), code('ERR_AUTH_TOKEN_MALFORMED')));
  }

  it('an empty signature passes the format check and is left to the algorithm check', () => {
    assert.equal(parseCompactToken(`${h}.${p}.`, 8192).claims.sub, 'a');
  });
});

describe('checkHeader', () => {
  const policy = { algorithms: new Set(['RS256']), typ: undefined };
  it('takes alg only from the allowlist: none, NONE, missing, non-string and unknown are refused', () => {
    for (const alg of ['none', 'NONE', 'None', undefined, 7, ['RS256'], 'rs256', 'HS256', '']) {
      assert.throws(() => checkHeader({ alg }, policy), code('ERR_AUTH_ALG_NOT_ALLOWED'), String(alg));
    }
    assert.deepEqual(checkHeader({ alg: 'RS256', kid: 'k' }, policy), { alg: 'RS256', kid: 'k' });
  });

  it('refuses crit (unknown or registered names) and b64 other than true; kid must be a string', () => {
    assert.throws(() => checkHeader({ alg: 'RS256', crit: ['exp'] }, policy), code('ERR_AUTH_TOKEN_HEADER_INVALID'));
    assert.throws(() => checkHeader({ alg: 'RS256', crit: [] }, policy), code('ERR_AUTH_TOKEN_HEADER_INVALID'));
    assert.throws(() => checkHeader({ alg: 'RS256', b64: false }, policy), code('ERR_AUTH_TOKEN_HEADER_INVALID'));
    assert.throws(() => checkHeader({ alg: 'RS256', kid: { $ne: 1 } }, policy), code('ERR_AUTH_TOKEN_HEADER_INVALID'));
    assert.doesNotThrow(() => checkHeader({ alg: 'RS256', b64: true, jku: 'https://evil', x5u: 'https://evil', jwk: {} }, policy));
  });

  it('typ compares case-insensitively with an optional application/ prefix', () => {
    const typed = { algorithms: new Set(['RS256']), typ: normalizeTyp('at+jwt') };
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) assert.doesNotThrow(() => checkHeader({ alg: 'RS256', typ }, typed));
    for (const typ of ['JWT', undefined, 'at+jwt2', 1]) assert.throws(() => checkHeader({ alg: 'RS256', typ }, typed), code('ERR_AUTH_TOKEN_TYPE_INVALID'));
  });

  it('typ: application/ is implied only for values without a slash (RFC 7515 §4.1.9): application/text/plain is not text/plain', () => {
    const typed = (typ: string) => ({ algorithms: new Set(['RS256']), typ: normalizeTyp(typ) });
    const accepts = (expected: string, typ: string) => assert.doesNotThrow(() => checkHeader({ alg: 'RS256', typ }, typed(expected)), `${expected} ~ ${typ}`);
    const refuses = (expected: string, typ: string) =>
      assert.throws(() => checkHeader({ alg: 'RS256', typ }, typed(expected)), code('ERR_AUTH_TOKEN_TYPE_INVALID'), `${expected} !~ ${typ}`);
    refuses('text/plain', 'application/text/plain');
    refuses('application/text/plain', 'text/plain');
    refuses('at+jwt', 'application/x/at+jwt');
    refuses('at+jwt', 'application/');
    refuses('jwt', 'text/jwt');
    accepts('text/plain', 'TEXT/Plain');
    accepts('application/at+jwt', 'at+jwt');
    accepts('APPLICATION/AT+JWT', 'At+Jwt');
    accepts('application/text/plain', 'Application/Text/Plain');
  });
});

describe('claim checks', () => {
  const policy: ClaimPolicy = {
    issuers: new Set(['https://idp.test/']),
    audiences: new Set(['api', 'api2']),
    subject: undefined,
    requiredClaims: ['tenant'],
    requireExp: true,
    clockTolerance: 0,
    maxTokenAge: undefined,
  };
  const now = 1_800_000_000;

  it('exp: valid one second before, expired at the exact second; tolerance extends it', () => {
    assert.equal(checkTimeClaims({ exp: now + 1 }, policy, now).until, now + 1);
    assert.throws(() => checkTimeClaims({ exp: now }, policy, now), code('ERR_AUTH_TOKEN_EXPIRED'));
    assert.doesNotThrow(() => checkTimeClaims({ exp: now }, { ...policy, clockTolerance: 5 }, now + 4.5));
    assert.throws(() => checkTimeClaims({ exp: now }, { ...policy, clockTolerance: 5 }, now + 5), code('ERR_AUTH_TOKEN_EXPIRED'));
  });

  it('nbf and iat: valid at the exact second, refused one second early unless tolerated', () => {
    assert.doesNotThrow(() => checkTimeClaims({ exp: now + 60, nbf: now, iat: now }, policy, now));
    assert.throws(() => checkTimeClaims({ exp: now + 60, nbf: now + 1 }, policy, now), code('ERR_AUTH_TOKEN_NOT_YET_VALID'));
    assert.throws(() => checkTimeClaims({ exp: now + 60, iat: now + 1 }, policy, now), code('ERR_AUTH_TOKEN_NOT_YET_VALID'));
    assert.doesNotThrow(() => checkTimeClaims({ exp: now + 60, nbf: now + 1 }, { ...policy, clockTolerance: 1 }, now));
  });

  it('NumericDates must be finite numbers', () => {
    for (const exp of ['1800000100', null, [now + 60], {}, true, Infinity, -Infinity, NaN]) {
      assert.throws(() => checkTimeClaims({ exp }, policy, now), code('ERR_AUTH_CLAIM_INVALID'), String(exp));
    }
    assert.throws(() => checkTimeClaims({ exp: now + 60, nbf: '0' }, policy, now), code('ERR_AUTH_CLAIM_INVALID'));
    assert.doesNotThrow(() => checkTimeClaims({ exp: now + 0.5 }, policy, now), 'fractions are NumericDates');
    for (const [name, value] of [
      ['exp', -1],
      ['exp', 1e21],
      ['exp', 253_402_300_800],
      ['nbf', 2 ** 63],
      ['iat', -0.5],
      ['iat', Number.MAX_VALUE],
    ] as const) {
      assert.throws(() => checkTimeClaims({ exp: now + 60, [name]: value }, policy, now), code('ERR_AUTH_CLAIM_INVALID'), `${name} ${value}`);
    }
    assert.doesNotThrow(() => checkTimeClaims({ exp: 253_402_300_799, nbf: 0, iat: -0 }, policy, now), 'from 1970 to the end of 9999');
  });

  it('exp is required unless requireExp is false; maxTokenAge needs iat', () => {
    assert.throws(() => checkTimeClaims({}, policy, now), code('ERR_AUTH_CLAIM_MISSING'));
    assert.equal(checkTimeClaims({}, { ...policy, requireExp: false }, now).until, Infinity);
    const aged = { ...policy, maxTokenAge: 60 };
    assert.throws(() => checkTimeClaims({ exp: now + 60 }, aged, now), code('ERR_AUTH_CLAIM_MISSING'));
    assert.throws(() => checkTimeClaims({ exp: now + 60, iat: now - 61 }, aged, now), code('ERR_AUTH_TOKEN_TOO_OLD'));
    assert.equal(checkTimeClaims({ exp: now + 60, iat: now - 60 }, aged, now).until, now + 1, 'exactly maxTokenAge old: admitted for that whole second');
    assert.equal(checkTimeClaims({ exp: now + 60, iat: now - 60 }, aged, now + 0.999).endedBy, 'maxTokenAge');
    assert.equal(checkTimeClaims({ exp: now + 60, iat: now - 59 }, aged, now).until, now + 2);
    assert.equal(checkTimeClaims({ exp: now + 1, iat: now - 59 }, aged, now).endedBy, 'exp', 'exp first');
  });

  it('issuer and audience match exactly', () => {
    const ok = { iss: 'https://idp.test/', aud: 'api', tenant: 't' };
    assert.doesNotThrow(() => checkIdentityClaims(ok, policy));
    assert.doesNotThrow(() => checkIdentityClaims({ ...ok, aud: ['other', 'api2'] }, policy));
    for (const iss of ['https://idp.test', 'HTTPS://IDP.TEST/', 'https://idp.test/.evil.example', ['https://idp.test/'], undefined]) {
      assert.throws(
        () => checkIdentityClaims({ ...ok, iss }, policy),
        (e: { code: string }) => ['ERR_AUTH_ISSUER_INVALID', 'ERR_AUTH_CLAIM_INVALID'].includes(e.code),
        String(iss),
      );
    }
    for (const aud of [[], 'API', [['api']], ['apix'], 7, undefined]) {
      assert.throws(
        () => checkIdentityClaims({ ...ok, aud }, policy),
        (e: { code: string }) => ['ERR_AUTH_AUDIENCE_INVALID', 'ERR_AUTH_CLAIM_INVALID'].includes(e.code),
        String(aud),
      );
    }
  });

  it('registered claims must have their types; required claims must be present', () => {
    const ok = { iss: 'https://idp.test/', aud: 'api', tenant: 't' };
    assert.throws(() => checkIdentityClaims({ ...ok, sub: 42 }, policy), code('ERR_AUTH_CLAIM_INVALID'));
    assert.throws(() => checkIdentityClaims({ ...ok, jti: ['a'] }, policy), code('ERR_AUTH_CLAIM_INVALID'));
    assert.throws(() => checkIdentityClaims({ ...ok, tenant: null }, policy), code('ERR_AUTH_CLAIM_MISSING'));
    const { tenant: _omit, ...withoutTenant } = ok;
    assert.throws(() => checkIdentityClaims(withoutTenant, policy), code('ERR_AUTH_CLAIM_MISSING'));
    assert.throws(() => checkIdentityClaims({ ...ok, sub: 'bob' }, { ...policy, subject: 'alice' }), code('ERR_AUTH_CLAIM_INVALID'));
  });
});
