/**
 * What `onAuthenticated` and `onRejected` tell an operator, over real gRPC: who the caller was and with
 * which key (kid, alg, client, jti, tokenId), whether the cache answered and how long verification took,
 * and the call's metadata for request-ID correlation. Whose token a refusal was about is told only when
 * the token's signature verified: a forger's claims never appear. The token itself appears nowhere.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, fromJwks, requireScopes, type AuthenticatedEvent, type RejectedEvent } from '../../src/index.ts';
import { createTestIssuer, craftUnsignedToken, type TestIssuer } from '../../src/testing/index.ts';
import { bidi, clientStream, serverStream, unary } from '../support/calls.ts';
import { METHODS, echoImplementation, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;

/** Metadata as a client behind a gateway sends it: the bearer token, a request ID, a session cookie. */
function callMetadata(token: string, requestId: string, extra: Record<string, string> = {}): grpc.Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  metadata.set('x-request-id', requestId);
  metadata.set('cookie', 'session=s3cr3t-session-cookie');
  for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
  return metadata;
}

/** Everything an event holds, as a logger could write it: JSON (Metadata has toJSON) and a deep inspection. */
function everything(event: object): string {
  return `${JSON.stringify(event)}\n${inspect(event, { depth: Infinity, showHidden: true, getters: true })}`;
}

/** base64url SHA-256 of `header.payload`: the documented tokenId. */
function tokenIdOf(token: string): string {
  return createHash('sha256')
    .update(token.slice(0, token.lastIndexOf('.')))
    .digest('base64url');
}

describe('call events: what onAuthenticated and onRejected tell', () => {
  let idp: TestIssuer;
  let echo: EchoServer;
  const authenticated: AuthenticatedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  const tokens: string[] = [];
  const sign = async (...args: Parameters<TestIssuer['sign']>): Promise<string> => {
    const token = await idp.sign(...args);
    tokens.push(token);
    return token;
  };
  const lastRejection = (): RejectedEvent => rejected.at(-1) as RejectedEvent;
  const lastAdmission = (): AuthenticatedEvent => authenticated.at(-1) as AuthenticatedEvent;

  before(async () => {
    idp = await createTestIssuer({ alg: 'ES256', audience: 'echo-api', kid: 'signing-2026' });
    const auth = createAuthInterceptor({
      keys: fromJwks(idp.jwks),
      algorithms: ['ES256'],
      issuer: idp.issuer,
      audience: 'echo-api',
      clockTolerance: 0,
      rules: { [METHODS.clientStream]: requireScopes('echo:write'), [METHODS.bidi]: 'deny' },
      validate: (claims) => claims.sub !== 'on-the-denylist',
      onAuthenticated: (event) => authenticated.push(event),
      onRejected: (event) => rejected.push(event),
    });
    echo = await startEchoServer({ interceptors: [auth] });
  });
  after(async () => {
    await echo.close();
    // Whatever the call and however it ended, no event carries a token the tests sent.
    for (const event of [...authenticated, ...rejected]) {
      const text = everything(event);
      for (const token of tokens) assert.equal(text.includes(token), false, `a token appears in ${text.slice(0, 200)}`);
    }
  });

  it('unary: a fresh then a cached call → kid, alg, clientId (azp), jti, tokenId, cacheHit, verificationTime and the request ID', async () => {
    const token = await sign({ sub: 'alice', azp: 'web-app', jti: 'jti-1', scope: 'echo:read' });
    for (const [round, cacheHit] of [
      ['fresh', false],
      ['cached', true],
    ] as const) {
      assert.equal((await unary(echo.client, callMetadata(token, `req-${round}`))).code, status.OK, round);
      const event = lastAdmission();
      assert.equal(event.method, METHODS.unary, round);
      assert.equal(event.subject, 'alice', round);
      assert.equal(event.issuer, idp.issuer, round);
      assert.equal(event.kid, 'signing-2026', round);
      assert.equal(event.alg, 'ES256', round);
      assert.equal(event.clientId, 'web-app', round);
      assert.equal(event.jti, 'jti-1', round);
      assert.equal(event.tokenId, tokenIdOf(token), round);
      assert.deepEqual(event.scopes, ['echo:read'], round);
      assert.equal(event.cacheHit, cacheHit, round);
      assert.equal(typeof event.verificationTime, 'number', round);
      assert.ok(event.verificationTime >= 0 && event.verificationTime < 30, `${round}: ${event.verificationTime} s`);
      assert.deepEqual(event.metadata.get('x-request-id'), [`req-${round}`], round);
      assert.deepEqual(event.metadata.get('authorization'), [], `${round}: no credential in the event`);
      assert.deepEqual(event.metadata.get('cookie'), [], `${round}: no session cookie in the event`);
    }
  });

  it('server-stream and client-stream calls → the same facts, the cache answering the second, and each its own request ID', async () => {
    const token = await sign({ sub: 'streamer-ok', azp: 'stream-app', jti: 'jti-stream', scope: 'echo:read echo:write' });
    const serverStreamed = await serverStream(echo.client, callMetadata(token, 'req-server-stream'));
    assert.equal(serverStreamed.code, status.OK);
    const first = lastAdmission();
    const clientStreamed = await clientStream(echo.client, callMetadata(token, 'req-client-stream'));
    assert.equal(clientStreamed.code, status.OK);
    const second = lastAdmission();
    for (const [event, method, requestId, cacheHit] of [
      [first, METHODS.serverStream, 'req-server-stream', false],
      [second, METHODS.clientStream, 'req-client-stream', true],
    ] as const) {
      assert.equal(event.method, method);
      assert.equal(event.subject, 'streamer-ok', method);
      assert.equal(event.clientId, 'stream-app', method);
      assert.equal(event.jti, 'jti-stream', method);
      assert.equal(event.kid, 'signing-2026', method);
      assert.equal(event.alg, 'ES256', method);
      assert.equal(event.tokenId, tokenIdOf(token), method);
      assert.equal(event.cacheHit, cacheHit, method);
      assert.deepEqual(event.metadata.get('x-request-id'), [requestId], method);
      assert.deepEqual(event.metadata.get('authorization'), [], method);
    }
  });

  it('clientId falls back to client_id (RFC 9068) when the token has no azp; absent claims are undefined', async () => {
    await unary(echo.client, callMetadata(await sign({ sub: 'svc', client_id: 'batch-runner' }), 'req-cid'));
    assert.equal(lastAdmission().clientId, 'batch-runner');
    assert.equal(lastAdmission().jti, undefined);
    await unary(echo.client, callMetadata(await sign({ sub: 'svc', azp: 42 }), 'req-num'));
    assert.equal(lastAdmission().clientId, undefined, 'a non-string azp is not a client id');
  });

  it('the event metadata is a copy: what a hook changes never reaches the handler', async () => {
    const idp2 = await createTestIssuer({ alg: 'ES256' });
    const auth = createAuthInterceptor({
      keys: fromJwks(idp2.jwks),
      algorithms: ['ES256'],
      // Runs before the handler, with the call's own metadata one step away.
      onAuthenticated: ({ metadata }) => {
        metadata.set('x-request-id', 'changed-by-hook');
        metadata.set('x-injected', 'by-hook');
      },
    });
    const server = await startEchoServer({
      interceptors: [auth],
      implementation: (runs) => ({
        ...echoImplementation(runs),
        Unary(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
          callback(null, {
            text: `${String(call.metadata.get('x-request-id'))}|${String(call.metadata.get('x-injected'))}`,
            subject: '',
            scopes: [],
            count: 0,
          });
        },
      }),
    });
    try {
      const outcome = await unary(server.client, callMetadata(await idp2.sign(), 'req-copy'));
      assert.equal(outcome.code, status.OK);
      assert.equal(outcome.replies[0]?.text, 'req-copy|');
    } finally {
      await server.close();
    }
  });

  it('a copy of the token in any other metadata entry is left out of the event as well', async () => {
    const token = await sign({ sub: 'alice' });
    await unary(echo.client, callMetadata(token, 'req-dup', { 'x-forwarded-token': token, 'x-trace': 'trace-1' }));
    const { metadata } = lastAdmission();
    assert.deepEqual(metadata.get('x-forwarded-token'), []);
    assert.deepEqual(metadata.get('x-trace'), ['trace-1']);
  });

  it("a token the interceptor never read ('deny' rule, malformed authorization, an unexpected key) → no copy of it in the event", async () => {
    const token = await sign({ sub: 'unread' });
    const copies = { 'x-forwarded-token': token, 'x-original-authorization': `Bearer ${token}`, 'x-token-bin': Buffer.from(token) };
    const withCopies = (metadata: grpc.Metadata): grpc.Metadata => {
      for (const [key, value] of Object.entries(copies)) metadata.set(key, value);
      return metadata;
    };
    const cases: Array<{ code: string; send: () => Promise<unknown> }> = [
      {
        code: 'ERR_AUTH_ACCESS_DENIED',
        send: () => bidi(echo.client, withCopies(callMetadata(token, 'req-unread'))),
      },
      {
        code: 'ERR_AUTH_AUTHORIZATION_MALFORMED',
        send: () => {
          const metadata = withCopies(callMetadata(token, 'req-unread'));
          metadata.set('authorization', `Bearer  ${token}`); // two spaces: malformed, so never handed to verification
          return unary(echo.client, metadata);
        },
      },
      {
        code: 'ERR_AUTH_TOKEN_MISSING',
        send: () => {
          const metadata = withCopies(callMetadata(token, 'req-unread'));
          metadata.remove('authorization'); // a client that put it under another key only
          return unary(echo.client, metadata);
        },
      },
    ];
    for (const { code, send } of cases) {
      await send();
      const event = lastRejection();
      assert.equal(event.error.code, code);
      assert.deepEqual(event.metadata.get('x-request-id'), ['req-unread'], code);
      for (const key of Object.keys(copies)) assert.deepEqual(event.metadata.get(key), [], `${code}: ${key} is left out`);
      assert.equal(everything(event).includes(token), false, `${code}: the token appears in the event`);
    }
  });

  it('refusals of genuine tokens say whose they were, fresh and cached: expired, wrong audience, validate, guard', async () => {
    const cases: Array<{ token: string; method: 'unary' | 'clientStream'; code: string; cacheHit: boolean }> = [
      {
        token: await sign({ sub: 'expired-sub', jti: 'j-exp', azp: 'app' }, { expiresIn: -3600 }),
        method: 'unary',
        code: 'ERR_AUTH_TOKEN_EXPIRED',
        cacheHit: false,
      },
      { token: await sign({ sub: 'elsewhere-sub', aud: 'other-api' }), method: 'unary', code: 'ERR_AUTH_AUDIENCE_INVALID', cacheHit: false },
      { token: await sign({ sub: 'on-the-denylist' }), method: 'unary', code: 'ERR_AUTH_TOKEN_REJECTED', cacheHit: false },
    ];
    const reader = await sign({ sub: 'reader-sub', scope: 'echo:read' });
    assert.equal((await unary(echo.client, callMetadata(reader, 'req-warm'))).code, status.OK); // cached from now on
    cases.push({ token: reader, method: 'clientStream', code: 'ERR_AUTH_INSUFFICIENT_SCOPE', cacheHit: true });
    for (const { token, method, code, cacheHit } of cases) {
      const metadata = callMetadata(token, `req-${code}`);
      if (method === 'unary') await unary(echo.client, metadata);
      else await new Promise<void>((resolve) => echo.client.ClientStream(metadata, () => resolve()).end());
      const event = lastRejection();
      assert.equal(event.error.code, code);
      const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { sub: string };
      assert.equal(event.verified?.subject, claims.sub, code);
      assert.equal(event.verified?.tokenId, tokenIdOf(token), code);
      assert.equal(event.verified?.kid, 'signing-2026', code);
      assert.equal(event.verified?.alg, 'ES256', code);
      assert.equal(event.cacheHit, cacheHit, code);
      assert.equal(typeof event.verificationTime, 'number', code);
      assert.deepEqual(event.metadata.get('x-request-id'), [`req-${code}`], code);
    }
    assert.equal(rejected.find((event) => event.error.code === 'ERR_AUTH_TOKEN_EXPIRED')?.verified?.clientId, 'app');
  });

  it('a validate refusal of a cached token still says whose it was (cacheHit true)', async () => {
    // The denylist hook runs on every call: a token admitted once and refused later is a cached one.
    let denied = false;
    const idp2 = await createTestIssuer({ alg: 'ES256', kid: 'k2' });
    const local: RejectedEvent[] = [];
    const auth = createAuthInterceptor({ keys: fromJwks(idp2.jwks), algorithms: ['ES256'], validate: () => !denied, onRejected: (event) => local.push(event) });
    const server = await startEchoServer({ interceptors: [auth] });
    try {
      const token = await idp2.sign({ sub: 'revoked-later' });
      assert.equal((await unary(server.client, idp2.metadata(token))).code, status.OK);
      denied = true;
      assert.equal((await unary(server.client, idp2.metadata(token))).code, status.UNAUTHENTICATED);
      assert.equal(local[0]?.error.code, 'ERR_AUTH_TOKEN_REJECTED');
      assert.equal(local[0]?.verified?.subject, 'revoked-later');
      assert.equal(local[0]?.cacheHit, true);
    } finally {
      await server.close();
    }
  });

  it('a stream ended because its token expired says whose token it was', async () => {
    const token = await sign({ sub: 'streamer' }, { expiresIn: 1 });
    const outcome = await serverStream(echo.client, callMetadata(token, 'req-stream'), 'hold');
    assert.equal(outcome.code, status.UNAUTHENTICATED);
    assert.equal(outcome.reason, 'TOKEN_EXPIRED');
    const event = lastRejection();
    assert.equal(event.method, METHODS.serverStream);
    assert.equal(event.verified?.subject, 'streamer');
    assert.deepEqual(event.metadata.get('x-request-id'), ['req-stream']);
  });

  it('forged, tampered, unsigned and unknown-kid tokens → no verified facts, and none of their claims anywhere in the event', async () => {
    const forger = await createTestIssuer({ alg: 'ES256', issuer: idp.issuer, audience: 'echo-api', kid: 'signing-2026' });
    const marked = { sub: 'forged-sub-marker', jti: 'forged-jti-marker', azp: 'forged-azp-marker', scope: 'forged-scope-marker' };
    const forgeries = [
      { token: await forger.sign(marked), code: 'ERR_AUTH_SIGNATURE_INVALID' },
      { token: await forger.sign(marked, { expiresIn: -3600 }), code: 'ERR_AUTH_SIGNATURE_INVALID' },
      { token: await idp.tamperedToken(marked), code: 'ERR_AUTH_SIGNATURE_INVALID' },
      { token: craftUnsignedToken(marked), code: 'ERR_AUTH_ALG_NOT_ALLOWED' },
      { token: await createTestIssuer({ alg: 'ES256', kid: 'unknown-kid' }).then((other) => other.sign(marked)), code: 'ERR_AUTH_KEY_NOT_FOUND' },
    ];
    for (const { token, code } of forgeries) {
      tokens.push(token);
      assert.equal((await unary(echo.client, callMetadata(token, 'req-forged'))).code, status.UNAUTHENTICATED, code);
      const event = lastRejection();
      assert.equal(event.error.code, code);
      assert.equal(event.verified, undefined, `${code}: nothing of a token that is not genuine is told as fact`);
      const text = everything(event);
      for (const marker of Object.values(marked)) assert.equal(text.includes(marker), false, `${code}: ${marker} appears in the event`);
      assert.equal(text.includes(token), false, `${code}: the token appears in the event`);
    }
  });

  it('an iss no configured issuer has, 3 KB long with terminal escapes → not verified; the message quotes at most 80 characters of it, escaped', async () => {
    const other = await createTestIssuer({ alg: 'ES256' });
    const local: RejectedEvent[] = [];
    const auth = createAuthInterceptor({
      issuers: [{ issuer: idp.issuer, keys: fromJwks(idp.jwks), algorithms: ['ES256'] }],
      onRejected: (event) => local.push(event),
    });
    const server = await startEchoServer({ interceptors: [auth] });
    try {
      const hostile = `\u001b]0;pwned\u0007\u001b[2J${'x'.repeat(3000)}`;
      const token = await other.sign({ iss: hostile, sub: 'forged-sub-marker' });
      tokens.push(token);
      assert.equal((await unary(server.client, other.metadata(token))).code, status.UNAUTHENTICATED);
      const [event] = local;
      assert.equal(event?.error.code, 'ERR_AUTH_ISSUER_INVALID');
      assert.equal(event?.verified, undefined);
      const text = everything(event as object);
      assert.equal(text.includes('forged-sub-marker'), false);
      const controls = [...(event?.error.message ?? '')].filter((char) => (char.codePointAt(0) ?? 0) < 0x20 || char === '\u007f');
      assert.deepEqual(controls, [], 'no control character in the message');
      assert.ok((event?.error.message.length ?? Infinity) < 300, `message of ${event?.error.message.length} characters`);
    } finally {
      await server.close();
    }
  });

  it("no token, a 'deny' rule → nothing verified, no cache answer, no verification time", async () => {
    await unary(echo.client, new Metadata());
    assert.equal(lastRejection().error.code, 'ERR_AUTH_TOKEN_MISSING');
    assert.equal(lastRejection().cacheHit, undefined);
    assert.equal(lastRejection().verificationTime, undefined);
    const token = await sign({ sub: 'alice' });
    await new Promise<void>((resolve) => {
      const call = echo.client.Bidi(callMetadata(token, 'req-deny'));
      call.on('error', () => resolve());
      call.on('status', () => resolve());
      call.end();
    });
    const event = lastRejection();
    assert.equal(event.error.code, 'ERR_AUTH_ACCESS_DENIED');
    assert.equal(event.verified, undefined, "'deny' reads no token, so it tells of none");
    assert.equal(event.cacheHit, undefined);
    assert.deepEqual(event.metadata.get('x-request-id'), ['req-deny']);
    assert.deepEqual(event.metadata.get('authorization'), []);
  });

  it("a hook that changes its event's error → calls sharing the refusal (joiners of one verification) keep their status and see the original", async () => {
    const idp2 = await createTestIssuer({ alg: 'ES256' });
    const seen: string[] = [];
    const auth = createAuthInterceptor({
      keys: fromJwks(idp2.jwks),
      algorithms: ['ES256'],
      // A redacting logger that edits what it was given (a JS one may write the fields TypeScript calls readonly).
      onRejected: ({ error }) => {
        seen.push(`${error.code} ${error.message}`);
        Object.assign(error, { message: 'redacted', status: status.NOT_FOUND, code: 'ERR_AUTH_INTERNAL', wireMessage: 'from the hook' });
      },
    });
    const server = await startEchoServer({ interceptors: [auth] });
    try {
      const token = await idp2.sign({ sub: 'x' }, { expiresIn: -3600 });
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => unary(server.client, idp2.metadata(token))));
      assert.deepEqual(
        outcomes.map(({ code, reason }) => `${code} ${reason}`),
        Array(8).fill(`${status.UNAUTHENTICATED} TOKEN_EXPIRED`),
      );
      assert.equal(seen.length, 8);
      for (const line of seen) assert.match(line, /^ERR_AUTH_TOKEN_EXPIRED token expired/);
    } finally {
      await server.close();
    }
  });

  it('concurrent calls joining one fresh verification → each cacheHit false with its own verificationTime; the next call is a cache hit', async () => {
    const token = await sign({ sub: 'joined-ok' });
    const before = authenticated.length;
    await Promise.all(Array.from({ length: 8 }, (_, i) => unary(echo.client, callMetadata(token, `req-joined-${i}`))));
    const joined = authenticated.slice(before);
    assert.equal(joined.length, 8);
    for (const event of joined) {
      assert.equal(event.cacheHit, false, 'the cache did not answer: the call waited on a signature check');
      assert.ok(event.verificationTime >= 0 && event.verificationTime < 30);
      assert.equal(event.subject, 'joined-ok');
    }
    assert.deepEqual(new Set(joined.map((event) => String(event.metadata.get('x-request-id')))).size, 8, 'each its own metadata');
    await unary(echo.client, callMetadata(token, 'req-after-join'));
    assert.equal(lastAdmission().cacheHit, true);
  });

  it('concurrent calls joining one verification that fails after the signature → each event says whose token it was', async () => {
    const token = await sign({ sub: 'joined-expired' }, { expiresIn: -3600 });
    const before = rejected.length;
    await Promise.all(Array.from({ length: 8 }, (_, i) => unary(echo.client, callMetadata(token, `req-join-${i}`))));
    const events = rejected.slice(before);
    assert.equal(events.length, 8);
    for (const event of events) {
      assert.equal(event.error.code, 'ERR_AUTH_TOKEN_EXPIRED');
      assert.equal(event.verified?.subject, 'joined-expired');
    }
  });
});
