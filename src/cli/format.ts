/** Human-readable output: times, values taken from tokens, aligned label/value lines. */
import { escapeForTerminal, hasUnsafeText } from '../util/unsafe-text.ts';

const UNITS: ReadonlyArray<readonly [name: string, seconds: number, upTo: number]> = [
  ['second', 1, 90],
  ['minute', 60, 90 * 60],
  ['hour', 3600, 36 * 3600],
  ['day', 86_400, Number.POSITIVE_INFINITY],
];

/**
 * A duration in words, rounded to the largest unit that reads well: `45 seconds`, `3 minutes`, `2 days`.
 *
 * @example
 * ```ts
 * duration(200); // '3 minutes'
 * ```
 */
export function duration(seconds: number): string {
  const abs = Math.abs(seconds);
  const [name, size] = UNITS.find(([, , upTo]) => abs < upTo) ?? ['day', 86_400];
  const count = Math.round(abs / size);
  return `${count} ${name}${count === 1 ? '' : 's'}`;
}

/**
 * Where a NumericDate lies relative to now: `in 57 minutes`, `3 minutes ago`, `now`.
 *
 * @example
 * ```ts
 * relative(Date.now() / 1000 - 180, Date.now()); // '3 minutes ago'
 * ```
 */
export function relative(epochSeconds: number, nowMs: number): string {
  const delta = epochSeconds - nowMs / 1000;
  if (Math.abs(delta) < 1) return 'now';
  return delta > 0 ? `in ${duration(delta)}` : `${duration(delta)} ago`;
}

/**
 * A NumericDate as ISO 8601 (UTC), or undefined when it is not a finite number.
 *
 * @example
 * ```ts
 * isoTime(1767225600); // '2026-01-01T00:00:00.000Z'
 * ```
 */
export function isoTime(epochSeconds: unknown): string | undefined {
  if (typeof epochSeconds !== 'number' || !Number.isFinite(epochSeconds)) return undefined;
  const date = new Date(epochSeconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * A value from a token, for a terminal. Plain strings print as they are; anything else, and strings
 * with control, format (bidi, zero-width, tag) or line-separator characters (which could rewrite the
 * terminal, forge a line or hide part of the value), print as JSON with those characters escaped:
 * quoted, so the escapes cannot be taken for the text.
 *
 * @example
 * ```ts
 * printable('alice'); // 'alice'
 * printable(['a', 'b']); // '["a","b"]'
 * printable('evil\u202e'); // '"evil\\u202e"'
 * ```
 */
export function printable(value: unknown): string {
  if (typeof value === 'string' && !hasUnsafeText(value)) return value;
  // JSON.stringify escapes C0 controls only: C1, format characters and U+2028/U+2029 would pass raw.
  return escapeForTerminal(JSON.stringify(value) ?? String(value));
}

/** Output is wrapped at this many columns, a width every terminal shows. */
const WIDTH = 100;

/** Splits text into lines of at most `width` characters at spaces (a longer word keeps its own line). */
function wrap(text: string, width: number): string[] {
  const wrapped: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      wrapped.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  wrapped.push(line);
  return wrapped;
}

/**
 * Label/value lines with the values aligned, indented by two spaces; long values wrap under themselves.
 *
 * @example
 * ```ts
 * lines([['alg', 'ES256'], ['kid', 'key-1']]); // ['  alg  ES256', '  kid  key-1']
 * ```
 */
export function lines(rows: ReadonlyArray<readonly [label: string, value: string]>): string[] {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  const indent = ' '.repeat(width + 4);
  return rows.flatMap(([label, value]) =>
    wrap(value, Math.max(40, WIDTH - indent.length)).map((part, index) => (index === 0 ? `  ${label.padEnd(width)}  ${part}` : `${indent}${part}`)),
  );
}
