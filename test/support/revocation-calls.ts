/**
 * The harness the revocation suites share: an echo server behind an interceptor, the assertion of a
 * TOKEN_REVOKED refusal, and a server stream held open so a revocation can end it.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../../src/index.ts';
import type { TestIssuer } from '../../src/testing/index.ts';
import { bearer, outcomeOf, type Outcome } from './calls.ts';
import { startEchoServer, type EchoReply, type EchoServer } from './echo-server.ts';

const { status, Metadata } = grpc;

/** Metadata carrying `token` as a bearer token. */
export const meta = (token: string): grpc.Metadata => bearer(Metadata, token);

/** Runs `body` against an echo server whose interceptor verifies `idp`'s tokens (its own algorithm), then closes both. */
export async function withServer(
  idp: TestIssuer,
  options: Partial<AuthInterceptorOptions>,
  body: (echo: EchoServer, auth: ReturnType<typeof createAuthInterceptor>) => Promise<void>,
  implementation?: (runs: EchoServer['runs']) => grpc.UntypedServiceImplementation,
): Promise<void> {
  const auth = createAuthInterceptor({ keys: idp.keys, algorithms: [idp.alg], ...options } as AuthInterceptorOptions);
  const echo = await startEchoServer({ interceptors: [auth], ...(implementation ? { implementation } : {}) });
  try {
    await body(echo, auth);
  } finally {
    await echo.close();
    auth.close();
  }
}

/** UNAUTHENTICATED, reason TOKEN_REVOKED, an `invalid_token` challenge. */
export function assertRevoked(outcome: Outcome, label: string): void {
  assert.equal(outcome.code, status.UNAUTHENTICATED, label);
  assert.equal(outcome.reason, 'TOKEN_REVOKED', label);
  assert.match(outcome.wwwAuthenticate ?? '', /invalid_token/, label);
}

/** A server stream held open by the echo server (`hold`): when its first reply came, and how it ended. */
export function heldServerStream(echo: EchoServer, token: string, deadlineMs = 20_000): { firstReply: Promise<void>; ended: Promise<Outcome>; cancel(): void } {
  const replies: EchoReply[] = [];
  let first: () => void = () => undefined;
  const firstReply = new Promise<void>((resolve) => (first = resolve));
  const call = echo.client.ServerStream({ text: 'hold' }, meta(token), { deadline: Date.now() + deadlineMs });
  const ended = new Promise<Outcome>((resolve) => {
    call.on('data', (reply: EchoReply) => {
      replies.push(reply);
      first();
    });
    call.on('error', (error: grpc.ServiceError) => resolve(outcomeOf(error, replies)));
    call.on('status', (end: grpc.StatusObject) => {
      if (end.code === status.OK) resolve(outcomeOf(null, replies));
    });
  });
  return { firstReply, ended, cancel: () => call.cancel() };
}
