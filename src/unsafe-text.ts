/**
 * The one escaper for attacker text on its way to a terminal or a log line: tokens, and the messages
 * that quote them. Raw, an ESC or C1 sequence could set a window title or erase and recolour a line, a
 * bidi override could reorder it, and a newline or U+2028 could forge a line of its own.
 */
/**
 * What a terminal acts on or that changes how text reads: C0 controls (newline included: within a line
 * it is never ours), DEL, C1 controls, the bidi controls (ALM, LRM, RLM, embeddings and overrides,
 * isolates) and the Unicode line and paragraph separators. `JSON.stringify` escapes only C0.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu;
const UNSAFE_TEST = new RegExp(UNSAFE.source, 'u');

/** JSON's short forms, so escaped text inside a JSON string literal stays valid JSON. */
const SHORT: Readonly<Record<string, string>> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

const escapeOne = (char: string): string => SHORT[char] ?? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;

/**
 * Renders every unsafe character of one line visibly, as a JSON escape (`\u001b`, `\n`): the user sees
 * that something was there, and nothing reaches the terminal as a control. Escapes are valid inside a
 * JSON string literal and outside one no unsafe character occurs in `JSON.stringify` output, so a JSON
 * text escaped line by line still parses to the exact values.
 *
 * @example
 * ```ts
 * escapeForTerminal('alice\u001b]0;title\u0007'); // 'alice\\u001b]0;title\\u0007'
 * ```
 */
export function escapeForTerminal(line: string): string {
  return line.replace(UNSAFE, escapeOne);
}

/**
 * Whether `text` holds a character {@link escapeForTerminal} would escape.
 *
 * @example
 * ```ts
 * hasUnsafeText('evil\u202e'); // true
 * ```
 */
export function hasUnsafeText(text: string): boolean {
  return UNSAFE_TEST.test(text);
}
