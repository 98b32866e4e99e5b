import { buildAuthenticator } from '../../src/verify/authenticator.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthenticator, type KeyResolver } from '../../src/index.ts';
import { TokenCache } from '../../src/verify/token-cache.ts';
import { createTestIssuer } from '../../src/testing/index.ts';
import { countingKeys } from '../support/counting-keys.ts';

const METHOD = '/test.v1.S/M';

describe('verified-token cache', () => {
  it('a repeated token is verified once and answered synchronously afterwards', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const keys = countingKeys(idp.keys);
    // The interceptor's authenticator: the public one always answers with a promise.
    const authenticator = buildAuthenticator({ keys, algorithms: ['ES256'] });
    const token = await idp.sign();
    const first = await authenticator.authenticate(token, METHOD);
    const second = authenticator.authenticate(token, METHOD);
    assert.equal(second instanceof Promise, false, 'a hit is synchronous');
    assert.equal((second as typeof first).context, first.context);
    assert.equal(keys.lookups, 1);
    // The public authenticator answers the same hit with a promise, never a bare value or a throw.
    const publicAuthenticator = createAuthenticator({ keys, algorithms: ['ES256'] });
    await publicAuthenticator.authenticate(token, METHOD);
    const hit = publicAuthenticator.authenticate(token, METHOD);
    assert.ok(hit instanceof Promise);
    const refusal = publicAuthenticator.authenticate('not a token', METHOD);
    assert.ok(refusal instanceof Promise, 'a refusal rejects, never throws');
    await assert.rejects(refusal, { code: 'ERR_AUTH_TOKEN_MALFORMED' });
    await hit;
  });

  it('concurrent calls with the same new token share one verification', async () => {
    const idp = await createTestIssuer({ alg: 'RS256' });
    const keys = countingKeys(idp.keys);
    const authenticator = createAuthenticator({ keys, algorithms: ['RS256'] });
    const token = await idp.sign();
    await Promise.all(Array.from({ length: 100 }, async () => authenticator.authenticate(token, METHOD)));
    assert.equal(keys.lookups, 1);
  });

  it('a handler that changes its context.expiresAt or issuedAt Date does not change what the next call (a cache hit) sees', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'] });
    const token = await idp.sign({}, { expiresIn: 60 });
    const first = await authenticator.authenticate(token, METHOD);
    const expiresAt = first.context.expiresAt?.getTime();
    const issuedAt = first.context.issuedAt?.getTime();
    first.context.expiresAt?.setFullYear(3000);
    first.context.issuedAt?.setTime(0);
    const second = await authenticator.authenticate(token, METHOD);
    assert.equal(second.context, first.context, 'the same cached context');
    assert.equal(second.context.expiresAt?.getTime(), expiresAt);
    assert.equal(second.context.issuedAt?.getTime(), issuedAt);
  });

  it('on a hit, exp is checked against the current clock: an entry never outlives exp + tolerance', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let now = Date.now();
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => now, clockTolerance: 5 });
    const token = await idp.sign({}, { expiresIn: 60 });
    await authenticator.authenticate(token, METHOD);
    const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number;
    now = (exp + 4) * 1000;
    await authenticator.authenticate(token, METHOD); // still inside exp + tolerance: admitted
    now = (exp + 5) * 1000;
    await assert.rejects(async () => authenticator.authenticate(token, METHOD), { code: 'ERR_AUTH_TOKEN_EXPIRED' });
  });

  it('on a hit, maxTokenAge still applies as the token ages', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    let now = Date.now();
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['HS256'], clock: () => now, maxTokenAge: 30, clockTolerance: 0 });
    const token = await idp.sign({}, { expiresIn: 600 });
    await authenticator.authenticate(token, METHOD);
    // Whole seconds, inclusive: too old from iat + 31 on, which is at most 32 s after signing.
    now += 32_000;
    await assert.rejects(async () => authenticator.authenticate(token, METHOD), { code: 'ERR_AUTH_TOKEN_TOO_OLD' });
  });

  it('an entry dies when its key leaves the key set (rotation without keeping the old key)', async () => {
    const idp = await createTestIssuer({ alg: 'ES256' });
    const authenticator = createAuthenticator({ keys: idp.keys, algorithms: ['ES256'] });
    const token = await idp.sign();
    await authenticator.authenticate(token, METHOD);
    await idp.rotate({ keepPrevious: true });
    await authenticator.authenticate(token, METHOD); // the old key is still published
    await idp.rotate({ keepPrevious: false });
    await assert.rejects(async () => authenticator.authenticate(token, METHOD), { code: 'ERR_AUTH_KEY_NOT_FOUND' });
  });

  it('failed verifications are never cached: a bad token stays bad, a good token stays good', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const keys = countingKeys(idp.keys);
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'] });
    const tampered = await idp.tamperedToken();
    for (let i = 0; i < 3; i++) await assert.rejects(async () => authenticator.authenticate(tampered, METHOD), { code: 'ERR_AUTH_SIGNATURE_INVALID' });
    assert.equal(keys.lookups, 3, 'every attempt was verified again');
    const good = await idp.sign();
    await authenticator.authenticate(good, METHOD);
    await authenticator.authenticate(good, METHOD);
  });

  it('the validate hook runs on every call, hit or not, and a refusal evicts the entry', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const denylist = new Set<string>();
    let validations = 0;
    const keys = countingKeys(idp.keys);
    const authenticator = createAuthenticator({
      keys,
      algorithms: ['HS256'],
      validate: (claims) => {
        validations += 1;
        return !denylist.has(claims.jti as string);
      },
    });
    const token = await idp.sign({ jti: 'token-1' });
    await authenticator.authenticate(token, METHOD);
    await authenticator.authenticate(token, METHOD);
    assert.equal(validations, 2);
    denylist.add('token-1');
    await assert.rejects(async () => authenticator.authenticate(token, METHOD), { code: 'ERR_AUTH_TOKEN_REJECTED' });
    denylist.delete('token-1');
    await authenticator.authenticate(token, METHOD);
    assert.equal(keys.lookups, 2, 'the refused entry was evicted and verified afresh');
  });

  it('cache: false verifies every call', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const keys = countingKeys(idp.keys);
    const authenticator = createAuthenticator({ keys, algorithms: ['HS256'], cache: false });
    const token = await idp.sign();
    for (let i = 0; i < 3; i++) await authenticator.authenticate(token, METHOD);
    assert.equal(keys.lookups, 3);
  });

  it('bad cache options throw naming the option', async () => {
    const idp = await createTestIssuer({ alg: 'HS256' });
    const base = { keys: idp.keys, algorithms: ['HS256'] as const };
    assert.throws(() => createAuthenticator({ ...base, algorithms: ['HS256'], cache: { maxEntries: 0 } }), { option: 'cache.maxEntries' });
    assert.throws(() => createAuthenticator({ ...base, algorithms: ['HS256'], cache: { maxTtl: -1 } }), { option: 'cache.maxTtl' });
    assert.throws(() => createAuthenticator({ ...base, algorithms: ['HS256'], cache: 'yes' as never }), { option: 'cache' });
    assert.throws(() => createAuthenticator({ ...base, algorithms: ['HS256'], cache: { maxEntrys: 5 } as never }), { option: 'cache.maxEntrys' });
  });
});

describe('TokenCache', () => {
  const holdsAll = { holds: () => true } as unknown as KeyResolver;
  const entry = (validUntil: number | undefined) => ({
    key: {} as never,
    keys: holdsAll,
    usableFrom: Number.NEGATIVE_INFINITY,
    usableUntil: validUntil ?? Number.POSITIVE_INFINITY,
  });

  it('never exceeds maxEntries, and a token used again outlives the ones never used again', () => {
    const cache = new TokenCache({ maxEntries: 3 });
    for (const token of ['a', 'b', 'c']) cache.set(token, entry(undefined), 0);
    assert.ok(cache.get('a', 0), 'a is used again: protected');
    cache.set('d', entry(undefined), 0);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('b', 0), undefined, 'b was the oldest of the tokens never used again');
    assert.ok(cache.get('a', 0));
    for (let i = 0; i < 1000; i++) cache.set(`t${i}`, entry(undefined), 0);
    assert.equal(cache.size, 3);
    assert.ok(cache.get('a', 0), 'new tokens never evict a protected one');
  });

  it('a full cache evicts new tokens in batches of 1% of their room, oldest first, never above maxEntries', () => {
    const cache = new TokenCache({ maxEntries: 1000 });
    for (let i = 0; i < 1000; i++) cache.set(`t${i}`, entry(undefined), 0);
    assert.ok(cache.get('t0', 0), 't0 is used again: protected');
    cache.set('new', entry(undefined), 0);
    // Probation holds the 999 others: the excess (1) and 1% of its room (9) go at once.
    assert.equal(cache.size, 991);
    assert.equal(cache.get('t1', 0), undefined, 'the oldest went first');
    assert.equal(cache.get('t10', 0), undefined);
    assert.ok(cache.get('t11', 0), 'no more than the batch');
    assert.ok(cache.get('t0', 0) && cache.get('new', 0));
    for (let i = 0; i < 5000; i++) {
      cache.set(`u${i}`, entry(undefined), 0);
      assert.ok(cache.size <= 1000);
    }
    assert.ok(cache.get('t0', 0) && cache.get('t11', 0) && cache.get('new', 0), 'tokens used again survive 5,000 new ones');
  });

  it('an entry lives no longer than validUntil and maxTtl (seconds)', () => {
    const cache = new TokenCache({ maxTtl: 10 });
    cache.set('short', entry(5), 0);
    cache.set('long', entry(60), 0);
    assert.ok(cache.get('short', 4.999));
    assert.equal(cache.get('short', 5), undefined);
    assert.ok(cache.get('long', 9.999));
    assert.equal(cache.get('long', 10), undefined, 'maxTtl bounds a long-lived token');
    cache.set('dead', entry(0), 0);
    assert.equal(cache.size, 0, 'an already-expired token is not stored');
  });

  it('an entry whose key the resolver no longer holds is gone', () => {
    const cache = new TokenCache();
    let held = true;
    cache.set('t', { ...entry(undefined), keys: { holds: () => held } as unknown as KeyResolver }, 0);
    assert.ok(cache.get('t', 0));
    held = false;
    assert.equal(cache.get('t', 0), undefined);
    held = true;
    assert.equal(cache.get('t', 0), undefined, 'and stays gone');
  });
});
