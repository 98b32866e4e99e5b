/**
 * Characters that show nothing, on a terminal: Unicode format characters (zero-width space and joiners,
 * word joiner, byte-order mark, soft hyphen, the tag characters U+E0000–U+E007F, the deprecated
 * format controls U+206A–U+206F) and lone surrogates. Raw, they make `"admin\u200b"` look like
 * `"admin"` and hide whole words (tag characters spell ASCII invisibly), so a token can pass for
 * another in `inspect` output. They must be shown as escapes, as controls and bidi characters are,
 * and `--json` must still parse to the exact value (an astral character is escaped as its surrogate
 * pair: `\ue0041` would read as U+E004 followed by "1").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { printable } from '../../src/cli/format.ts';
import { escapeForTerminal } from '../../src/util/unsafe-text.ts';
import { cli } from '../support/cli.ts';

const SECRET = 'a-secret-of-thirty-two-bytes-or-more!';

/** Tag characters spelling `text` (invisible on every terminal). */
const tags = (text: string): string => [...text].map((char) => String.fromCodePoint(0xe0000 + (char.codePointAt(0) ?? 0))).join('');

const INVISIBLE: ReadonlyArray<readonly [string, string]> = [
  ['zero-width space U+200B', '\u200b'],
  ['zero-width non-joiner U+200C', '\u200c'],
  ['zero-width joiner U+200D', '\u200d'],
  ['word joiner U+2060', '\u2060'],
  ['invisible separator U+2063', '\u2063'],
  ['byte-order mark U+FEFF', '\ufeff'],
  ['soft hyphen U+00AD', '\u00ad'],
  ['deprecated format control U+206F', '\u206f'],
  ['interlinear annotation U+FFF9', '\ufff9'],
  ['tag characters U+E0001, U+E0041...', `\u{e0001}${tags('admin')}`],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', '\udc00'],
];

/** What a terminal would be handed: no format character, no surrogate left unpaired. */
// The test's own judgement, by Unicode category, independent of the library's list.
const HIDDEN = /[\p{Cf}\p{Cs}]/u;

describe('terminal text: invisible characters are shown as escapes', () => {
  for (const [name, chars] of INVISIBLE) {
    it(`${name}: escaped by escapeForTerminal and printable, and JSON-escaped text still parses to the exact value`, () => {
      const value = `admin${chars}`;
      assert.doesNotMatch(escapeForTerminal(value), HIDDEN);
      assert.notEqual(printable(value), value, 'printed as-is, it looks like "admin"');
      assert.doesNotMatch(printable(value), HIDDEN);
      assert.equal(JSON.parse(escapeForTerminal(JSON.stringify(value))), value);
      assert.equal(JSON.parse(printable(value)), value);
    });
  }

  it('ordinary text is left alone: accents, CJK, emoji (astral, paired surrogates)', () => {
    for (const text of ['José', 'Łódź', '東京', 'orders:read 🚀', 'ü'.normalize('NFD')]) {
      assert.equal(escapeForTerminal(text), text);
      assert.equal(printable(text), text);
    }
  });
});

describe('cli: a token with invisible characters', () => {
  it('inspect (text and --json) of a verified token whose sub and kid hide characters: nothing hidden reaches the terminal; --json keeps the exact values', async () => {
    const sub = `admin\u200b${tags('not')}`;
    const kid = `key-1\ufeff`;
    const token = await new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 60 })
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode(SECRET));
    const text = await cli(['inspect', token, '--secret', SECRET, '--alg', 'HS256']);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.doesNotMatch(text.stdout + text.stderr, HIDDEN);
    assert.match(text.stdout, /^Verified: /m);
    const json = await cli(['inspect', token, '--secret', SECRET, '--alg', 'HS256', '--json']);
    assert.doesNotMatch(json.stdout + json.stderr, HIDDEN);
    const report = JSON.parse(json.stdout);
    assert.equal(report.claims.sub, sub);
    assert.equal(report.header.kid, kid);
  });
});
