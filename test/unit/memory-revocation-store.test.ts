/**
 * The memory revocation store: revoke/unrevoke apply at once, entries() lists live entries, events,
 * status 'local', options checked, hostile admin input refused with the store unchanged, and
 * revocationOf.
 *
 * Ported behaviours (our own code): djangorestframework-simplejwt tests/test_token_blacklist.py (a
 * blacklisted token no longer validates; blacklisting twice is idempotent; flushing expired entries keeps
 * the live ones); ory/hydra oauth2/fosite_store_helpers_test.go (an entry past its end no longer matches).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError, createMemoryRevocationStore, isAuthError, revocationOf, type RevocationEvent, type RevocationStore } from '../../src/index.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const ISS = 'https://idp.example/';

function clockAt(start: number): { clock: () => number; advance(ms: number): void } {
  let now = start;
  return { clock: () => now, advance: (ms) => void (now += ms) };
}

const token = (claims: Record<string, unknown>, tokenId = 'tid-1') => ({ claims, tokenId });

describe('memory revocation store', () => {
  it('revoke applies at once; unrevoke re-admits and says whether there was one', async () => {
    const store = createMemoryRevocationStore({ clock: () => T0 });
    const alice = token({ iss: ISS, jti: 'a1', sub: 'alice' });
    assert.equal(store.match(alice), undefined);
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'a1' });
    assert.equal(store.match(alice)?.kind, 'token');
    assert.equal(await store.unrevoke({ kind: 'token', issuer: ISS, jti: 'a1' }), true);
    assert.equal(store.match(alice), undefined);
    assert.equal(await store.unrevoke({ kind: 'token', issuer: ISS, jti: 'a1' }), false);
  });

  it('revoking twice is one entry (the later watermark wins)', async () => {
    const store = createMemoryRevocationStore({ clock: () => T0 });
    await store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date(T0 - 1000) });
    await store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date(T0) });
    await store.revoke({ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date(T0 - 5000) });
    const entries = await store.entries();
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0]?.before, new Date(T0));
    assert.equal(store.status().entries, 1);
  });

  it('entries() lists live entries only; an entry past its end no longer matches; live entries survive the sweep', async () => {
    const time = clockAt(T0);
    const store = createMemoryRevocationStore({ clock: time.clock, maxTokenLifetime: 3600 });
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'short', expiresAt: new Date(T0 + 1000) });
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'long', expiresAt: new Date(T0 + 3_600_000) });
    time.advance(1000 + 300_000);
    assert.equal(store.match(token({ iss: ISS, jti: 'short' })), undefined);
    assert.equal(store.match(token({ iss: ISS, jti: 'long' }))?.kind, 'token');
    assert.deepEqual(
      (await store.entries()).map((entry) => entry.target),
      [{ kind: 'token', issuer: ISS, jti: 'long' }],
    );
    // A revoke a minute later sweeps the expired entry from memory, and keeps the live one.
    time.advance(60_000);
    await store.revoke({ kind: 'client', issuer: ISS, clientId: 'web' });
    assert.equal(store.status().entries, 2);
    assert.equal(store.match(token({ iss: ISS, jti: 'long' }))?.kind, 'token');
  });

  it('status: source memory, state local; ready and close resolve', async () => {
    const store = createMemoryRevocationStore();
    await store.ready();
    assert.deepEqual(store.status(), {
      source: 'memory',
      state: 'local',
      entries: 0,
      syncedAt: undefined,
      staleUntil: undefined,
      lastError: undefined,
      nextRetry: undefined,
    });
    await store.close();
  });

  it('subscribe: revoked and unrevoked events, frozen; unsubscribe stops them', async () => {
    const store = createMemoryRevocationStore({ clock: () => T0, maxTokenLifetime: 60 });
    const events: RevocationEvent[] = [];
    const stop = store.subscribe((event) => events.push(event));
    await store.revoke({ kind: 'client', issuer: ISS, clientId: 'web', before: new Date(T0) });
    await store.unrevoke({ kind: 'client', issuer: ISS, clientId: 'web' });
    stop();
    await store.revoke({ kind: 'client', issuer: ISS, clientId: 'web' });
    assert.deepEqual(events, [
      { type: 'revoked', entry: { target: { kind: 'client', issuer: ISS, clientId: 'web' }, before: new Date(T0), forgetAt: new Date(T0 + 360_000) } },
      { type: 'unrevoked', target: { kind: 'client', issuer: ISS, clientId: 'web' } },
    ]);
    assert.ok(events.every((event) => Object.isFrozen(event)));
  });

  it('hostile revoke()/unrevoke() input rejects with a TypeError naming the field, and the store is unchanged', async () => {
    const store = createMemoryRevocationStore({ clock: () => T0 });
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'kept' });
    const hostile: Array<[unknown, RegExp]> = [
      [undefined, /object/],
      [{ kind: 'token', jti: 'a' }, /issuer/],
      [{ kind: 'token', issuer: ISS, jti: 42 }, /jti/],
      [{ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date('not a date') }, /before/],
      [{ kind: 'user', issuer: ISS, subject: 'alice' }, /kind/],
      [{ kind: 'client', issuer: ISS, clientId: 'web', before: '2026-01-01' }, /before/],
    ];
    for (const [revocation, field] of hostile) {
      await assert.rejects(
        store.revoke(revocation as never),
        (error: unknown) => error instanceof TypeError && field.test(error.message),
        String(JSON.stringify(revocation)),
      );
      await assert.rejects(store.unrevoke(revocation as never), TypeError);
    }
    assert.deepEqual(
      (await store.entries()).map((entry) => entry.target),
      [{ kind: 'token', issuer: ISS, jti: 'kept' }],
    );
  });

  it('maxEntries: a revocation beyond it rejects with REVOCATIONS_UNAVAILABLE, none is evicted', async () => {
    const store = createMemoryRevocationStore({ clock: () => T0, maxEntries: 1 });
    await store.revoke({ kind: 'token', issuer: ISS, jti: 'a' });
    await assert.rejects(
      store.revoke({ kind: 'token', issuer: ISS, jti: 'b' }),
      (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
    assert.equal(store.match(token({ iss: ISS, jti: 'a' }))?.kind, 'token');
  });

  it('options: wrong values throw AuthConfigError naming the option', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ maxTokenLifetime: 59 }, 'maxTokenLifetime'],
      [{ maxTokenLifetime: '3600' }, 'maxTokenLifetime'],
      [{ maxTokenLifetime: 31_536_001 }, 'maxTokenLifetime'],
      [{ maxEntries: 0 }, 'maxEntries'],
      [{ maxEntries: 1.5 }, 'maxEntries'],
      [{ clock: 5 }, 'clock'],
      [{ maxTokenLifetme: 60 }, 'maxTokenLifetme'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => createMemoryRevocationStore(options as never),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
        option,
      );
    }
  });

  it('match: something that is no verified token throws a TypeError', () => {
    const store: RevocationStore = createMemoryRevocationStore();
    assert.throws(() => store.match(undefined as never), TypeError);
    assert.throws(() => store.match({ claims: {} } as never), TypeError);
  });
});

describe('revocationOf', () => {
  it('iss + jti when the token has a jti, expiresAt = exp', () => {
    assert.deepEqual(revocationOf(token({ iss: ISS, jti: 'a1', exp: 1_800_000_000 })), {
      kind: 'token',
      issuer: ISS,
      jti: 'a1',
      expiresAt: new Date(1_800_000_000_000),
    });
  });

  it('tokenId when there is no jti (or an empty one); no iss → issuer ""; no exp → kept until 9999 (the token never expires)', () => {
    const last = new Date('9999-12-31T23:59:59Z');
    assert.deepEqual(revocationOf(token({ iss: ISS, exp: 1_800_000_000 }, 'tRw7')), { kind: 'token', tokenId: 'tRw7', expiresAt: new Date(1_800_000_000_000) });
    assert.deepEqual(revocationOf(token({ iss: ISS, jti: '' }, 'tRw7')), { kind: 'token', tokenId: 'tRw7', expiresAt: last });
    assert.deepEqual(revocationOf(token({ jti: 'a1' })), { kind: 'token', issuer: '', jti: 'a1', expiresAt: last });
  });

  it('what it returns revokes that token, and only it', async () => {
    const store = createMemoryRevocationStore();
    const mine = token({ iss: ISS, jti: 'a1', sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 });
    await store.revoke(revocationOf(mine));
    assert.equal(store.match(mine)?.kind, 'token');
    assert.equal(store.match(token({ iss: ISS, jti: 'a2', sub: 'alice' }, 'tid-2')), undefined);
    assert.throws(() => revocationOf(null as never), TypeError);
  });
});
