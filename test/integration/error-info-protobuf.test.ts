/**
 * Our `grpc-status-details-bin` trailer, read by someone else's decoder: protobufjs with the published
 * `google.rpc.Status` and `google.rpc.ErrorInfo` schemas (test/fixtures/google/rpc). The encoder is
 * written by hand, so checking it against our own decoder alone would let one misreading of the wire
 * format hide in both; Go, Java or Python clients decode these bytes with their protobuf runtimes.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { AuthError, createAuthInterceptor, requireScopes, toGrpcError } from '../../src/index.ts';
import { encodeStatusDetails } from '../../src/errors/error-info.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';

const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/google/rpc/${name}`, import.meta.url));
const schemas = new protobuf.Root().loadSync([fixture('status.proto'), fixture('error_details.proto')], { keepCase: true });
const Status = schemas.lookupType('google.rpc.Status');
const ErrorInfo = schemas.lookupType('google.rpc.ErrorInfo');

/** The trailer as protobufjs reads it: every field, defaults included. */
interface DecodedStatus {
  readonly code: number;
  readonly message: string;
  readonly details: ReadonlyArray<{ readonly type_url: string; readonly info: { reason: string; domain: string; metadata: Record<string, string> } }>;
}

function decodeWithProtobufjs(bytes: Uint8Array): DecodedStatus {
  const status = Status.toObject(Status.decode(bytes), { defaults: true }) as {
    code: number;
    message: string;
    details: Array<{ type_url: string; value: Uint8Array }>;
  };
  return {
    code: status.code,
    message: status.message,
    details: status.details.map(({ type_url, value }) => ({
      type_url,
      info: ErrorInfo.toObject(ErrorInfo.decode(value), { defaults: true, objects: true }) as {
        reason: string;
        domain: string;
        metadata: Record<string, string>;
      },
    })),
  };
}

/** Calls Unary and returns the refusal's status, details and `grpc-status-details-bin` bytes, as the client received them. */
function refusedCall(echo: EchoServer, metadata: grpc.Metadata): Promise<{ code: number; details: string; trailer: Buffer }> {
  return new Promise((resolve, reject) => {
    echo.client.Unary({ text: 'hi' }, metadata, (error: grpc.ServiceError | null) => {
      if (!error) return reject(new Error('the call was admitted'));
      const [trailer] = error.metadata.get('grpc-status-details-bin');
      if (!(trailer instanceof Buffer)) return reject(new Error('no grpc-status-details-bin trailer'));
      resolve({ code: error.code, details: error.details, trailer });
    });
  });
}

describe('ErrorInfo trailer decoded by protobufjs with google/rpc/status.proto', () => {
  let idp: TestIssuer;
  let guarded: EchoServer;
  let handlerRefusal: EchoServer;
  const manyScopes = Array.from({ length: 12 }, (_, i) => `orders.v1.some-long-resource-name:write-${i}`);
  // 200 bytes: a length from 128 to 255, one byte in plain binary but two as a varint.
  const longWireText = 'refused by the orders service after checking every condition of the order'.padEnd(200, '.');

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'orders-api' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'orders-api',
      rules: { '/test.echo.v1.Echo/Unary': requireScopes('orders:write', 'orders:admin') },
    });
    guarded = await startEchoServer({ interceptors: [auth] });
    // A handler refusing with a long wire text and many scopes: lengths past 127 bytes need two-byte varints.
    handlerRefusal = await startEchoServer({
      implementation: () => ({
        Unary(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
          callback(toGrpcError(new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'log only', { requiredScopes: manyScopes, wireMessage: longWireText })));
        },
      }),
    });
  });
  after(async () => {
    await guarded.close();
    await handlerRefusal.close();
  });

  const refusals: ReadonlyArray<{
    readonly name: string;
    readonly metadata: () => Promise<grpc.Metadata>;
    readonly code: number;
    readonly reason: string;
    readonly facts: Record<string, string>;
  }> = [
    {
      name: 'TOKEN_MISSING: Status { code 16, the details text, one Any(ErrorInfo) with reason, domain and no metadata }',
      metadata: async () => new grpc.Metadata(),
      code: 16,
      reason: 'TOKEN_MISSING',
      facts: {},
    },
    {
      name: 'TOKEN_EXPIRED: Status { code 16, reason TOKEN_EXPIRED }',
      metadata: async () => idp.metadata(await idp.expiredToken()),
      code: 16,
      reason: 'TOKEN_EXPIRED',
      facts: {},
    },
    {
      name: 'INSUFFICIENT_SCOPE: Status { code 7 } and ErrorInfo metadata { requiredScopes } as a protobuf map',
      metadata: async () => idp.metadata(await idp.sign({ scope: 'orders:read' })),
      code: 7,
      reason: 'INSUFFICIENT_SCOPE',
      facts: { requiredScopes: 'orders:write orders:admin' },
    },
  ];
  for (const { name, metadata, code, reason, facts } of refusals) {
    it(name, async () => {
      const refusal = await refusedCall(guarded, await metadata());
      assert.equal(refusal.code, code);
      assert.deepEqual(decodeWithProtobufjs(refusal.trailer), {
        code,
        message: refusal.details,
        details: [{ type_url: ERROR_INFO_TYPE_URL, info: { reason, domain: 'grpc-jwt-auth', metadata: facts } }],
      });
    });
  }

  it('a long wire text and a long scope list (lengths over 127 bytes) decode whole', async () => {
    const refusal = await refusedCall(handlerRefusal, idp.metadata(await idp.sign()));
    const decoded = decodeWithProtobufjs(refusal.trailer);
    assert.ok(longWireText.length === 200 && manyScopes.join(' ').length > 255 && refusal.trailer.length > 512);
    assert.equal(refusal.code, 7);
    assert.deepEqual(decoded, {
      code: 7,
      message: longWireText,
      details: [
        { type_url: ERROR_INFO_TYPE_URL, info: { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: { requiredScopes: manyScopes.join(' ') } } },
      ],
    });
  });

  it('golden bytes: one fixed status encodes to the bytes protobufjs writes for it', () => {
    const info = { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: { requiredScopes: 'orders:write' } };
    // Status{code 7, message "denied", details [Any{type_url, value: ErrorInfo{reason, domain, metadata}}]}, field by field.
    const golden =
      '0807' + // code = 7
      '1206' +
      Buffer.from('denied').toString('hex') + // message
      '1a6f' + // details[0]: an Any of 111 bytes
      '0a28' +
      Buffer.from(ERROR_INFO_TYPE_URL).toString('hex') + // type_url
      '1243' + // value: an ErrorInfo of 67 bytes
      '0a12' +
      Buffer.from('INSUFFICIENT_SCOPE').toString('hex') + // reason
      '120d' +
      Buffer.from('grpc-jwt-auth').toString('hex') + // domain
      '1a1e' + // metadata entry of 30 bytes
      '0a0e' +
      Buffer.from('requiredScopes').toString('hex') + // key
      '120c' +
      Buffer.from('orders:write').toString('hex'); // value
    const theirs = Status.encode(
      Status.fromObject({
        code: 7,
        message: 'denied',
        details: [{ type_url: ERROR_INFO_TYPE_URL, value: ErrorInfo.encode(ErrorInfo.fromObject(info)).finish() }],
      }),
    ).finish();
    assert.equal(Buffer.from(theirs).toString('hex'), golden, 'the golden bytes are what protobufjs writes');
    assert.equal(encodeStatusDetails(7, 'denied', info).toString('hex'), golden);
  });

  it('every length from 0 to 300 bytes, and past 16 KiB (three-byte varints), encodes as protobufjs encodes it', () => {
    const lengths = [...Array.from({ length: 301 }, (_, n) => n), 16_383, 16_384, 20_000];
    for (const length of lengths) {
      const message = 'm'.repeat(length);
      const info = { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: { requiredScopes: 's'.repeat(length) } };
      const theirs = Status.encode(
        Status.fromObject({ code: 7, message, details: [{ type_url: ERROR_INFO_TYPE_URL, value: ErrorInfo.encode(ErrorInfo.fromObject(info)).finish() }] }),
      ).finish();
      assert.ok(encodeStatusDetails(7, message, info).equals(theirs), `length ${length}`);
    }
  });
});
