import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshnessMs, retryDelayMs } from '../../src/keys/key-cache-policy.ts';
import { compileRemoteJwksOptions } from '../../src/keys/remote-options.ts';
import { isLoopbackHost } from '../../src/util/loopback.ts';
import { MAX_REMEMBERED_KIDS, MAX_REMEMBERED_KID_LENGTH, UnknownKids } from '../../src/keys/unknown-kids.ts';

const MINUTE = 60_000;
const compile = (options: Parameters<typeof compileRemoteJwksOptions>[0]) => compileRemoteJwksOptions(options).policy;
const policy = compile({});

describe('cache policy: defaults', () => {
  it('5 s timeout, 256 KiB cap, 10 min default age within 1 min … 24 h, 30 s cooldown, 1 h stale-if-error', () => {
    assert.equal(policy.timeoutMs, 5000);
    assert.equal(policy.maxBytes, 256 * 1024);
    assert.equal(policy.defaultMaxAgeMs, 10 * MINUTE);
    assert.equal(policy.minMaxAgeMs, MINUTE);
    assert.equal(policy.maxMaxAgeMs, 24 * 60 * MINUTE);
    assert.equal(policy.cooldownMs, 30_000);
    assert.equal(policy.staleIfErrorMs, 60 * MINUTE);
    assert.equal(policy.allowInsecureHttp, false);
    assert.equal(compileRemoteJwksOptions({}).tokensWithoutKid, 'if-single');
  });

  it('options are seconds, held internally as milliseconds: timeout 2.5 → 2500 ms, cooldown 0.2 → 200 ms', () => {
    const custom = compile({ timeout: 2.5, cacheMaxAge: 300, minCacheMaxAge: 0.5, maxCacheMaxAge: 3600, cooldown: 0.2, staleIfError: 0 });
    assert.deepEqual(
      [custom.timeoutMs, custom.defaultMaxAgeMs, custom.minMaxAgeMs, custom.maxMaxAgeMs, custom.cooldownMs, custom.staleIfErrorMs],
      [2500, 300_000, 500, 3_600_000, 200, 0],
    );
  });

  it('a default age below 1 min moves the lower bound with it; the upper bound may reach a week', () => {
    assert.equal(compile({ cacheMaxAge: 10 }).minMaxAgeMs, 10_000);
    assert.equal(compile({ maxCacheMaxAge: 7 * 24 * 3600 }).maxMaxAgeMs, 7 * 24 * 60 * MINUTE);
  });
});

describe('cache policy: Cache-Control', () => {
  const cases: Array<[string | null, number]> = [
    ['max-age=300', 5 * MINUTE],
    ['public, max-age=300, must-revalidate', 5 * MINUTE],
    ['MAX-AGE = 300', 5 * MINUTE],
    ['max-age="300"', 5 * MINUTE],
    ['max-age=0', MINUTE],
    ['max-age=10', MINUTE],
    ['max-age=99999999', 24 * 60 * MINUTE],
    ['max-age=999999999999999999999', 10 * MINUTE],
    ['no-store', MINUTE],
    ['max-age=300, no-cache', MINUTE],
    ['max-age=300, max-age=600', 10 * MINUTE],
    ['max-age=-5', 10 * MINUTE],
    ['max-age=abc', 10 * MINUTE],
    ['s-maxage=3600', 10 * MINUTE],
    ['', 10 * MINUTE],
    [null, 10 * MINUTE],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected / MINUTE} min`, () => {
      assert.equal(freshnessMs(header, policy), expected);
    });
  }
});

describe('cache policy: retry delay', () => {
  it('1 s, doubling, capped at the cooldown', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map((failures) => retryDelayMs(failures, policy)),
      [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
    );
    const short = compile({ cooldown: 0.2 });
    assert.equal(retryDelayMs(1, short), 200);
  });
});

describe('unknown kids (negative cache)', () => {
  it('remembers a kid until the given time (the end of the cooldown), then forgets it', () => {
    const unknown = new UnknownKids();
    unknown.remember('forged', 30_000);
    assert.equal(unknown.has('forged', 29_999), true);
    assert.equal(unknown.has('forged', 30_000), false);
    assert.equal(unknown.size, 0);
  });

  it(`holds at most ${MAX_REMEMBERED_KIDS} kids, oldest out first, and never stores kids over ${MAX_REMEMBERED_KID_LENGTH} characters`, () => {
    const unknown = new UnknownKids();
    for (let i = 0; i < 10_000; i++) unknown.remember(`kid-${i}`, 30_000);
    // Evicted in batches of 1% (one walk of the Map per batch, not one per kid): never above the bound.
    assert.ok(unknown.size <= MAX_REMEMBERED_KIDS && unknown.size >= MAX_REMEMBERED_KIDS * 0.99, String(unknown.size));
    assert.equal(unknown.has('kid-0', 1), false);
    assert.equal(unknown.has('kid-9999', 1), true);
    unknown.remember('x'.repeat(MAX_REMEMBERED_KID_LENGTH + 1), 30_000);
    assert.equal(unknown.has('x'.repeat(MAX_REMEMBERED_KID_LENGTH + 1), 1), false);
    unknown.clear();
    assert.equal(unknown.size, 0);
  });
});

describe('key URLs', () => {
  it('loopback is localhost, [::1] and 127.0.0.0/8 only', () => {
    for (const host of ['localhost', '[::1]', '127.0.0.1', '127.1.2.3']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['localhost.evil.example', '127.0.0.1.nip.io', '10.0.0.1', '0.0.0.0', 'example.com']) assert.equal(isLoopbackHost(host), false, host);
  });
});
