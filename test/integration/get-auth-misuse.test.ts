/**
 * `getAuth` misused in the ways a handler can get wrong beyond a single call: twice on one call, after
 * the call already ended, inside stream listeners. The call ends once (INTERNAL, fixed text) or, when it
 * had already ended, keeps the status it was given; `getAuth` throws every time and never throws
 * anything but its AuthError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { getAuth, isAuthError } from '../../src/index.ts';
import { bidi, clientStream, serverStream, unary } from '../support/calls.ts';
import { startEchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;

/** Calls getAuth, recording what it threw (its code, or 'not an AuthError'), or 'returned'. */
function attempt(seen: string[], call: { metadata: grpc.Metadata }): void {
  try {
    getAuth(call);
    seen.push('returned');
  } catch (error) {
    seen.push(isAuthError(error) ? error.code : 'not an AuthError');
  }
}

describe('getAuth misuse beyond one call', () => {
  it('unary: getAuth twice, then an answer → one INTERNAL with fixed text; both calls threw ERR_AUTH_INTERNAL', async () => {
    const seen: string[] = [];
    const echo = await startEchoServer({
      implementation: () => ({
        Unary(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
          attempt(seen, call);
          attempt(seen, call);
          callback(null, { text: 'answered anyway' });
        },
      }),
    });
    try {
      const outcome = await unary(echo.client, new Metadata());
      assert.equal(outcome.code, status.INTERNAL);
      assert.equal(outcome.details, 'internal authentication error');
      assert.deepEqual(outcome.replies, []);
      assert.deepEqual(seen, ['ERR_AUTH_INTERNAL', 'ERR_AUTH_INTERNAL']);
    } finally {
      await echo.close();
    }
  });

  it('unary and server stream: getAuth after the call ended → throws ERR_AUTH_INTERNAL, the client keeps its OK and replies', async () => {
    const seen: string[] = [];
    let later: Promise<void> = Promise.resolve();
    const afterEnd = (call: { metadata: grpc.Metadata }) => {
      later = new Promise<void>((resolve) =>
        setTimeout(() => {
          attempt(seen, call);
          resolve();
        }, 20),
      );
    };
    const echo = await startEchoServer({
      implementation: () => ({
        Unary(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
          callback(null, { text: 'done' });
          afterEnd(call);
        },
        ServerStream(call: grpc.ServerWritableStream<unknown, unknown>) {
          call.write({ text: 'one' });
          call.end();
          afterEnd(call);
        },
      }),
    });
    try {
      const u = await unary(echo.client, new Metadata());
      await later;
      const s = await serverStream(echo.client, new Metadata());
      await later;
      assert.equal(u.code, status.OK);
      assert.equal(s.code, status.OK);
      assert.equal(s.replies.length, 1);
      assert.deepEqual(seen, ['ERR_AUTH_INTERNAL', 'ERR_AUTH_INTERNAL']);
    } finally {
      await echo.close();
    }
  });

  it("client stream and bidi: getAuth caught inside call.on('data') → INTERNAL with fixed text, once per call", async () => {
    const seen: string[] = [];
    const echo = await startEchoServer({
      implementation: () => ({
        ClientStream(call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
          call.on('data', () => attempt(seen, call));
          call.on('end', () => callback(null, { text: 'answered anyway' }));
        },
        Bidi(call: grpc.ServerDuplexStream<unknown, unknown>) {
          call.on('data', () => {
            attempt(seen, call);
            call.write({ text: 'after' });
          });
          call.on('end', () => call.end());
        },
      }),
    });
    try {
      for (const outcome of [await clientStream(echo.client, new Metadata(), ['a', 'b']), await bidi(echo.client, new Metadata(), ['a', 'b'])]) {
        assert.equal(outcome.code, status.INTERNAL);
        assert.equal(outcome.details, 'internal authentication error');
        assert.deepEqual(outcome.replies, []);
      }
      assert.ok(seen.length >= 2 && seen.every((code) => code === 'ERR_AUTH_INTERNAL'), seen.join());
    } finally {
      await echo.close();
    }
  });
});
