import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration, isoTime, lines, printable, relative } from '../../src/cli/format.ts';

describe('cli format: times and values for people', () => {
  it('duration picks the unit that reads well', () => {
    assert.equal(duration(1), '1 second');
    assert.equal(duration(45), '45 seconds');
    assert.equal(duration(180), '3 minutes');
    assert.equal(duration(-3420), '57 minutes');
    assert.equal(duration(2 * 3600), '2 hours');
    assert.equal(duration(3 * 86_400), '3 days');
  });

  it('relative says ago, in, or now', () => {
    const now = 1_800_000_000_000;
    assert.equal(relative(now / 1000 - 180, now), '3 minutes ago');
    assert.equal(relative(now / 1000 + 3420, now), 'in 57 minutes');
    assert.equal(relative(now / 1000, now), 'now');
  });

  it('isoTime refuses what is not a finite NumericDate', () => {
    assert.equal(isoTime(0), '1970-01-01T00:00:00.000Z');
    for (const bad of ['1700000000', null, Number.POSITIVE_INFINITY, 1e20]) assert.equal(isoTime(bad), undefined);
  });

  it('printable prints strings as they are, and control characters or other values as JSON', () => {
    assert.equal(printable('alice'), 'alice');
    assert.equal(printable('evil\u001b[2J'), '"evil\\u001b[2J"');
    assert.equal(printable(['a', 1]), '["a",1]');
  });

  it('lines aligns values and wraps long ones under themselves', () => {
    assert.deepEqual(
      lines([
        ['alg', 'ES256'],
        ['kid', 'k'],
      ]),
      ['  alg  ES256', '  kid  k'],
    );
    const wrapped = lines([['fix', 'word '.repeat(40).trim()]]);
    assert.ok(wrapped.length > 1);
    assert.ok(wrapped.every((line) => line.length <= 100));
    assert.ok(wrapped.slice(1).every((line) => line.startsWith('       word')));
  });
});
