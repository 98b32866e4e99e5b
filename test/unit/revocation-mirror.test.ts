/**
 * The revocation mirror and its keys: which tokens each kind of entry matches, max-merging, expiry at
 * `until`, injective entry ids, the state of a shared store's mirror, the maxEntries bound, and that an
 * empty mirror looks nothing up.
 *
 * Ported behaviours (our own code): djangorestframework-simplejwt tests/test_token_blacklist.py
 * (blacklisting twice is idempotent; flushing expired entries keeps the live ones); ory/hydra
 * oauth2/fosite_store_helpers_test.go "inserts same JTI if expired" (an entry past its end no longer
 * counts); Keycloak AuthenticationManager (`iat < notBefore` is stale).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAuthError } from '../../src/errors/auth-error.ts';
import {
  entryIdOf,
  entryOfRevocation,
  publicEntry,
  REVOCATION_GRACE,
  targetOfEntryId,
  tokenLookup,
  type MirrorEntry,
  type TokenLookup,
} from '../../src/stores/revocation-keys.ts';
import { mirrorState, RevocationListeners, RevocationMirror } from '../../src/stores/revocation-mirror.ts';
import type { Revocation, RevocationEvent, RevocationTarget } from '../../src/stores/revocation-store.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const ISS = 'https://idp.example/';
const DAY = 86_400;

function clockAt(start: number): { clock: () => number; advance(ms: number): void } {
  let now = start;
  return { clock: () => now, advance: (ms) => void (now += ms) };
}

function mirrorWith(revocations: readonly Revocation[], clock: () => number = () => T0, maxEntries = 1000): RevocationMirror {
  const mirror = new RevocationMirror({ clock, maxEntries });
  for (const revocation of revocations) mirror.put(...entryOfRevocation(revocation, clock(), DAY));
  return mirror;
}

const lookupOf = (claims: Record<string, unknown>, tokenId = 'tid-1'): TokenLookup => tokenLookup(claims, tokenId);
const iatSeconds = (ms: number): number => ms / 1000;

describe('revocation keys', () => {
  it('entry ids are JSON [kind, issuer, value] and read back to their target', () => {
    const targets: RevocationTarget[] = [
      { kind: 'token', issuer: ISS, jti: 'a1' },
      { kind: 'token', tokenId: 'tRw7' },
      { kind: 'subject', issuer: ISS, subject: 'alice' },
      { kind: 'client', issuer: '', clientId: 'web' },
    ];
    assert.equal(entryIdOf(targets[0] as RevocationTarget), '["t","https://idp.example/","a1"]');
    assert.equal(entryIdOf(targets[1] as RevocationTarget), '["i","","tRw7"]');
    for (const target of targets) assert.deepEqual(targetOfEntryId(entryIdOf(target)), target);
  });

  it('ids with ", \\n, \\u0000 or a "," inside issuer or jti never collide', () => {
    const pairs: [string, string][] = [
      ['a","b', 'c'],
      ['a', 'b","c'],
      ['a\n', 'b'],
      ['a', '\nb'],
      ['a\u0000', 'b'],
      ['a', '\u0000b'],
      ['a\\', 'b'],
      ['a', '\\b'],
      ['a', 'b'],
    ];
    const ids = pairs.map(([issuer, jti]) => entryIdOf({ kind: 'token', issuer, jti }));
    assert.equal(new Set(ids).size, ids.length);
    for (const [index, [issuer, jti]] of pairs.entries()) assert.deepEqual(targetOfEntryId(ids[index] as string), { kind: 'token', issuer, jti });
    // Across kinds too: a subject named like a jti is another entry.
    assert.notEqual(entryIdOf({ kind: 'subject', issuer: ISS, subject: 'a1' }), entryIdOf({ kind: 'token', issuer: ISS, jti: 'a1' }));
  });

  it('targetOfEntryId: anything but a canonical id is undefined', () => {
    for (const id of ['', 'x', '[]', '["t","a"]', '["x","a","b"]', '["t",1,"b"]', '["i","iss","b"]', '[ "t","a","b"]', '["t","a","b",1]', '{"0":"t"}']) {
      assert.equal(targetOfEntryId(id), undefined, id);
    }
  });

  it('entryOfRevocation: token until = expiresAt + 300 s, default now + maxTokenLifetime + 300 s', () => {
    const exp = T0 + 3_600_000;
    assert.deepEqual(entryOfRevocation({ kind: 'token', issuer: ISS, jti: 'a1', expiresAt: new Date(exp) }, T0, DAY)[1], {
      before: undefined,
      until: exp + REVOCATION_GRACE * 1000,
    });
    assert.deepEqual(entryOfRevocation({ kind: 'token', tokenId: 'tRw7' }, T0, 3600)[1], { before: undefined, until: T0 + 3_900_000 });
  });

  it('entryOfRevocation: watermark before defaults to now; until = before + maxTokenLifetime + 300 s', () => {
    assert.deepEqual(entryOfRevocation({ kind: 'subject', issuer: ISS, subject: 'alice' }, T0, 3600)[1], { before: T0, until: T0 + 3_900_000 });
    const before = T0 - 10_000;
    assert.deepEqual(entryOfRevocation({ kind: 'client', issuer: ISS, clientId: 'web', before: new Date(before) }, T0, 3600)[1], {
      before,
      until: before + 3_900_000,
    });
  });

  it('entryOfRevocation: hostile admin input throws a TypeError naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [null, /revocation must be an object/],
      ['token', /revocation must be an object/],
      [{ kind: 'jti', issuer: ISS, jti: 'a' }, /kind/],
      [{ issuer: ISS, jti: 'a' }, /kind/],
      [{ kind: 'token', jti: 'a' }, /issuer/],
      [{ kind: 'token', issuer: 7, jti: 'a' }, /issuer/],
      [{ kind: 'token', issuer: ISS, jti: 7 }, /jti/],
      [{ kind: 'token', issuer: ISS, jti: '' }, /jti/],
      [{ kind: 'token', issuer: ISS }, /jti/],
      [{ kind: 'token', tokenId: 5 }, /tokenId/],
      [{ kind: 'token', tokenId: 'x', issuer: ISS, jti: 'a' }, /issuer|jti/],
      [{ kind: 'token', issuer: ISS, jti: 'a', expiresAt: 'tomorrow' }, /expiresAt/],
      [{ kind: 'token', issuer: ISS, jti: 'a', expiresAt: new Date(Number.NaN) }, /expiresAt/],
      [{ kind: 'token', issuer: ISS, jti: 'a', before: new Date() }, /before/],
      [{ kind: 'subject', subject: 'alice' }, /issuer/],
      [{ kind: 'subject', issuer: ISS }, /subject/],
      [{ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date('nope') }, /before/],
      [{ kind: 'subject', issuer: ISS, subject: 'alice', before: T0 }, /before/],
      [{ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date(8.64e15) }, /before/],
      [{ kind: 'token', issuer: ISS, jti: 'a', expiresAt: new Date(-1) }, /expiresAt/],
      [{ kind: 'subject', issuer: ISS, subject: 'alice', befor: new Date() }, /befor/],
      [{ kind: 'subject', issuer: ISS, subject: 'alice', expiresAt: new Date() }, /expiresAt/],
      [{ kind: 'client', issuer: ISS, clientId: null }, /clientId/],
    ];
    for (const [revocation, field] of cases) {
      assert.throws(
        () => entryOfRevocation(revocation as Revocation, T0, DAY),
        (error: unknown) => error instanceof TypeError && field.test(error.message),
        JSON.stringify(revocation),
      );
    }
  });

  it('publicEntry: the target and Dates; undefined for an unreadable id', () => {
    const entry = publicEntry('["s","iss","alice"]', { before: T0, until: T0 + 1000 });
    assert.deepEqual(entry, { target: { kind: 'subject', issuer: 'iss', subject: 'alice' }, before: new Date(T0), forgetAt: new Date(T0 + 1000) });
    assert.ok(Object.isFrozen(entry));
    assert.equal('before' in (publicEntry('["t","iss","a"]', { before: undefined, until: T0 }) ?? {}), false);
    assert.equal(publicEntry('not json', { before: undefined, until: T0 }), undefined);
  });

  it('tokenLookup: azp over client_id; a non-string azp names no client; no iss is issuer ""', () => {
    assert.equal(lookupOf({ iss: ISS, azp: 'web', client_id: 'other' }).clientId, entryIdOf({ kind: 'client', issuer: ISS, clientId: 'web' }));
    assert.equal(lookupOf({ iss: ISS, azp: 42, client_id: 'other' }).clientId, entryIdOf({ kind: 'client', issuer: ISS, clientId: 'other' }));
    assert.equal(lookupOf({ iss: ISS, azp: ['web'] }).clientId, undefined);
    assert.equal(lookupOf({ sub: 'alice' }).subjectId, entryIdOf({ kind: 'subject', issuer: '', subject: 'alice' }));
    assert.deepEqual(lookupOf({ iss: ISS }, 'tRw7').tokenIds, [entryIdOf({ kind: 'token', tokenId: 'tRw7' })]);
    assert.equal(lookupOf({ iss: ISS, iat: 1_700_000_000 }).issuedAt, 1_700_000_000_000);
    assert.equal(lookupOf({ iss: ISS }).issuedAt, undefined);
  });
});

describe('revocation mirror: matching', () => {
  it('token by iss + jti: same issuer and jti match; another issuer or jti does not', () => {
    const mirror = mirrorWith([{ kind: 'token', issuer: ISS, jti: 'a1' }]);
    assert.deepEqual(mirror.match(lookupOf({ iss: ISS, jti: 'a1' })), {
      kind: 'token',
      issuer: ISS,
      forgetAt: new Date(T0 + (DAY + REVOCATION_GRACE) * 1000),
    });
    assert.equal(mirror.match(lookupOf({ iss: 'https://other.example/', jti: 'a1' })), undefined);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'a2' })), undefined);
    assert.equal(mirror.match(lookupOf({ iss: ISS })), undefined);
  });

  it('token by tokenId: a token without jti is matched by its id', () => {
    const mirror = mirrorWith([{ kind: 'token', tokenId: 'tRw7' }]);
    assert.equal(mirror.match(lookupOf({ iss: ISS }, 'tRw7'))?.kind, 'token');
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'x' }, 'tRw7'))?.kind, 'token');
    assert.equal(mirror.match(lookupOf({ iss: ISS }, 'other')), undefined);
  });

  for (const kind of ['subject', 'client'] as const) {
    const revocation: Revocation =
      kind === 'subject' ? { kind, issuer: ISS, subject: 'alice', before: new Date(T0) } : { kind, issuer: ISS, clientId: 'web', before: new Date(T0) };
    const claims = kind === 'subject' ? { iss: ISS, sub: 'alice' } : { iss: ISS, azp: 'web' };

    it(`${kind} watermark: iat before it → revoked; iat = before or after → admitted; no iat → revoked`, () => {
      const mirror = mirrorWith([revocation]);
      const match = mirror.match(lookupOf({ ...claims, iat: iatSeconds(T0) - 1 }));
      assert.equal(match?.kind, kind);
      assert.deepEqual(match?.before, new Date(T0));
      assert.equal(mirror.match(lookupOf({ ...claims, iat: iatSeconds(T0) })), undefined);
      assert.equal(mirror.match(lookupOf({ ...claims, iat: iatSeconds(T0) + 1 })), undefined);
      assert.equal(mirror.match(lookupOf(claims))?.kind, kind);
      assert.equal(mirror.match(lookupOf({ ...claims, iss: 'https://other.example/', iat: iatSeconds(T0) - 1 })), undefined);
    });
  }

  it('subject watermark compared to the millisecond: a token issued in the same second before it is revoked', () => {
    const mirror = mirrorWith([{ kind: 'subject', issuer: ISS, subject: 'alice', before: new Date(T0 + 500) }]);
    assert.equal(mirror.match(lookupOf({ iss: ISS, sub: 'alice', iat: iatSeconds(T0) }))?.kind, 'subject');
  });

  it('client revocation reads client_id when there is no azp', () => {
    const mirror = mirrorWith([{ kind: 'client', issuer: ISS, clientId: 'svc', before: new Date(T0) }]);
    assert.equal(mirror.match(lookupOf({ iss: ISS, client_id: 'svc', iat: iatSeconds(T0) - 60 }))?.kind, 'client');
    assert.equal(mirror.match(lookupOf({ iss: ISS, azp: 'web', client_id: 'svc', iat: iatSeconds(T0) - 60 })), undefined);
  });

  it("revoking one jti of a subject leaves the subject's other tokens working", () => {
    const mirror = mirrorWith([{ kind: 'token', issuer: ISS, jti: 'a1' }]);
    assert.equal(mirror.match(lookupOf({ iss: ISS, sub: 'alice', jti: 'a1' }))?.kind, 'token');
    assert.equal(mirror.match(lookupOf({ iss: ISS, sub: 'alice', jti: 'a2' })), undefined);
  });

  it('empty mirror: match looks nothing up and reads no clock', () => {
    let clockReads = 0;
    const mirror = new RevocationMirror({ clock: () => (clockReads++, T0), maxEntries: 10 });
    const lookup = lookupOf({ iss: ISS, jti: 'a1', sub: 'alice', azp: 'web' });
    let gets = 0;
    const original = Map.prototype.get;
    Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
      gets++;
      return original.call(this, key);
    };
    try {
      assert.equal(mirror.match(lookup), undefined);
    } finally {
      Map.prototype.get = original;
    }
    assert.equal(gets, 0);
    assert.equal(clockReads, 0);
  });
});

describe('revocation mirror: merge, expiry, bound', () => {
  it('revoking twice is one entry; the merge keeps the later before and until', () => {
    const mirror = new RevocationMirror({ clock: () => T0, maxEntries: 10 });
    const id = entryIdOf({ kind: 'subject', issuer: ISS, subject: 'alice' });
    mirror.put(id, { before: T0, until: T0 + 10_000 });
    assert.deepEqual(mirror.put(id, { before: T0 - 5000, until: T0 + 20_000 }), { before: T0, until: T0 + 20_000 });
    assert.deepEqual(mirror.put(id, { before: T0 + 5000, until: T0 + 1000 }), { before: T0 + 5000, until: T0 + 20_000 });
    assert.equal(mirror.size, 1);
  });

  it('an entry past until no longer matches (at until exactly), and the sweep drops only expired entries', () => {
    const time = clockAt(T0);
    const mirror = new RevocationMirror({ clock: time.clock, maxEntries: 10 });
    const shortId = entryIdOf({ kind: 'token', issuer: ISS, jti: 'short' });
    const longId = entryIdOf({ kind: 'token', issuer: ISS, jti: 'long' });
    mirror.put(shortId, { before: undefined, until: T0 + 1000 });
    mirror.put(longId, { before: undefined, until: T0 + 5000 });
    time.advance(999);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'short' }))?.kind, 'token');
    time.advance(1);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'short' })), undefined);
    assert.deepEqual(
      mirror.live().map(([id]) => id),
      [longId],
    );
    assert.equal(mirror.size, 2);
    assert.equal(mirror.sweep(), 1);
    assert.equal(mirror.size, 1);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'long' }))?.kind, 'token');
  });

  it('an expired entry may be revoked again and matches again', () => {
    const time = clockAt(T0);
    const mirror = new RevocationMirror({ clock: time.clock, maxEntries: 10 });
    const id = entryIdOf({ kind: 'token', issuer: ISS, jti: 'a1' });
    mirror.put(id, { before: undefined, until: T0 + 1000 });
    time.advance(2000);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'a1' })), undefined);
    mirror.put(id, { before: undefined, until: T0 + 10_000 });
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'a1' }))?.kind, 'token');
  });

  it('maxEntries: a new entry beyond it throws REVOCATIONS_UNAVAILABLE and evicts nothing; merges still work', () => {
    const mirror = new RevocationMirror({ clock: () => T0, maxEntries: 2 });
    const ids = ['a', 'b', 'c'].map((jti) => entryIdOf({ kind: 'token', issuer: ISS, jti }));
    mirror.put(ids[0] as string, { before: undefined, until: T0 + 1000 });
    mirror.put(ids[1] as string, { before: undefined, until: T0 + 1000 });
    assert.throws(
      () => mirror.put(ids[2] as string, { before: undefined, until: T0 + 1000 }),
      (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
    assert.equal(mirror.size, 2);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'a' }))?.kind, 'token');
    assert.deepEqual(mirror.put(ids[0] as string, { before: undefined, until: T0 + 2000 }), { before: undefined, until: T0 + 2000 });
  });

  it('maxEntries: expired entries are swept to make room', () => {
    const time = clockAt(T0);
    const mirror = new RevocationMirror({ clock: time.clock, maxEntries: 1 });
    mirror.put(entryIdOf({ kind: 'token', issuer: ISS, jti: 'a' }), { before: undefined, until: T0 + 1000 });
    time.advance(1000);
    mirror.put(entryIdOf({ kind: 'token', issuer: ISS, jti: 'b' }), { before: undefined, until: T0 + 5000 });
    assert.equal(mirror.size, 1);
  });

  it('replace swaps the whole list (a copy), and refuses one over maxEntries keeping the old list', () => {
    const mirror = new RevocationMirror({ clock: () => T0, maxEntries: 2 });
    const a = entryIdOf({ kind: 'token', issuer: ISS, jti: 'a' });
    const b = entryIdOf({ kind: 'token', issuer: ISS, jti: 'b' });
    mirror.put(a, { before: undefined, until: T0 + 1000 });
    const next = new Map<string, MirrorEntry>([[b, { before: undefined, until: T0 + 1000 }]]);
    mirror.replace(next);
    next.set(a, { before: undefined, until: T0 + 1000 });
    assert.equal(mirror.size, 1);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'a' })), undefined);
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'b' }))?.kind, 'token');
    const tooMany = new Map<string, MirrorEntry>(
      ['x', 'y', 'z'].map((jti) => [entryIdOf({ kind: 'token', issuer: ISS, jti }), { before: undefined, until: T0 + 1000 }]),
    );
    assert.throws(
      () => mirror.replace(tooMany),
      (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
    );
    assert.equal(mirror.match(lookupOf({ iss: ISS, jti: 'b' }))?.kind, 'token');
  });

  it('remove and clear', () => {
    const mirror = mirrorWith([
      { kind: 'token', issuer: ISS, jti: 'a' },
      { kind: 'subject', issuer: ISS, subject: 'alice' },
    ]);
    assert.equal(mirror.remove(entryIdOf({ kind: 'token', issuer: ISS, jti: 'a' })), true);
    assert.equal(mirror.remove(entryIdOf({ kind: 'token', issuer: ISS, jti: 'a' })), false);
    assert.equal(mirror.size, 1);
    mirror.clear();
    assert.equal(mirror.size, 0);
    assert.equal(mirror.match(lookupOf({ iss: ISS, sub: 'alice' })), undefined);
  });
});

describe('revocation mirror: state and listeners', () => {
  it('state: empty before a sync, fresh → stale → expired as syncedAt ages, fresh again after a sync', () => {
    const at = (now: number, syncedAt: number | undefined): string => mirrorState({ now, syncedAt, freshFor: 2000, staleIfError: 300 });
    assert.equal(at(T0, undefined), 'empty');
    assert.equal(at(T0 + 2000, T0), 'fresh');
    assert.equal(at(T0 + 2001, T0), 'stale');
    assert.equal(at(T0 + 299_999, T0), 'stale');
    assert.equal(at(T0 + 300_000, T0), 'expired');
    assert.equal(at(T0 + 300_000, T0 + 299_000), 'fresh');
    // staleIfError 0: expired as soon as a confirmation is missed.
    assert.equal(mirrorState({ now: T0 + 2001, syncedAt: T0, freshFor: 2000, staleIfError: 0 }), 'expired');
  });

  it('listeners: each gets a frozen copy of its own; a throwing listener does not stop the others; unsubscribe', () => {
    const listeners = new RevocationListeners();
    const seen: RevocationEvent[] = [];
    const stopThrowing = listeners.subscribe(() => {
      throw new Error('listener bug');
    });
    const stopMutating = listeners.subscribe((event) => {
      if (event.type === 'revoked') event.entry.forgetAt.setTime(0);
    });
    const stop = listeners.subscribe((event) => seen.push(event));
    const entry = publicEntry('["t","iss","a"]', { before: undefined, until: T0 });
    assert.ok(entry);
    listeners.emit({ type: 'revoked', entry });
    assert.equal(seen.length, 1);
    assert.ok(Object.isFrozen(seen[0]));
    assert.deepEqual(seen[0], { type: 'revoked', entry: { target: { kind: 'token', issuer: 'iss', jti: 'a' }, forgetAt: new Date(T0) } });
    assert.equal(entry.forgetAt.getTime(), T0);
    stop();
    stopThrowing();
    stopMutating();
    listeners.emit({ type: 'cleared' });
    assert.equal(seen.length, 1);
    assert.throws(() => listeners.subscribe('nope' as never), TypeError);
  });
});
