/**
 * `Authenticator.authenticate` answers every input with a promise, and every refusal is an AuthError:
 * an HTTP gateway or a queue consumer passes it whatever it parsed out of a request (`undefined` for a
 * missing header, an array for a repeated one), and `isAuthError` is how it tells a refusal from a bug.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, isAuthError, type Authenticator } from '../../src/index.ts';
import { createTestIssuer } from '../../src/testing/index.ts';

const METHOD = '/acme.orders.v1.Orders/GetOrder';

/** What one call did: threw synchronously, resolved (the subject), or rejected (the code, or 'not an AuthError'). */
async function answer(authenticator: Authenticator, token: unknown, method: unknown = METHOD): Promise<string> {
  let pending: Promise<unknown>;
  try {
    pending = authenticator.authenticate(token as string, method as string);
  } catch {
    return 'threw synchronously';
  }
  if (!(pending instanceof Promise)) return 'not a promise';
  try {
    const { context } = (await pending) as { context: { subject?: string } };
    return `resolved ${context.subject ?? ''}`;
  } catch (error) {
    return isAuthError(error) ? error.code : `not an AuthError: ${String(error)}`;
  }
}

describe('authenticate: a promise for every input, an AuthError for every refusal', () => {
  it('a token that is not a string (undefined, null, a number, an array, a String object, an object, a symbol) → rejects with TOKEN_MALFORMED', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const token = await idp.sign({ sub: 'alice' });
    const hostile: ReadonlyArray<readonly [string, unknown]> = [
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['an array', [token]],
      ['a String object', new String(token)],
      ['an object spelling the token', { toString: () => token }],
      ['a symbol', Symbol('token')],
      ['a null-prototype object', Object.create(null)],
    ];
    for (const [name, value] of hostile) assert.equal(await answer(authenticator, value), 'ERR_AUTH_TOKEN_MALFORMED', name);
    assert.equal(await answer(authenticator, token), 'resolved alice');
  });

  it('a 20 MB token → rejects with TOKEN_TOO_LARGE', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    assert.equal(await answer(authenticator, 'a'.repeat(20_000_000)), 'ERR_AUTH_TOKEN_TOO_LARGE');
  });

  it('a validate hook that throws synchronously on a cache hit → rejects with INTERNAL, never a synchronous throw', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let calls = 0;
    const authenticator = createAuthenticator({
      keys: idp.keys,
      algorithms: ['HS256'],
      validate: () => {
        calls += 1;
        if (calls > 1) throw new Error('denylist down');
        return true;
      },
    });
    const token = await idp.sign({ sub: 'alice' });
    assert.equal(await answer(authenticator, token), 'resolved alice');
    assert.equal(await answer(authenticator, token), 'ERR_AUTH_INTERNAL', 'the second call is a cache hit');
  });
});
