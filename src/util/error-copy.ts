import { thrownText } from '../errors/log-text.ts';

/**
 * A copy of an error for one observer (a hook, a key-event listener): the same class (`instanceof` and
 * `isAuthError` hold), `message`, `stack`, `cause` and every other own field, each writable (a shallow
 * copy: `cause` is the same object). Observers
 * are told about errors that are shared (several calls joining one verification get one refusal; a key
 * set's last failure is what `keys.status()` reports): one that edits what it was given (a logger that
 * redacts `message`, JavaScript writing a field TypeScript calls readonly) must change neither another
 * call's status nor what anyone else sees. Never throws: an error that cannot be copied (a Proxy whose
 * traps throw) becomes a plain Error with its text.
 *
 * @example
 * ```ts
 * const shared = new Error('HTTP 503');
 * const copy = errorCopy(shared);
 * copy.message = 'redacted';
 * shared.message; // 'HTTP 503'
 * ```
 */
export function errorCopy<E extends Error>(error: E): E {
  try {
    const fields = Object.getOwnPropertyDescriptors(error);
    for (const field of Object.values(fields)) if ('value' in field) Object.assign(field, { writable: true, configurable: true });
    return Object.defineProperties(Object.create(Object.getPrototypeOf(error) as object | null) as E, fields);
  } catch {
    return new Error(thrownText(error)) as E;
  }
}
