/**
 * The one escaper for attacker text on its way to a terminal or a log line: tokens, and the messages
 * that quote them. Raw, an ESC or C1 sequence could set a window title or erase and recolour a line, a
 * bidi override could reorder it, and a newline or U+2028 could forge a line of its own.
 */
/**
 * What a terminal acts on, or what changes how text reads while showing nothing: controls (C0, newline
 * included: within a line it is never ours, DEL, C1), format characters (the bidi controls, and the
 * invisible ones: zero-width space and joiners, word joiner, byte-order mark, soft hyphen, tag
 * characters, which spell ASCII invisibly), lone surrogates, and the Unicode line and paragraph
 * separators. By Unicode category (Cc, Cf, Cs, Zl, Zp), so new format characters are covered as
 * Unicode adds them. `JSON.stringify` escapes only C0 and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;
const UNSAFE_TEST = new RegExp(UNSAFE.source, 'u');

/** JSON's short forms, so escaped text inside a JSON string literal stays valid JSON. */
const SHORT: Readonly<Record<string, string>> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

const hex4 = (unit: number): string => `\\u${unit.toString(16).padStart(4, '0')}`;

// Per UTF-16 unit: a JSON escape holds exactly four hex digits, so an astral character (a tag
// character) is written as its surrogate pair, `\udb40\udc41`, never as `\ue0041`.
const escapeOne = (char: string): string => SHORT[char] ?? Array.from({ length: char.length }, (_, i) => hex4(char.charCodeAt(i))).join('');

/**
 * Renders every unsafe character of one line visibly, as a JSON escape (`\u001b`, `\n`, `\u200b`): the user sees
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
