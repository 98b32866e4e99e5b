/**
 * The memory replay store: set-if-absent until expiry, lazy sweeping without timers, fail closed when full.
 *
 * Ported behaviours (our own code): panva/node-oidc-provider test/dpop/dpop.test.js (commit b95c2944)
 * "uses the client and proof identifiers with the replay window TTL"; opentdf/platform
 * service/internal/auth/dpop_replay.go (commit 053f7e5d7): a key is remembered for the proof window.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryReplayStore } from '../../src/stores/memory-replay-store.ts';
import { optionalReplayStore } from '../../src/stores/replay-store.ts';
import { AuthConfigError } from '../../src/errors/config-error.ts';
import { isAuthError } from '../../src/errors/auth-error.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function clockAt(start: number): { clock: () => number; advance(ms: number): void } {
  let now = start;
  return { clock: () => now, advance: (ms) => void (now += ms) };
}

describe('memory replay store', () => {
  it('first add is true, a repeat before expiry false', () => {
    const store = createMemoryReplayStore({ clock: () => T0 });
    assert.equal(store.add('dpop:k:1', new Date(T0 + 60_000)), true);
    assert.equal(store.add('dpop:k:1', new Date(T0 + 60_000)), false);
    assert.equal(store.add('dpop:k:2', new Date(T0 + 60_000)), true);
  });

  it('a key is usable again once it expired (at expiresAt exactly)', () => {
    const time = clockAt(T0);
    const store = createMemoryReplayStore({ clock: time.clock });
    void store.add('k', new Date(T0 + 1000));
    time.advance(999);
    assert.equal(store.add('k', new Date(T0 + 5000)), false);
    time.advance(1);
    assert.equal(store.add('k', new Date(T0 + 5000)), true);
  });

  it('full of live keys: add throws REPLAY_CHECK_UNAVAILABLE (fail closed), never evicts', () => {
    const store = createMemoryReplayStore({ maxEntries: 3, clock: () => T0 });
    for (const key of ['a', 'b', 'c']) assert.equal(store.add(key, new Date(T0 + 60_000)), true);
    assert.throws(
      () => store.add('d', new Date(T0 + 60_000)),
      (error: unknown) => isAuthError(error) && error.code === 'ERR_AUTH_REPLAY_CHECK_UNAVAILABLE',
    );
    // Nothing was evicted: every key is still a replay.
    for (const key of ['a', 'b', 'c']) assert.equal(store.add(key, new Date(T0 + 60_000)), false);
  });

  it('expired keys make room: swept from the oldest, and by a full sweep when full', () => {
    const time = clockAt(T0);
    const store = createMemoryReplayStore({ maxEntries: 3, clock: time.clock });
    void store.add('long', new Date(T0 + 60_000));
    void store.add('short-1', new Date(T0 + 1000));
    void store.add('short-2', new Date(T0 + 1000));
    time.advance(2000);
    // The oldest key is live, so only a full sweep finds the two expired ones behind it.
    assert.equal(store.add('x', new Date(T0 + 60_000)), true);
    assert.equal(store.add('y', new Date(T0 + 60_000)), true);
    assert.equal(store.add('long', new Date(T0 + 60_000)), false);
  });

  it('holds a million keys under the default bound without a timer', () => {
    const store = createMemoryReplayStore({ clock: () => T0 });
    const until = new Date(T0 + 60_000);
    for (let i = 0; i < 50_000; i++) assert.equal(store.add(`k${i}`, until), true);
    assert.equal(store.add('k49999', until), false);
  });

  it('refuses bad arguments with a TypeError (a bug in the caller, not a verdict)', () => {
    const store = createMemoryReplayStore();
    assert.throws(() => store.add(42 as unknown as string, new Date()), TypeError);
    assert.throws(() => store.add('k', new Date(Number.NaN)), TypeError);
    assert.throws(() => store.add('k', Date.now() as unknown as Date), TypeError);
  });

  it('options are checked, naming the option', () => {
    for (const [options, option] of [
      [{ maxEntries: 0 }, 'maxEntries'],
      [{ maxEntries: 1.5 }, 'maxEntries'],
      [{ clock: 5 }, 'clock'],
      [{ maxEntrys: 5 }, 'maxEntrys'],
    ] as const) {
      assert.throws(
        () => createMemoryReplayStore(options as never),
        (error: unknown) => error instanceof AuthConfigError && error.option === option,
      );
    }
  });

  it('a user store needs an add function', () => {
    assert.equal(optionalReplayStore(undefined, 'replayStore'), undefined);
    const store = { add: () => true };
    assert.equal(optionalReplayStore(store, 'replayStore'), store);
    assert.throws(() => optionalReplayStore(new Map(), 'replayStore'), AuthConfigError);
    assert.throws(() => optionalReplayStore(null, 'replayStore'), AuthConfigError);
  });
});
