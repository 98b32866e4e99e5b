/**
 * Attack class: server code (a `validate` hook, a guard, the `clock` option) that throws something no
 * error handler expects — an object whose `message` cannot be read or printed, a Proxy whose every trap
 * throws, a copy of `AuthError` from another copy of this package — and handlers that pass such values
 * to `toGrpcError`. Whatever is thrown, a call must end with a status (INTERNAL, fixed text) and the
 * process must see no unhandled rejection: under Node's default `--unhandled-rejections=throw` one would
 * take the whole server down, and the call would hang until its deadline.
 */
import assert from 'node:assert/strict';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthError,
  createAuthInterceptor,
  createAuthenticator,
  isAuthError,
  toGrpcError,
  withGuard,
  type AuthInterceptorOptions,
  type Guard,
} from '../../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { bearer, unary } from '../support/calls.ts';
import { echoImplementation, startEchoServer, type EchoServer } from '../support/echo-server.ts';

const { status, Metadata } = grpc;
const METHOD = '/test.v1.S/M';

/** A Proxy whose every trap throws: even `instanceof` and `typeof x.then` throw on it. */
function trapEverything(): object {
  const thrower = () => {
    throw new Error('trap');
  };
  return new Proxy({}, { get: thrower, getPrototypeOf: thrower, has: thrower, ownKeys: thrower, getOwnPropertyDescriptor: thrower });
}

/** An AuthError made by another copy of this package (a plugin that bundles its own), as isAuthError sees it. */
function foreignAuthError(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error('log text of the other copy'), { name: 'AuthError', code, ...extra });
}

/** Thrown values that make a naive `String(error.message ?? error)` throw in turn. */
const HOSTILE: ReadonlyArray<[string, () => unknown]> = [
  ['a null-prototype object', () => Object.create(null)],
  ['an object whose message is a symbol', () => ({ message: Symbol('m') })],
  [
    'an object whose message getter throws a null-prototype object',
    () => ({
      get message(): never {
        throw Object.create(null);
      },
    }),
  ],
  ['a Proxy whose every trap throws', trapEverything],
  ['an AuthError copy with a code this copy does not know', () => foreignAuthError('ERR_AUTH_FROM_THE_FUTURE')],
];

/** Records unhandled rejections while a test runs: there must be none. */
function watchUnhandledRejections(): { readonly seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const record = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', record);
  return { seen, stop: () => process.off('unhandledRejection', record) };
}

describe('attack: hooks, guards and clocks that throw values no error handler expects', () => {
  let idp: TestIssuer;
  let token: string;
  let rejections: ReturnType<typeof watchUnhandledRejections>;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    token = await idp.sign();
  });
  beforeEach(() => {
    rejections = watchUnhandledRejections();
  });
  afterEach(async () => {
    // Let any stray rejection surface before looking.
    await new Promise((resolve) => setTimeout(resolve, 20));
    rejections.stop();
    assert.deepEqual(rejections.seen.map(String), [], 'no unhandled rejection');
  });

  async function refusalOf(options: Partial<AuthInterceptorOptions>): Promise<{ code: number; details: string; reason: string | undefined; runs: number }> {
    const echo = await startEchoServer({ interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'], ...options })] });
    try {
      const outcome = await unary(echo.client, bearer(Metadata, token), 'hi', { deadline: Date.now() + 2_000 });
      return { code: outcome.code, details: outcome.details, reason: outcome.reason, runs: echo.runs.unary };
    } finally {
      await echo.close();
    }
  }

  for (const [name, make] of HOSTILE) {
    it(`unary: a validate hook (sync and async) throwing ${name} → INTERNAL with fixed text, never a hang`, async () => {
      for (const validate of [
        () => {
          throw make();
        },
        async () => {
          throw make();
        },
      ]) {
        const outcome = await refusalOf({ validate });
        assert.deepEqual(outcome, { code: status.INTERNAL, details: 'internal authentication error', reason: 'INTERNAL', runs: 0 });
      }
    });

    it(`unary: a guard (sync and async) throwing ${name} → INTERNAL with fixed text, never a hang`, async () => {
      const guards: Guard[] = [
        () => {
          throw make();
        },
        async () => {
          throw make();
        },
      ];
      for (const guard of guards) {
        const outcome = await refusalOf({ defaultRule: guard });
        assert.deepEqual(outcome, { code: status.INTERNAL, details: 'internal authentication error', reason: 'INTERNAL', runs: 0 });
      }
    });

    it(`createAuthenticator: a validate hook throwing ${name} → rejects with ERR_AUTH_INTERNAL, an AuthError`, async () => {
      const authenticator = createAuthenticator({
        keys: idp.keys,
        algorithms: ['HS256'],
        validate: () => {
          throw make();
        },
      });
      await assert.rejects(
        async () => authenticator.authenticate(token, METHOD),
        (error) => isAuthError(error) && error.code === 'ERR_AUTH_INTERNAL',
      );
    });

    it(`toGrpcError given ${name} → INTERNAL with fixed text and the interceptor's trailers; it never throws`, () => {
      const refusal = toGrpcError(make() as AuthError);
      assert.equal(refusal.code, status.INTERNAL);
      assert.equal(refusal.details, 'internal authentication error');
      assert.equal(refusal.metadata.get('www-authenticate')[0], 'Bearer');
    });
  }

  it('withGuard: an async guard throwing a null-prototype object → INTERNAL with fixed text, never a hang', async () => {
    const guard: Guard = async () => {
      throw Object.create(null);
    };
    const echo = await startEchoServer({
      interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] })],
      implementation: (runs) => ({
        ...echoImplementation(runs),
        Unary: withGuard(guard, echoImplementation(runs).Unary as grpc.handleUnaryCall<unknown, unknown>),
      }),
    });
    try {
      const outcome = await unary(echo.client, bearer(Metadata, token), 'hi', { deadline: Date.now() + 2_000 });
      assert.equal(outcome.code, status.INTERNAL, outcome.details);
      assert.equal(outcome.details, 'internal authentication error');
      assert.equal(echo.runs.unary, 0);
    } finally {
      await echo.close();
    }
  });

  it('withGuard: a guard whose denial has a throwing getter (sync and async) → INTERNAL with fixed text, never a hang', async () => {
    const denial = {
      allowed: false as const,
      get message(): never {
        throw new Error('getter');
      },
    };
    const guards: Guard[] = [() => denial, async () => denial];
    for (const guard of guards) {
      const echo = await startEchoServer({
        interceptors: [createAuthInterceptor({ keys: idp.keys, algorithms: ['HS256'] })],
        implementation: (runs) => ({
          ...echoImplementation(runs),
          Unary: withGuard(guard, echoImplementation(runs).Unary as grpc.handleUnaryCall<unknown, unknown>),
        }),
      });
      try {
        const outcome = await unary(echo.client, bearer(Metadata, token), 'hi', { deadline: Date.now() + 2_000 });
        assert.equal(outcome.code, status.INTERNAL, outcome.details);
        assert.equal(outcome.details, 'internal authentication error');
        assert.equal(echo.runs.unary, 0);
      } finally {
        await echo.close();
      }
    }
  });

  it('createAuthenticator: a clock that throws → ERR_AUTH_INTERNAL, an AuthError, on a fresh verification and on a cache hit', async () => {
    let broken = false;
    const authenticator = createAuthenticator({
      keys: idp.keys,
      algorithms: ['HS256'],
      clock: () => {
        if (broken) throw new Error('clock source down');
        return Date.now();
      },
    });
    const isInternal = (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_INTERNAL';
    await authenticator.authenticate(token, METHOD);
    broken = true;
    await assert.rejects(async () => authenticator.authenticate(token, METHOD), isInternal, 'cache hit');
    await assert.rejects(async () => authenticator.authenticate(await idp.sign({ sub: 'other' }), METHOD), isInternal, 'fresh');
  });

  it('createAuthenticator: a validate hook whose result has a throwing `then` getter → ERR_AUTH_INTERNAL, an AuthError', async () => {
    const authenticator = createAuthenticator({
      keys: idp.keys,
      algorithms: ['HS256'],
      validate: () =>
        ({
          get then(): never {
            throw new Error('then getter');
          },
        }) as unknown as boolean,
    });
    await assert.rejects(
      async () => authenticator.authenticate(token, METHOD),
      (error) => isAuthError(error) && error.code === 'ERR_AUTH_INTERNAL',
    );
  });
});

describe('AuthError copies from another copy of the package, and codes outside the table', () => {
  it('toGrpcError given a foreign AuthError copy → the same status, details and trailers as a native one', () => {
    const native = toGrpcError(new AuthError('ERR_AUTH_INSUFFICIENT_SCOPE', 'log', { requiredScopes: ['orders:read'] }));
    const foreign = toGrpcError(
      foreignAuthError('ERR_AUTH_INSUFFICIENT_SCOPE', {
        status: 7,
        reason: 'INSUFFICIENT_SCOPE',
        wireMessage: 'token does not grant access to this method',
        bearerError: 'insufficient_scope',
        requiredScopes: ['orders:read'],
      }) as AuthError,
    );
    assert.equal(foreign.code, native.code);
    assert.equal(foreign.details, native.details);
    assert.deepEqual(foreign.metadata.getMap(), native.metadata.getMap());
  });

  it('toGrpcError given a foreign copy with only name and code (an older copy) → its status and fixed text, not an undefined code', () => {
    const refusal = toGrpcError(foreignAuthError('ERR_AUTH_TOKEN_EXPIRED') as AuthError);
    assert.equal(refusal.code, status.UNAUTHENTICATED);
    assert.equal(refusal.details, 'token expired');
  });

  it('toGrpcError given a foreign copy carrying unsafe wire text and scopes → fixed text, unsafe scopes dropped, never a throw', () => {
    const refusal = toGrpcError(
      foreignAuthError('ERR_AUTH_INSUFFICIENT_SCOPE', { status: 7, wireMessage: 'eyJhbGciOi\n"quoted"', requiredScopes: ['a"b', 'ok:scope'] }) as AuthError,
    );
    assert.equal(refusal.code, status.PERMISSION_DENIED);
    assert.equal(refusal.details, 'token does not grant access to this method');
    assert.equal(
      refusal.metadata.get('www-authenticate')[0],
      'Bearer error="insufficient_scope", error_description="token does not grant access to this method", scope="ok:scope"',
    );
  });

  it('unary: a validate hook throwing a foreign copy of TOKEN_REJECTED → UNAUTHENTICATED TOKEN_REJECTED, as a native one', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      validate: () => {
        throw foreignAuthError('ERR_AUTH_TOKEN_REJECTED');
      },
    });
    const echo = await startEchoServer({ interceptors: [auth] });
    try {
      const outcome = await unary(echo.client, bearer(Metadata, await idp.sign()));
      assert.equal(outcome.code, status.UNAUTHENTICATED);
      assert.equal(outcome.reason, 'TOKEN_REJECTED');
    } finally {
      await echo.close();
    }
  });

  it('new AuthError with a code outside the table (constructor, __proto__, toString, a typo) → TypeError at once, never an error without a status', () => {
    for (const code of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'ERR_AUTH_FORBIDEN']) {
      assert.throws(() => new AuthError(code as never), TypeError, code);
    }
  });

  it('unary: a hook throwing new AuthError("constructor") → INTERNAL with fixed text (it was UNKNOWN, no status)', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const auth = createAuthInterceptor({
      keys: idp.keys,
      algorithms: ['HS256'],
      validate: () => {
        throw new AuthError('constructor' as never);
      },
    });
    const echo: EchoServer = await startEchoServer({ interceptors: [auth] });
    try {
      const outcome = await unary(echo.client, bearer(Metadata, await idp.sign()), 'hi', { deadline: Date.now() + 2_000 });
      assert.equal(outcome.code, status.INTERNAL, outcome.details);
      assert.equal(outcome.details, 'internal authentication error');
    } finally {
      await echo.close();
    }
  });
});
