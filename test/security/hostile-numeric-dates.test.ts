/**
 * Attack class: NumericDates no real date has (huge, negative, beyond the year 9999, past what a Date
 * holds), written into correctly signed tokens. Nothing a signed token contains may end a call INTERNAL
 * (that would let any holder of a valid key crash-test the server and pollute its alerts), and no such
 * value may reach a handler as an Invalid Date.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, fromSecret } from '../../src/index.ts';
import { unary } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { hmacToken } from './forge.ts';
import { AUDIENCE, ISSUER, bearer } from './targets.ts';

const NOW = 1_900_000_000;
const SECRET = 'numeric-date-secret-numeric-date!!';
/** 9999-12-31T23:59:59Z, the last second a NumericDate may name. */
const LAST = 253_402_300_799;

/** Hostile NumericDates as JSON text, so that spellings JSON.stringify would never write are sent too. */
const HOSTILE = [
  '1e21',
  '2e206',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551616',
  '9007199254740993',
  '1.7976931348623157e308',
  '-1.7976931348623157e308',
  '5e-324',
  '-5e-324',
  '-0',
  '-0.0',
  '0.5',
  '-1',
  '-1e21',
  '-9223372036854775808',
  '8.64e15',
  '8640000000000001',
  `${LAST}`,
  `${LAST + 1}`,
  `${LAST}.5`,
  `${NOW}.999999999999`,
  '1E21',
  '1e+21',
];

describe('attack: hostile NumericDates in correctly signed tokens', () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: fromSecret(SECRET), algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, clock: () => NOW * 1000 })],
    });
  });
  after(() => echo.close());

  const call = async (exp: string, extra = '') => {
    const payload = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${exp}${extra}}`;
    return unary(echo.client, bearer(hmacToken('HS256', SECRET, {}, payload)));
  };

  it('every hostile value as exp, nbf or iat → never INTERNAL, and the server keeps serving', async () => {
    for (const value of HOSTILE) {
      for (const outcome of [await call(value), await call(`${NOW + 60}`, `,"nbf":${value}`), await call(`${NOW + 60}`, `,"iat":${value}`)]) {
        assert.notEqual(outcome.code, grpc.status.INTERNAL, value);
        assert.ok(outcome.code === grpc.status.OK || outcome.code === grpc.status.UNAUTHENTICATED, `${value}: ${outcome.code}`);
      }
    }
    assert.equal((await call(`${NOW + 60}`)).code, grpc.status.OK);
  });

  it('exp, nbf, iat negative or beyond 9999-12-31T23:59:59Z → UNAUTHENTICATED CLAIM_INVALID', async () => {
    for (const value of [
      '1e21',
      '2e206',
      '9223372036854775807',
      '9007199254740993',
      '1.7976931348623157e308',
      `${LAST + 1}`,
      `${LAST}.5`,
      '-1',
      '-1e21',
      '-5e-324',
    ]) {
      assert.equal((await call(value)).reason, 'CLAIM_INVALID', `exp ${value}`);
      assert.equal((await call(`${NOW + 60}`, `,"nbf":${value}`)).reason, 'CLAIM_INVALID', `nbf ${value}`);
      assert.equal((await call(`${NOW + 60}`, `,"iat":${value}`)).reason, 'CLAIM_INVALID', `iat ${value}`);
    }
  });

  it('the edges of the range are real dates: exp 9999-12-31T23:59:59Z → OK; nbf and iat 0, -0 and fractions → OK', async () => {
    assert.equal((await call(`${LAST}`)).code, grpc.status.OK);
    for (const value of ['0', '-0', '0.5', `${NOW}.5`]) {
      assert.equal((await call(`${NOW + 60}`, `,"nbf":${value}`)).code, grpc.status.OK, `nbf ${value}`);
      assert.equal((await call(`${NOW + 60}`, `,"iat":${value}`)).code, grpc.status.OK, `iat ${value}`);
    }
  });
});
