import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { AuthError } from '../../src/errors/auth-error.ts';
import { decodeErrorInfo, encodeStatusDetails } from '../../src/errors/error-info.ts';
import { readBearerToken } from '../../src/server/metadata.ts';
import { bearerChallenge, rejectionStatus } from '../../src/server/rejection.ts';
import { toGrpcError } from '../../src/server/grpc-error.ts';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

// The published google.rpc messages, read by protobufjs: an independent codec for the hand-written one.
const rpc = protobuf.loadSync(['status.proto', 'error_details.proto'].map((name) => fileURLToPath(new URL(`../fixtures/google/rpc/${name}`, import.meta.url))));
const Status = rpc.lookupType('google.rpc.Status');
const ErrorInfoMessage = rpc.lookupType('google.rpc.ErrorInfo');
const ERROR_INFO_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

interface DecodedStatus {
  readonly code: number;
  readonly message: string;
  readonly details: ReadonlyArray<{ readonly type_url: string; readonly value: Uint8Array }>;
}
interface DecodedErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Record<string, string>;
}
const statusOf = (bytes: Uint8Array) => Status.toObject(Status.decode(bytes), { defaults: true, arrays: true }) as DecodedStatus;
const errorInfoOf = (bytes: Uint8Array) => ErrorInfoMessage.toObject(ErrorInfoMessage.decode(bytes), { defaults: true, objects: true }) as DecodedErrorInfo;

describe('ErrorInfo in grpc-status-details-bin', () => {
  it('round-trips reason, domain and metadata', () => {
    const bytes = encodeStatusDetails(7, 'denied', { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: { requiredScopes: 'a b' } });
    assert.deepEqual(
      { ...decodeErrorInfo(bytes) },
      { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: Object.assign(Object.create(null), { requiredScopes: 'a b' }) },
    );
  });

  it('protobufjs reads what the encoder writes as google.rpc.Status with one google.rpc.ErrorInfo (long and non-ASCII text, several metadata entries)', () => {
    const metadata = { requiredScopes: Array.from({ length: 40 }, (_, i) => `orders:scope-${i}`).join(' '), tenant: 'ünïcode ✓' };
    const bytes = encodeStatusDetails(7, 'token does not grant access to this method', { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata });
    const status = statusOf(bytes);
    assert.equal(status.code, 7);
    assert.equal(status.message, 'token does not grant access to this method');
    assert.equal(status.details.length, 1);
    assert.equal(status.details[0]?.type_url, ERROR_INFO_URL);
    assert.deepEqual(errorInfoOf(status.details[0]?.value ?? new Uint8Array()), { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata });
  });

  it('a real rejection trailer decodes with protobufjs to the status, the fixed details and the reason', () => {
    const refusal = new AuthError('ERR_AUTH_ALG_NOT_ALLOWED', 'log only: alg none');
    const sent = rejectionStatus(refusal);
    const status = statusOf(sent.metadata.get('grpc-status-details-bin')[0] as Buffer);
    assert.equal(status.code, sent.code);
    assert.equal(status.message, sent.details);
    assert.deepEqual(errorInfoOf(status.details[0]?.value ?? new Uint8Array()), { reason: 'ALG_NOT_ALLOWED', domain: 'grpc-jwt-auth', metadata: {} });
  });

  it('the decoder reads a Status that protobufjs wrote: the ErrorInfo found after another detail', () => {
    const info = ErrorInfoMessage.encode(
      ErrorInfoMessage.fromObject({ reason: 'TOKEN_EXPIRED', domain: 'grpc-jwt-auth', metadata: { a: '1', b: 'ü' } }),
    ).finish();
    const other = { type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: Uint8Array.from([0x0a, 0x02, 0x08, 0x05]) };
    const bytes = Status.encode(
      Status.fromObject({ code: 16, message: 'token expired', details: [other, { type_url: ERROR_INFO_URL, value: info }] }),
    ).finish();
    assert.deepEqual(
      { ...decodeErrorInfo(bytes) },
      { reason: 'TOKEN_EXPIRED', domain: 'grpc-jwt-auth', metadata: Object.assign(Object.create(null), { a: '1', b: 'ü' }) },
    );
    // A Status with no ErrorInfo at all, as other servers send: undefined, not a guess.
    assert.equal(decodeErrorInfo(Status.encode(Status.fromObject({ code: 16, message: 'x', details: [other] })).finish()), undefined);
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

describe('toGrpcError', () => {
  it('is an Error carrying exactly the rejection status grpc-js reads: numeric code, fixed details, the same trailers', () => {
    const refusal = new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'log only: alice lacks orders:write', { requiredScopes: ['orders:write'] });
    const error = toGrpcError(refusal);
    const reference = rejectionStatus(refusal);
    assert.ok(error instanceof Error);
    assert.equal(error.code, 7);
    assert.equal(error.details, reference.details);
    assert.equal(error.message, reference.details, 'the message is the wire text too');
    assert.deepEqual(error.metadata.getMap(), reference.metadata.getMap());
    assert.equal(error.cause, refusal, 'the original stays reachable for logs');
  });
  it('anything but an AuthError becomes INTERNAL with fixed text', () => {
    const error = toGrpcError(new Error('secret detail') as AuthError);
    assert.equal(error.code, 13);
    assert.equal(error.details, 'internal authentication error');
    assert.equal(decodeErrorInfo(error.metadata.get('grpc-status-details-bin')[0] as Buffer)?.reason, 'INTERNAL');
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
