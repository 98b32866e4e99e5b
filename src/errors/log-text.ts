/**
 * Text for log messages built from values we do not control: claims of a token, and whatever server
 * code throws. Nothing here ever throws, and nothing here is ever sent on the wire.
 */
import { escapeForTerminal } from '../util/unsafe-text.ts';

/**
 * `read()`, or undefined when it throws: a thrown value's getters and Proxy traps are server code gone
 * wrong, and reading them runs in catch blocks, where a second throw would leave a call without a status.
 *
 * @example
 * ```ts
 * declare const thrown: unknown;
 * const message = readSafely(() => (thrown as { message?: unknown }).message);
 * ```
 */
export function readSafely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Renders a value taken from a token for a log message: JSON-quoted and with every control, bidi and
 * separator character escaped (so a token cannot forge or rewrite log lines) and cut short (so a huge
 * claim cannot flood logs). Never used for wire text.
 *
 * @example
 * ```ts
 * describeForLog('alice\nadmin'); // '"alice\\nadmin"'
 * describeForLog('x'.repeat(200), 10); // '"xxxxxxxxx…'
 * ```
 */
export function describeForLog(value: unknown, max = 80): string {
  // Never throws: a BigInt, a cycle, a symbol or a Proxy whose traps throw still gets a description.
  const text = readSafely(() => JSON.stringify(value) ?? String(value)) ?? readSafely(() => Object.prototype.toString.call(value)) ?? '(unprintable value)';
  // JSON.stringify escapes C0 only: C1, bidi controls and U+2028/2029 from a token would still reach a
  // log viewer or terminal raw and could rewrite or reorder the line.
  return escapeForTerminal(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * What a thrown value says, for a log message: its `message` when that is a string (escaped), or else
 * a description of the value. Never throws, whatever was thrown.
 *
 * @example
 * ```ts
 * thrownText(new Error('denylist down')); // 'denylist down'
 * thrownText(42); // '42'
 * ```
 */
export function thrownText(error: unknown): string {
  const message = readSafely(() => (error as { message?: unknown } | null | undefined)?.message);
  if (typeof message === 'string') return escapeForTerminal(message);
  return describeForLog(error);
}
