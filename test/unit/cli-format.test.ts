import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration, isoTime, lines, printable, relative } from '../../src/cli/format.ts';
import { escapeForTerminal } from '../../src/util/unsafe-text.ts';

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

  it('printable quotes and escapes what JSON.stringify leaves raw: C1, DEL, bidi controls, U+2028/U+2029', () => {
    assert.equal(printable('a\u009b2Kb'), '"a\\u009b2Kb"');
    assert.equal(printable('a\u007fb'), '"a\\u007fb"');
    assert.equal(printable('admin\u202etxt.exe'), '"admin\\u202etxt.exe"');
    assert.equal(printable('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"');
    assert.equal(printable({ ['k\u2066']: ['\u0085'] }), '{"k\\u2066":["\\u0085"]}');
  });

  it('escapeForTerminal renders every control, bidi, invisible format and separator character visibly, and leaves other text alone', () => {
    const unsafe = [
      0x00, 0x07, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9b, 0x9f, 0xad, 0x61c, 0x200b, 0x200d, 0x200e, 0x200f, 0x202a, 0x202e, 0x2060, 0x2066, 0x2069,
      0x2028, 0x2029, 0xfeff,
    ];
    for (const code of unsafe) {
      const escaped = escapeForTerminal(`a${String.fromCodePoint(code)}b`);
      assert.match(escaped, /^a\\(u[0-9a-f]{4}|[bfnrt])b$/, `U+${code.toString(16)}`);
    }
    assert.equal(escapeForTerminal('\u001b]0;title\u0007'), '\\u001b]0;title\\u0007');
    assert.equal(escapeForTerminal('line\nnext'), 'line\\nnext');
    const plain = 'café ☕ 東京 שלום \\ "quoted" \u00a0 🚀';
    assert.equal(escapeForTerminal(plain), plain);
  });

  it('escapeForTerminal keeps JSON text valid: escaped JSON (line by line when indented) parses to the exact values', () => {
    const value = { ['n\u009b']: ['x\u001b[2K\r\u202e\u2028\u2029\u007f\u0085\n"\\', 1] };
    assert.deepEqual(JSON.parse(escapeForTerminal(JSON.stringify(value))), value);
    const indented = JSON.stringify(value, null, 2).split('\n').map(escapeForTerminal).join('\n');
    assert.deepEqual(JSON.parse(indented), value);
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
