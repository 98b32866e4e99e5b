import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { AuthError } from '../../src/errors.ts';
import { decodeErrorInfo, encodeStatusDetails } from '../../src/error-info.ts';
import { readBearerToken } from '../../src/server/metadata.ts';
import { bearerChallenge, rejectionStatus } from '../../src/server/rejection.ts';

describe('ErrorInfo in grpc-status-details-bin', () => {
  it('round-trips reason, domain and metadata', () => {
    const bytes = encodeStatusDetails(7, 'denied', { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: { requiredScopes: 'a b' } });
    assert.deepEqual(
      { ...decodeErrorInfo(bytes) },
      { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: Object.assign(Object.create(null), { requiredScopes: 'a b' }) },
    );
  });

  it('decodes garbage to undefined, never throws', () => {
    for (const bytes of [
      Buffer.alloc(0),
      Buffer.from([0xff, 0xff, 0xff]),
      Buffer.from([0x1a, 0x7f]),
      Buffer.from('not protobuf'),
      Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]),
    ]) {
      assert.equal(decodeErrorInfo(bytes), undefined);
    }
  });

  it('a rejection carries status, fixed details, challenge and reason', () => {
    const status = rejectionStatus(new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'missing orders:write', { requiredScopes: ['orders:write'] }));
    assert.equal(status.code, 7);
    assert.equal(status.details, 'token does not grant access to this method');
    assert.equal(
      status.metadata.get('www-authenticate')[0],
      'Bearer error="insufficient_scope", error_description="token does not grant access to this method", scope="orders:write"',
    );
    assert.equal(decodeErrorInfo(status.metadata.get('grpc-status-details-bin')[0] as Buffer)?.reason, 'INSUFFICIENT_SCOPE');
    assert.equal(bearerChallenge(new AuthError('ERR_AUTH_TOKEN_MISSING')), 'Bearer');
    assert.equal(bearerChallenge(new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED')).startsWith('Bearer error="invalid_request"'), true);
  });
});

describe('readBearerToken', () => {
  const withValues = (...values: Array<string | Buffer>) => {
    const metadata = new Metadata();
    for (const value of values) metadata.add(typeof value === 'string' ? 'authorization' : 'authorization-bin', value);
    return metadata;
  };
  it('reads one Bearer value, scheme in any case', () => {
    assert.equal(readBearerToken(withValues('Bearer abc.def.ghi')), 'abc.def.ghi');
    assert.equal(readBearerToken(withValues('bEaReR abc')), 'abc');
    assert.equal(readBearerToken(new Metadata()), undefined);
  });
  it('refuses several values (programmatic Metadata only: over HTTP/2 just the first field arrives), other schemes, missing or extra tokens', () => {
    for (const metadata of [
      withValues('Bearer a', 'Bearer b'),
      withValues('Basic dXNlcjpwYXNz'),
      withValues('Bearer'),
      withValues('Bearer '),
      withValues('Bearer  a'),
      withValues('Bearer a b'),
      withValues(' Bearer a'),
      withValues('Bearer a '),
      withValues('Token a'),
      withValues('Bearer a,Bearer b'),
    ]) {
      assert.throws(() => readBearerToken(metadata), { code: 'ERR_AUTH_AUTHORIZATION_MALFORMED' }, String(metadata.get('authorization')));
    }
  });
});
