/**
 * Independent review of issue 16's fresh-token path (not async any more, VerifiedContext, lazy revocation
 * ids, public keys as CryptoKeys): hostile resolvers, keys, hooks and stores must still end in a
 * rejection with an ERR_AUTH_* code and never hold a place under `maxConcurrentVerifications`; in-flight
 * sharing must not mix tokens; the context must not be changeable; keys must be refused as before.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  createAuthenticator,
  createMemoryRevocationStore,
  fromJwks,
  fromSecret,
  type Algorithm,
  type Authenticator,
  type KeyResolver,
  type VerificationKey,
} from '../../src/index.ts';
import { StaticKeyResolver } from '../../src/keys/static-resolver.ts';
import { PublicVerificationKey } from '../../src/keys/verification-key.ts';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.ts';
import { unary } from '../support/calls.ts';
import { withAuthServer } from '../support/echo-server.ts';

const METHOD = '/test.v1.S/M';

/** The AuthError code a call ends with, or 'OK'; a synchronous throw is reported as such (the contract forbids it). */
async function outcomeOf(authenticator: Authenticator, token: string): Promise<string> {
  let answer: Promise<unknown>;
  try {
    answer = authenticator.authenticate(token, METHOD);
  } catch (error) {
    return `SYNC THROW ${String((error as { code?: unknown }).code ?? error)}`;
  }
  if (!(answer instanceof Promise)) return 'NOT A PROMISE';
  try {
    await answer;
    return 'OK';
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.startsWith('ERR_AUTH_') ? code : `NOT AN AUTH ERROR: ${String(error)}`;
  }
}

/** A resolver whose getKeys (or key material) is `answer`, kind secret, for HS256 tokens of `idp`. */
function resolverAnswering(getKeys: KeyResolver['getKeys']): KeyResolver {
  return { kind: 'secret', description: 'hostile', checkAlgorithms: () => undefined, getKeys, holds: () => true };
}

/** A key whose material is `material`, wrapping nothing (the signature can never verify with it). */
function keyWithMaterial(material: VerificationKey['material'], kid: string | undefined = undefined): VerificationKey {
  return { kid, algorithms: new Set(['HS256']), material };
}

/** A thenable that calls its callbacks `times` times (resolve first, then reject). */
function thenableCallingBack<T>(value: T, times: number): PromiseLike<T> {
  return {
    then(onFulfilled?: ((value: T) => unknown) | null, onRejected?: ((reason: unknown) => unknown) | null) {
      for (let i = 0; i < times; i++) {
        if (i % 2 === 0) onFulfilled?.(value);
        else onRejected?.(new Error('second callback'));
      }
      return undefined as never;
    },
  } as PromiseLike<T>;
}

const throwingProxy = new Proxy(
  {},
  {
    get() {
      throw new Error('proxy get');
    },
    has() {
      throw new Error('proxy has');
    },
    getPrototypeOf() {
      throw new Error('proxy getPrototypeOf');
    },
  },
);

describe('fresh path review: never a synchronous throw, the bound always released', () => {
  let idp: TestIssuer;
  let token: string;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
    token = await idp.sign({ sub: 'alice', jti: 'j-1' });
  });

  const hostileResolvers: Array<[string, () => KeyResolver['getKeys'], string]> = [
    [
      'getKeys throws an Error synchronously',
      () => () => {
        throw new Error('boom');
      },
      'ERR_AUTH_INTERNAL',
    ],
    [
      'getKeys throws a string',
      () => () => {
        throw 'boom';
      },
      'ERR_AUTH_INTERNAL',
    ],
    [
      'getKeys throws undefined',
      () => () => {
        throw undefined;
      },
      'ERR_AUTH_INTERNAL',
    ],
    ['getKeys rejects with null', () => () => Promise.reject(null), 'ERR_AUTH_INTERNAL'],
    ['getKeys answers undefined', () => () => undefined as never, 'ERR_AUTH_INTERNAL'],
    ['getKeys answers a number', () => () => 42 as never, 'ERR_AUTH_INTERNAL'],
    ['getKeys answers an empty array', () => () => [], 'ERR_AUTH_KEY_NOT_FOUND'],
    ['getKeys answers [undefined]', () => () => [undefined as never], 'ERR_AUTH_INTERNAL'],
    ['getKeys answers a throwing Proxy', () => () => throwingProxy as never, 'ERR_AUTH_INTERNAL'],
    [
      'getKeys answers an object whose then getter throws',
      () => () =>
        ({
          get then(): never {
            throw new Error('then getter');
          },
        }) as never,
      'ERR_AUTH_INTERNAL',
    ],
    ['getKeys answers a thenable calling back twice (resolve with [], then reject)', () => () => thenableCallingBack([], 2) as never, 'ERR_AUTH_KEY_NOT_FOUND'],
    [
      'key.material throws synchronously',
      () => () => [
        keyWithMaterial(() => {
          throw new Error('material');
        }),
      ],
      'ERR_AUTH_INTERNAL',
    ],
    ['key.material rejects with a string', () => () => [keyWithMaterial(() => Promise.reject('nope'))], 'ERR_AUTH_INTERNAL'],
    ['key.material answers garbage', () => () => [keyWithMaterial(() => 'not a key' as never)], 'ERR_AUTH_INTERNAL'],
    ['key.material answers a thenable calling back twice', () => () => [keyWithMaterial(() => thenableCallingBack('x', 3) as never)], 'ERR_AUTH_INTERNAL'],
    [
      'two keys (no kid path), both throwing',
      () => () => [keyWithMaterial(() => Promise.reject(new Error('a'))), keyWithMaterial(() => throwingProxy as never)],
      'ERR_AUTH_INTERNAL',
    ],
  ];

  for (const cache of [true, false]) {
    for (const [name, make, code] of hostileResolvers) {
      it(`cache ${cache ? 'on' : 'off'}: ${name} → rejection ${code}, and 500 failures leave the bound of 1 free`, async () => {
        let failing = true;
        const hostile = make();
        const keys = resolverAnswering((lookup) => (failing ? hostile(lookup) : idp.keys.getKeys(lookup)));
        const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], maxConcurrentVerifications: 1, ...(cache ? {} : { cache: false }) });
        for (let i = 0; i < 500; i++) assert.equal(await outcomeOf(authenticator, token), code);
        failing = false;
        assert.equal(await outcomeOf(authenticator, token), 'OK', 'no place under the bound leaked, no in-flight entry left');
        authenticator.close();
      });
    }
  }

  it('a clock that throws (or answers NaN) at any one of its reads during a fresh verification → ERR_AUTH_INTERNAL, the bound freed', async () => {
    for (const fault of ['throw', 'NaN'] as const) {
      for (let failingRead = 1; failingRead <= 8; failingRead++) {
        let reads = 0;
        let armed = true;
        const clock = (): number => {
          reads += 1;
          if (!armed || reads !== failingRead) return Date.now();
          if (fault === 'throw') throw new Error('clock');
          return Number.NaN;
        };
        const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock, maxConcurrentVerifications: 1 });
        const fresh = await idp.sign({ sub: `clock-${fault}-${failingRead}` });
        assert.match(await outcomeOf(authenticator, fresh), /^(ERR_AUTH_INTERNAL|OK)$/);
        armed = false;
        assert.equal(await outcomeOf(authenticator, await idp.sign({ sub: 'next' })), 'OK', `read ${failingRead} (${fault}): the bound is free`);
      }
    }
  });

  it('a proof whose clientCertificate getter throws (or is a throwing Proxy) → ERR_AUTH_INTERNAL for a certificate-bound token, fresh and cached', async () => {
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const bound = await idp.sign({ sub: 'alice', cnf: { 'x5t#S256': 'A'.repeat(43) } });
    const proofs: unknown[] = [
      throwingProxy,
      {
        get clientCertificate(): never {
          throw 'str';
        },
      },
      { clientCertificate: throwingProxy },
    ];
    for (const proof of proofs) {
      for (let i = 0; i < 2; i++) {
        const code = await authenticator.authenticate(bound, METHOD, proof as never).then(
          () => 'OK',
          (error: unknown) => String((error as { code?: unknown } | null)?.code ?? `NOT AN AUTH ERROR: ${String(error)}`),
        );
        assert.equal(code, 'ERR_AUTH_INTERNAL');
      }
    }
  });

  it('a key whose kid getter throws after the signature verified → rejection, bound released', async () => {
    const [real] = (await idp.keys.getKeys({ alg: 'HS256', kid: undefined })) as VerificationKey[];
    let throwing = true;
    const key: VerificationKey = {
      get kid(): string | undefined {
        if (throwing) throw new Error('kid getter');
        return real?.kid;
      },
      algorithms: new Set(['HS256']),
      material: (alg) => (real as VerificationKey).material(alg),
    };
    const authenticator = createAuthenticator({ keys: resolverAnswering(() => [key]), algorithms: ['HS256'], maxConcurrentVerifications: 1 });
    for (let i = 0; i < 50; i++) assert.match(await outcomeOf(authenticator, token), /^ERR_AUTH_/);
    throwing = false;
    assert.equal(await outcomeOf(authenticator, token), 'OK');
  });

  it('a resolver that never answers holds its place: a second token is refused VERIFIER_BUSY, not hung, and the first call stays pending', async () => {
    const authenticator = createAuthenticator({
      keys: resolverAnswering(() => new Promise<never>(() => undefined)),
      algorithms: ['HS256'],
      maxConcurrentVerifications: 1,
    });
    let settled = false;
    void authenticator.authenticate(token, METHOD).then(
      () => (settled = true),
      () => (settled = true),
    );
    // The same token joins the verification under way (costs no place); another one is refused.
    assert.equal(await outcomeOf(authenticator, await idp.sign({ sub: 'bob' })), 'ERR_AUTH_VERIFIER_BUSY');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, false);
  });

  const hostileHooks: Array<[string, () => unknown]> = [
    [
      'throws an Error',
      () => {
        throw new Error('hook');
      },
    ],
    [
      'throws null',
      () => {
        throw null;
      },
    ],
    ['rejects with a number', () => Promise.reject(7)],
    ['answers a throwing Proxy', () => throwingProxy],
    ['answers a thenable resolving true then rejecting', () => thenableCallingBack(true, 2)],
    ['answers a thenable that never calls back, then a resolving one', () => thenableCallingBack(true, 0)],
    ['answers "true"', () => 'true'],
  ];
  for (const [name, hook] of hostileHooks) {
    it(`validate ${name}: a rejection with an ERR_AUTH_* code (or the thenable's true), on a fresh token and on a hit`, async () => {
      const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], validate: hook as never, maxConcurrentVerifications: 1 });
      const first = await Promise.race([outcomeOf(authenticator, token), new Promise((resolve) => setTimeout(() => resolve('PENDING'), 200))]);
      const second = await Promise.race([outcomeOf(authenticator, token), new Promise((resolve) => setTimeout(() => resolve('PENDING'), 200))]);
      for (const answer of [first, second]) assert.match(String(answer), /^(ERR_AUTH_|OK$|PENDING$)/);
      // The bound is free: another token starts a verification (whatever its hook says).
      const other = await idp.sign({ sub: 'carol' });
      const third = await Promise.race([outcomeOf(authenticator, other), new Promise((resolve) => setTimeout(() => resolve('PENDING'), 200))]);
      assert.notEqual(third, 'ERR_AUTH_VERIFIER_BUSY');
    });
  }

  it('a revocation store whose match throws, or a Proxy store, → ERR_AUTH_REVOCATIONS_UNAVAILABLE or another ERR_AUTH_* code, never a throw', async () => {
    const throwingMatch = {
      match: () => {
        throw new Error('match');
      },
      revoke: async () => undefined,
      unrevoke: async () => false,
    };
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], revocations: throwingMatch, maxConcurrentVerifications: 1 });
    for (let i = 0; i < 3; i++) assert.equal(await outcomeOf(authenticator, token), 'ERR_AUTH_REVOCATIONS_UNAVAILABLE');
    assert.equal(await outcomeOf(authenticator, await idp.sign({ sub: 'dave' })), 'ERR_AUTH_REVOCATIONS_UNAVAILABLE', 'the bound is free');
  });
});

describe('fresh path review: hostile revocation stores', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
  });
  const plain = { revoke: async () => undefined, unrevoke: async () => false };

  const stores: Array<[string, () => object]> = [
    ['a store whose match answers a promise', () => ({ ...plain, match: () => Promise.resolve(undefined) })],
    [
      'a store whose match answers a thenable whose then getter throws',
      () => ({
        ...plain,
        match: () => ({
          get then(): never {
            throw new Error('then');
          },
        }),
      }),
    ],
    ['a store whose match answers a number', () => ({ ...plain, match: () => 1 })],
    ['a store whose match answers a throwing Proxy', () => ({ ...plain, match: () => throwingProxy })],
    [
      'a Proxy store that throws on any symbol read (after construction checked its methods)',
      () =>
        new Proxy(
          { ...plain, match: () => undefined },
          {
            get(target, name) {
              if (typeof name === 'symbol') throw new Error('symbol read');
              return (target as Record<string, unknown>)[name];
            },
          },
        ),
    ],
  ];
  for (const [name, make] of stores) {
    for (const cache of [true, false]) {
      it(`cache ${cache ? 'on' : 'off'}: ${name} → a rejection with an ERR_AUTH_* code, on a fresh token and a hit, never an admission`, async () => {
        const authenticator = createAuthenticator({
          keys: idp.keys,
          algorithms: ['HS256'],
          revocations: make() as never,
          maxConcurrentVerifications: 1,
          ...(cache ? {} : { cache: false }),
        });
        const token = await idp.sign({ sub: 'alice' });
        for (let i = 0; i < 3; i++) {
          const answer = await outcomeOf(authenticator, token);
          assert.match(answer, /^ERR_AUTH_/);
          assert.notEqual(answer, 'ERR_AUTH_VERIFIER_BUSY');
        }
      });
    }
  }
});

describe('fresh path review: in-flight sharing', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
  });

  /** A resolver over idp.keys that holds every lookup until `release()`, counting lookups. */
  function gated(): KeyResolver & { lookups: number; release(): void } {
    let open: () => void = () => undefined;
    let gate = new Promise<void>((resolve) => (open = resolve));
    const resolver = {
      ...resolverAnswering(async (lookup) => {
        resolver.lookups += 1;
        await gate;
        return idp.keys.getKeys(lookup);
      }),
      lookups: 0,
      release() {
        open();
        gate = new Promise<void>((resolve) => (open = resolve));
      },
    };
    return resolver;
  }

  it('50 concurrent calls with one new token: one lookup, one shared context, then a cache hit', async () => {
    const keys = gated();
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], maxConcurrentVerifications: 1 });
    const token = await idp.sign({ sub: 'alice' });
    const calls = Array.from({ length: 50 }, () => authenticator.authenticate(token, METHOD));
    keys.release();
    const answers = await Promise.all(calls);
    assert.equal(keys.lookups, 1);
    assert.ok(answers.every((answer) => answer.context === answers[0]?.context));
    await authenticator.authenticate(token, METHOD);
    assert.equal(keys.lookups, 1, 'the shared verification filled the cache');
  });

  it('a forged token verified at the same time as a genuine one does not poison it (and vice versa)', async () => {
    const keys = gated();
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'] });
    const genuine = await idp.sign({ sub: 'alice' });
    const forged = `${genuine.slice(0, genuine.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    const calls = [genuine, forged, genuine, forged].map((token) => outcomeOf(authenticator, token));
    keys.release();
    assert.deepEqual(await Promise.all(calls), ['OK', 'ERR_AUTH_SIGNATURE_INVALID', 'OK', 'ERR_AUTH_SIGNATURE_INVALID']);
  });

  it('a shared verification that fails is not remembered: the next call with the same token is verified afresh', async () => {
    let failing = true;
    const keys = resolverAnswering((lookup) => (failing ? Promise.reject(new Error('down')) : idp.keys.getKeys(lookup)));
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'] });
    const token = await idp.sign({ sub: 'alice' });
    assert.deepEqual(await Promise.all([outcomeOf(authenticator, token), outcomeOf(authenticator, token)]), ['ERR_AUTH_INTERNAL', 'ERR_AUTH_INTERNAL']);
    failing = false;
    assert.equal(await outcomeOf(authenticator, token), 'OK');
  });

  it('a joiner whose validate hook refuses does not refuse the other joiners of the same verification', async () => {
    const keys = gated();
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], validate: (_claims, { method }) => method !== '/deny' });
    const token = await idp.sign({ sub: 'alice' });
    const denied = authenticator.authenticate(token, '/deny').then(
      () => 'OK',
      (error: { code: string }) => error.code,
    );
    const allowed = outcomeOf(authenticator, token);
    keys.release();
    assert.deepEqual(await Promise.all([denied, allowed]), ['ERR_AUTH_TOKEN_REJECTED', 'OK']);
  });

  for (const [kind, revocation] of [
    ['jti', (iss: string) => ({ kind: 'token', issuer: iss, jti: 'j-1' })],
    ['subject', (iss: string) => ({ kind: 'subject', issuer: iss, subject: 'alice' })],
    ['client', (iss: string) => ({ kind: 'client', issuer: iss, clientId: 'app-1' })],
  ] as const) {
    it(`revocation by ${kind} landing while the signature is being checked refuses every joiner ERR_AUTH_TOKEN_REVOKED`, async () => {
      const keys = gated();
      const revocations = createMemoryRevocationStore();
      const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], revocations });
      const token = await idp.sign({ sub: 'alice', jti: 'j-1', azp: 'app-1', iat: Math.floor(Date.now() / 1000) - 10 });
      const calls = [outcomeOf(authenticator, token), outcomeOf(authenticator, token)];
      await revocations.revoke(revocation(idp.issuer) as never);
      keys.release();
      assert.deepEqual(await Promise.all(calls), ['ERR_AUTH_TOKEN_REVOKED', 'ERR_AUTH_TOKEN_REVOKED']);
    });

    it(`revocation by ${kind} after the token was cached (nothing revoked before) refuses the next hit; unrevoke admits it again`, async () => {
      const revocations = createMemoryRevocationStore();
      const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], revocations });
      const token = await idp.sign({ sub: 'alice', jti: 'j-1', azp: 'app-1', iat: Math.floor(Date.now() / 1000) - 10 });
      assert.equal(await outcomeOf(authenticator, token), 'OK');
      const revoked = revocation(idp.issuer) as never;
      await revocations.revoke(revoked);
      assert.equal(await outcomeOf(authenticator, token), 'ERR_AUTH_TOKEN_REVOKED');
      assert.equal(await outcomeOf(authenticator, token), 'ERR_AUTH_TOKEN_REVOKED');
      const { kind: _kind, ...target } = revocation(idp.issuer) as Record<string, string>;
      assert.equal(await revocations.unrevoke({ kind: revocation(idp.issuer).kind, ...target } as never), true);
      assert.equal(await outcomeOf(authenticator, token), 'OK', 'the store is empty again');
    });
  }

  it('tokenId (crypto.hash) is the SHA-256 of the signing input as before, the same for every spelling of the signature', async () => {
    const { tokenIdOf } = await import('../../src/verify/verifier.ts');
    const token = await idp.sign({ sub: 'alice' });
    const input = token.slice(0, token.lastIndexOf('.'));
    assert.equal(tokenIdOf(token), createHash('sha256').update(input).digest('base64url'));
    assert.equal(tokenIdOf(`${input}.AAAA`), tokenIdOf(token));
    const { context } = await createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] }).authenticate(token, METHOD);
    assert.equal(context.tokenId, tokenIdOf(token));
  });

  it('revocation by tokenId of a cached token, and while it is being verified', async () => {
    const keys = gated();
    const revocations = createMemoryRevocationStore();
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], revocations });
    const cached = await idp.sign({ sub: 'alice' });
    const pending = outcomeOf(authenticator, cached);
    keys.release();
    assert.equal(await pending, 'OK');
    const { context } = await authenticator.authenticate(cached, METHOD);
    await revocations.revoke({ kind: 'token', tokenId: context.tokenId });
    assert.equal(await outcomeOf(authenticator, cached), 'ERR_AUTH_TOKEN_REVOKED');

    const fresh = await idp.sign({ sub: 'bob' });
    const { tokenIdOf } = await import('../../src/verify/verifier.ts');
    const inFlight = outcomeOf(authenticator, fresh);
    await revocations.revoke({ kind: 'token', tokenId: tokenIdOf(fresh) });
    keys.release();
    assert.equal(await inFlight, 'ERR_AUTH_TOKEN_REVOKED');
  });

  it('a custom store (no fast path) sees the verified context on every call, and its answer is obeyed on hits', async () => {
    const seen: unknown[] = [];
    let revoked = false;
    const store = {
      match(token: { tokenId: string; claims: object }) {
        seen.push(token);
        return revoked ? { kind: 'token' as const, issuer: '', forgetAt: new Date(Date.now() + 60_000) } : undefined;
      },
      revoke: async () => undefined,
      unrevoke: async () => false,
    };
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], revocations: store as never });
    const token = await idp.sign({ sub: 'alice' });
    const { context } = await authenticator.authenticate(token, METHOD);
    assert.ok(seen.length >= 1 && seen.every((token) => token === context));
    revoked = true;
    assert.equal(await outcomeOf(authenticator, token), 'ERR_AUTH_TOKEN_REVOKED');
  });
});

describe('fresh path review: the context', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
  });

  it('no handler can change what another call sees: fields, claims, scopes, roles, audience, header, Dates, prototype', async () => {
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], roleClaims: ['roles'] });
    const token = await idp.sign({ sub: 'alice', scope: 'a b', roles: ['admin'], nested: { deep: [1] } }, { expiresIn: 600 });
    const { context } = await authenticator.authenticate(token, METHOD);
    const attempts: Array<() => unknown> = [
      () => ((context as { subject: string }).subject = 'mallory'),
      () => ((context as unknown as { expiresAt: Date }).expiresAt = new Date(0)),
      () => Object.defineProperty(context, 'expiresAt', { value: new Date(8.64e15) }),
      () => Object.setPrototypeOf(context, null),
      () => (context.scopes as string[]).push('admin'),
      () => (context.roles as string[]).push('root'),
      () => (context.audience as string[]).push('x'),
      () => ((context.claims as Record<string, unknown>).sub = 'mallory'),
      () => ((context.claims as { nested: { deep: number[] } }).nested.deep as number[]).push(2),
      () => ((context.header as Record<string, unknown>).alg = 'none'),
      () => ((Object.getPrototypeOf(context) as Record<string, unknown>).toJSON = () => ({})),
      () => delete (Object.getPrototypeOf(context) as Record<string, unknown>).expiresAt,
    ];
    for (const attempt of attempts) assert.throws(attempt, TypeError);
    context.expiresAt?.setTime(0);
    assert.notEqual(context.expiresAt?.getTime(), 0);
    const again = await authenticator.authenticate(token, METHOD);
    assert.equal(again.context, context, 'a cache hit: the same shared object');
    assert.equal(again.context.subject, 'alice');
    assert.deepEqual(again.context.scopes, ['a', 'b']);
    assert.deepEqual(again.context.roles, ['admin']);
  });

  it('the constructor reachable from a context cannot mint a context that passes for a verified one in the library', async () => {
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const { context } = await authenticator.authenticate(await idp.sign({ sub: 'alice' }), METHOD);
    // Reaching the class is harmless as long as nothing trusts `instanceof` it; pin that the class cannot be
    // grown from a handler either.
    const Class = context.constructor as unknown as Record<string, unknown>;
    assert.ok(Object.isFrozen(Object.getPrototypeOf(context)));
    assert.throws(() => {
      (Class as { prototype: Record<string, unknown> }).prototype.isAdmin = true;
    }, TypeError);
  });

  it('copies: keys/spread hold the data fields only, JSON every field, structuredClone and inspect do not throw', async () => {
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const token = await idp.sign({ sub: 'alice' }, { expiresIn: 600 });
    const { context } = await authenticator.authenticate(token, METHOD);
    const keys = Object.keys(context);
    assert.ok(!keys.includes('expiresAt') && !keys.includes('issuedAt') && !keys.includes('toJSON'));
    assert.ok(!('expiresAt' in { ...context }));
    const json = JSON.parse(JSON.stringify(context)) as Record<string, unknown>;
    assert.equal(json.expiresAt, context.expiresAt?.toISOString());
    assert.equal(json.issuedAt, context.issuedAt?.toISOString());
    assert.deepEqual(
      Object.keys(json),
      ['subject', 'issuer', 'audience', 'scopes', 'roles', 'expiresAt', 'issuedAt', 'claims', 'header', 'token', 'tokenId', 'confirmation'].filter(
        (k) => k !== 'confirmation',
      ),
    );
    const clone = structuredClone(context) as unknown as Record<string, unknown>;
    assert.equal(clone.subject, 'alice');
    // What the TSDoc of AuthContext says: a structured clone (postMessage to a worker) is a plain object of
    // the data fields; the Dates must be read by name (or sent as JSON).
    assert.equal(Object.getPrototypeOf(clone), Object.prototype);
    assert.ok(!('expiresAt' in clone) && !('issuedAt' in clone));
    assert.throws(() => assert.deepStrictEqual(context, { ...context }), 'a plain copy is not deep-strict-equal: its prototype differs');
    assert.match(inspect(context), /alice/);
  });

  it('a context from the testing issuer through createAuthenticator is the same class as any verified one', async () => {
    const other = await createTestIssuer({ alg: 'ES256' });
    const a = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const b = createAuthenticator({ keys: other.keys, algorithms: ['ES256'] });
    const { context: first } = await a.authenticate(await idp.sign({ sub: 'alice' }), METHOD);
    const { context: second } = await b.authenticate(await other.sign({ sub: 'bob' }), METHOD);
    assert.equal(Object.getPrototypeOf(first), Object.getPrototypeOf(second));
  });
});

/** A compact token signed with node:crypto (no library code), header as given. */
function signed(alg: string, privateKey: KeyObject, header: Record<string, unknown>, claims: Record<string, unknown> = {}): string {
  const payload = { exp: Math.floor(Date.now() / 1000) + 600, ...claims };
  const input = `${Buffer.from(JSON.stringify({ alg, ...header })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const digest = alg === 'EdDSA' || alg === 'Ed25519' ? null : `sha${alg.slice(2)}`;
  const options = alg.startsWith('PS')
    ? { key: privateKey, padding: 6, saltLength: Number(alg.slice(2)) / 8 }
    : alg.startsWith('ES')
      ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const }
      : privateKey;
  return `${input}.${sign(digest, Buffer.from(input), options).toString('base64url')}`;
}

describe('fresh path review: keys handed to jose as CryptoKeys (same verdicts as with KeyObjects)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ed = generateKeyPairSync('ed25519');
  const ed448 = generateKeyPairSync('ed448');
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });

  /** A key forced onto `algorithms` (bypassing the checks of fromPem/fromJwks, as a custom resolver might). */
  function forced(publicKey: KeyObject, algorithms: string[]): KeyResolver {
    return new StaticKeyResolver('public', 'forced', [new PublicVerificationKey(publicKey, 'k', new Set(algorithms))]);
  }

  // Verdicts recorded on 412e04e^1 (KeyObjects handed to jose): the change must keep every one, twice in a
  // row (the second call uses the memoised material).
  const cases: Array<[string, KeyObject, Algorithm, KeyObject, string]> = [
    ['RS256 with a 2048-bit RSA key', rsa.publicKey, 'RS256', rsa.privateKey, 'OK'],
    ['PS384 with the same RSA key', rsa.publicKey, 'PS384', rsa.privateKey, 'OK'],
    ['ES256 with a P-256 key', p256.publicKey, 'ES256', p256.privateKey, 'OK'],
    ['EdDSA with an Ed25519 key', ed.publicKey, 'EdDSA', ed.privateKey, 'OK'],
    ['Ed25519 with an Ed25519 key', ed.publicKey, 'Ed25519', ed.privateKey, 'OK'],
    ['ES384 with a P-256 key', p256.publicKey, 'ES384', p256.privateKey, 'ERR_AUTH_INTERNAL'],
    ['ES256 with a P-384 key', p384.publicKey, 'ES256', p384.privateKey, 'ERR_AUTH_INTERNAL'],
    ['EdDSA with an Ed448 key', ed448.publicKey, 'EdDSA', ed448.privateKey, 'ERR_AUTH_INTERNAL'],
    ['PS256 with an RSA-PSS key', pss.publicKey, 'PS256', pss.privateKey, 'ERR_AUTH_INTERNAL'],
    ['RS256 with an EC key', p256.publicKey, 'RS256', rsa.privateKey, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
    ['ES256 with an RSA key', rsa.publicKey, 'ES256', p256.privateKey, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
  ];
  for (const [name, publicKey, alg, privateKey, expected] of cases) {
    it(`${name} → ${expected}, twice`, async () => {
      const authenticator = createAuthenticator({ keys: forced(publicKey, [alg]), algorithms: [alg], cache: false });
      const token = signed(alg, privateKey, { kid: 'k' }, { sub: 'alice' });
      assert.equal(await outcomeOf(authenticator, token), expected);
      assert.equal(await outcomeOf(authenticator, token), expected);
    });
  }

  it('a key imported for RS256 is not used for PS256 (one CryptoKey per algorithm): a token signed PS256 but labelled RS256 is refused', async () => {
    const authenticator = createAuthenticator({ keys: forced(rsa.publicKey, ['RS256', 'PS256']), algorithms: ['RS256', 'PS256'], cache: false });
    assert.equal(await outcomeOf(authenticator, signed('RS256', rsa.privateKey, { kid: 'k' })), 'OK');
    const pssSigned = signed('PS256', rsa.privateKey, { kid: 'k' });
    const relabelled = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64url')}.${pssSigned.split('.').slice(1).join('.')}`;
    assert.equal(await outcomeOf(authenticator, relabelled), 'ERR_AUTH_SIGNATURE_INVALID');
  });

  it('algorithm confusion: an HS256 token keyed with the public key bytes never verifies against a public-key resolver', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const forged = (() => {
      const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}`;
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    })();
    const authenticator = createAuthenticator({ keys: forced(rsa.publicKey, ['RS256']), algorithms: ['RS256'] });
    assert.equal(await outcomeOf(authenticator, forged), 'ERR_AUTH_ALG_NOT_ALLOWED');
    // A resolver forced to claim HS256 for the public key: jose gets the KeyObject and refuses it.
    const confused = createAuthenticator({ keys: forced(rsa.publicKey, ['HS256']), algorithms: ['HS256'] });
    assert.notEqual(await outcomeOf(confused, forged), 'OK');
    // And the PEM text as an HMAC secret is simply another secret: the forged token verifies only with it.
    assert.equal(await outcomeOf(createAuthenticator({ keys: fromSecret(`${pem}`), algorithms: ['HS256'] }), forged), 'OK');
  });
});

describe('fresh path review: claim, typ, crit and b64 checks as jose’s jwtVerify cases, cache on and off', () => {
  const NOW = 1_900_000_000;
  const issuer = 'https://idp.review.test/';
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = new StaticKeyResolver('public', 'review', [new PublicVerificationKey(publicKey, 'k', new Set(['ES256']))]);
  const base = { iss: issuer, aud: 'orders', sub: 'alice', iat: NOW - 10, exp: NOW + 600 };

  // Our own equivalents of jose's jwtVerify/compactVerify test cases: [name, header, claims, options, code].
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, string]> = [
    ['a plain token', {}, {}, {}, 'OK'],
    ['crit naming a present parameter', { crit: ['exp'], exp: 1 }, {}, {}, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
    ['crit: b64 with b64 false', { crit: ['b64'], b64: false }, {}, {}, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
    ['b64 false without crit', { b64: false }, {}, {}, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
    ['b64 true without crit', { b64: true }, {}, {}, 'OK'],
    ['an empty crit', { crit: [] }, {}, {}, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
    ['crit null', { crit: null }, {}, {}, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
    ['typ required, absent', {}, {}, { typ: 'at+jwt' }, 'ERR_AUTH_TOKEN_TYPE_INVALID'],
    ['typ required, another', { typ: 'JWT' }, {}, { typ: 'at+jwt' }, 'ERR_AUTH_TOKEN_TYPE_INVALID'],
    ['typ required, given with application/ and in capitals', { typ: 'application/AT+JWT' }, {}, { typ: 'at+jwt' }, 'OK'],
    ['kid a number', { kid: 1 }, {}, {}, 'ERR_AUTH_TOKEN_HEADER_INVALID'],
    ['exp now (the exact second is dead)', {}, { exp: NOW }, {}, 'ERR_AUTH_TOKEN_EXPIRED'],
    ['exp now, tolerance 1 s', {}, { exp: NOW }, { clockTolerance: 1 }, 'OK'],
    ['exp a string', {}, { exp: String(NOW + 600) }, {}, 'ERR_AUTH_CLAIM_INVALID'],
    ['exp absent', {}, { exp: undefined }, {}, 'ERR_AUTH_CLAIM_MISSING'],
    ['nbf in 10 s', {}, { nbf: NOW + 10 }, {}, 'ERR_AUTH_TOKEN_NOT_YET_VALID'],
    ['nbf in 10 s, tolerance 10 s', {}, { nbf: NOW + 10 }, { clockTolerance: 10 }, 'OK'],
    ['iat in 10 s', {}, { iat: NOW + 10 }, {}, 'ERR_AUTH_TOKEN_NOT_YET_VALID'],
    ['iss another', {}, { iss: 'https://idp.review.test' }, { issuer }, 'ERR_AUTH_ISSUER_INVALID'],
    ['iss absent while required', {}, { iss: undefined }, { issuer }, 'ERR_AUTH_ISSUER_INVALID'],
    ['aud an array holding ours', {}, { aud: ['x', 'orders'] }, { audience: 'orders' }, 'OK'],
    ['aud another', {}, { aud: 'ORDERS' }, { audience: 'orders' }, 'ERR_AUTH_AUDIENCE_INVALID'],
    ['aud a number', {}, { aud: 1 }, { audience: 'orders' }, 'ERR_AUTH_CLAIM_INVALID'],
    ['sub another', {}, { sub: 'bob' }, { subject: 'alice' }, 'ERR_AUTH_CLAIM_INVALID'],
    ['maxTokenAge exceeded', {}, { iat: NOW - 61 }, { maxTokenAge: 60 }, 'ERR_AUTH_TOKEN_TOO_OLD'],
    ['maxTokenAge exactly reached', {}, { iat: NOW - 60 }, { maxTokenAge: 60 }, 'OK'],
    ['maxTokenAge without iat', {}, { iat: undefined }, { maxTokenAge: 60 }, 'ERR_AUTH_CLAIM_MISSING'],
    ['requiredClaims missing', {}, {}, { requiredClaims: ['jti'] }, 'ERR_AUTH_CLAIM_MISSING'],
  ];

  for (const cache of [true, false]) {
    for (const [name, header, claims, options, code] of cases) {
      it(`cache ${cache ? 'on' : 'off'}: ${name} → ${code}, on the first call and the next`, async () => {
        const authenticator = createAuthenticator({
          keys,
          algorithms: ['ES256'],
          clock: () => NOW * 1000,
          clockTolerance: 0,
          ...options,
          ...(cache ? {} : { cache: false }),
        });
        const token = signed('ES256', privateKey, { kid: 'k', ...header }, { ...base, ...claims });
        assert.equal(await outcomeOf(authenticator, token), code);
        assert.equal(await outcomeOf(authenticator, token), code);
      });
    }
  }

  it('a payload that is a JSON array or not UTF-8 → ERR_AUTH_TOKEN_MALFORMED', async () => {
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], clock: () => NOW * 1000 });
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'k' })).toString('base64url');
    for (const payload of [Buffer.from('[1]'), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), Buffer.from('\uFEFF{}')]) {
      const input = `${header}.${payload.toString('base64url')}`;
      const token = `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
      assert.equal(await outcomeOf(authenticator, token), 'ERR_AUTH_TOKEN_MALFORMED');
    }
  });

  it('a cached token is refused once the clock passes its exp (the cache keeps no token past its time)', async () => {
    let now = NOW;
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'], clock: () => now * 1000, clockTolerance: 0 });
    const token = signed('ES256', privateKey, { kid: 'k' }, { ...base, exp: NOW + 5 });
    assert.equal(await outcomeOf(authenticator, token), 'OK');
    now = NOW + 5;
    assert.equal(await outcomeOf(authenticator, token), 'ERR_AUTH_TOKEN_EXPIRED');
  });
});

describe('fresh path review: a JWKS refresh keeps an unchanged key (sameKeyAs) and drops a changed one', () => {
  let server: Server;
  let url: string;
  let published: object[] = [];
  let fetches = 0;
  const first = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const second = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = (publicKey: KeyObject, extra: Record<string, unknown> = {}) => ({ ...publicKey.export({ format: 'jwk' }), kid: 'k1', ...extra });

  before(async () => {
    server = createServer((_request, response) => {
      fetches += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Publishes `keys`, then makes the resolver refetch (a token with an unknown kid) and waits for the fetch. */
  async function republish(authenticator: Authenticator, keys: object[]): Promise<void> {
    published = keys;
    const before = fetches;
    await new Promise((resolve) => setTimeout(resolve, 5)); // past the 1 ms cooldown
    await outcomeOf(authenticator, signed('ES256', first.privateKey, { kid: `unknown-${before}` }));
    assert.equal(fetches, before + 1);
  }

  it('same key material (re-serialised with use: sig) → no rotation, the cached token stays a hit; new material under the same kid → its old tokens refused', async () => {
    published = [jwk(first.publicKey)];
    const rotations: unknown[] = [];
    const keys = fromJwks(url, { cooldown: 0.001, onEvent: (event) => event.type === 'rotated' && rotations.push(event) });
    const { buildAuthenticator } = await import('../../src/verify/authenticator.ts');
    const core = buildAuthenticator({ keys, algorithms: ['ES256'] });
    const authenticator = createAuthenticator({ keys, algorithms: ['ES256'] });
    const token = signed('ES256', first.privateKey, { kid: 'k1' }, { sub: 'alice' });
    assert.equal(await outcomeOf(authenticator, token), 'OK');
    await core.authenticate(token, METHOD);

    await republish(authenticator, [jwk(first.publicKey, { use: 'sig' })]);
    assert.equal(rotations.length, 0, 'an unchanged key is kept: no rotation');
    const probe = { cacheHit: undefined, verificationTime: undefined, facts: undefined };
    await core.authenticate(token, METHOD, probe);
    assert.equal(probe.cacheHit, true, 'the cached entry survived the refresh');

    await republish(authenticator, [jwk(second.publicKey)]);
    assert.equal(rotations.length, 1);
    assert.equal(await outcomeOf(authenticator, token), 'ERR_AUTH_SIGNATURE_INVALID', 'a token of the replaced key is verified afresh and refused');
    assert.equal(await outcomeOf(authenticator, signed('ES256', second.privateKey, { kid: 'k1' }, { sub: 'alice' })), 'OK');
    keys.close();
  });
});

describe('fresh path review: the interceptor over a hostile resolver', () => {
  let idp: TestIssuer;
  before(async () => {
    idp = await createTestIssuer({ alg: 'HS256' });
  });

  function bearer(token: string): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  }

  for (const [name, hostile] of [
    [
      'throws synchronously',
      () => {
        throw new Error('boom');
      },
    ],
    ['answers undefined', () => undefined],
    ['answers a thenable calling back twice', () => thenableCallingBack([], 2)],
    ['rejects with a string', () => Promise.reject('down')],
  ] as const) {
    it(`getKeys ${name}: every call ends with a status and an ErrorInfo reason, and 200 failures leave the bound of 1 free`, async () => {
      let failing = true;
      const keys = resolverAnswering((lookup) => (failing ? (hostile() as never) : idp.keys.getKeys(lookup)));
      await withAuthServer({ keys, algorithms: ['HS256'], maxConcurrentVerifications: 1 }, async (echo) => {
        const token = await idp.sign({ sub: 'alice' });
        for (let i = 0; i < 200; i += 20) {
          const outcomes = await Promise.all(Array.from({ length: 20 }, async () => unary(echo.client, bearer(token))));
          for (const outcome of outcomes) {
            assert.notEqual(outcome.code, grpc.status.OK);
            assert.match(String(outcome.reason), /^[A-Z][A-Z_]+$/, 'an ErrorInfo reason (the code without ERR_AUTH_)');
          }
        }
        failing = false;
        assert.equal((await unary(echo.client, bearer(token))).code, grpc.status.OK);
        assert.equal(echo.runs.unary, 1, 'no refused call reached the handler');
      });
    });
  }

  it('a call cancelled while its token is verified: the verification completes, fills the cache, and frees the bound', async () => {
    let lookups = 0;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const keys = resolverAnswering(async (lookup) => {
      lookups += 1;
      await gate;
      return idp.keys.getKeys(lookup);
    });
    await withAuthServer({ keys, algorithms: ['HS256'], maxConcurrentVerifications: 1 }, async (echo) => {
      const token = await idp.sign({ sub: 'alice' });
      const call = echo.client.Unary({ text: 'hi' }, bearer(token), (error: grpc.ServiceError | null) => {
        assert.equal(error?.code, grpc.status.CANCELLED);
      });
      const deadline = Date.now() + 5000;
      while (lookups === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      call.cancel();
      await new Promise((resolve) => setTimeout(resolve, 20));
      open();
      assert.equal((await unary(echo.client, bearer(token))).code, grpc.status.OK);
      assert.equal((await unary(echo.client, bearer(await idp.sign({ sub: 'bob' })))).code, grpc.status.OK, 'the bound of 1 is free');
      assert.equal(lookups, 2, 'alice verified once (the cancelled call’s verification was kept), bob once');
      assert.equal(echo.runs.unary, 2, 'the cancelled call never reached its handler');
    });
  });
});

describe('fresh path review: Wycheproof JWS vectors through createAuthenticator (CryptoKey path), cache on and off', () => {
  it('a token the signature layer refuses is never admitted; one it accepts is never refused for its signature; the same answer twice', async () => {
    const { configureKeys, loadVector, verifyCompact, widestAllowlist } = await import('./vectors.ts');
    const file = loadVector('wycheproof/json_web_signature_test.json');
    const SIGNATURE_CODES = new Set(['ERR_AUTH_SIGNATURE_INVALID', 'ERR_AUTH_ALG_NOT_ALLOWED', 'ERR_AUTH_KEY_NOT_FOUND', 'ERR_AUTH_INTERNAL']);
    let checked = 0;
    for (const group of file.testGroups as Array<{ public?: object; private?: object; tests: Array<{ tcId: number; jws: unknown }> }>) {
      const keys = configureKeys([(group.public ?? group.private) as never]);
      if (keys === undefined || 'refused' in keys) continue;
      const algorithms = widestAllowlist(keys.resolver) as Algorithm[];
      for (const cache of [true, false]) {
        const authenticator = createAuthenticator({
          keys: keys.resolver,
          algorithms,
          requireExp: false,
          maxTokenBytes: 1024 * 1024,
          ...(cache ? {} : { cache: false }),
        });
        for (const test of group.tests) {
          if (typeof test.jws !== 'string') continue;
          const layer = await verifyCompact(test.jws, keys);
          const first = await outcomeOf(authenticator, test.jws);
          const second = await outcomeOf(authenticator, test.jws);
          assert.equal(second, first, `tcId ${test.tcId}: the same answer twice (cache ${cache ? 'on' : 'off'})`);
          assert.match(first, /^(OK|ERR_AUTH_[A-Z_]+)$/, `tcId ${test.tcId}`);
          if (!layer.accepted) assert.notEqual(first, 'OK', `tcId ${test.tcId}: refused by the signature layer (${layer.code}), admitted by the authenticator`);
          else assert.ok(!SIGNATURE_CODES.has(first), `tcId ${test.tcId}: accepted by the signature layer, refused ${first}`);
          checked += 1;
        }
      }
    }
    assert.ok(checked > 300, `${checked} cases checked`);
  });
});
