/**
 * Calls an observer hook (`onAuthenticated`, `onRejected`, a key-set `onEvent` listener) with an event,
 * swallowing whatever it throws: a logging or metrics hook must never decide the fate of a call or break
 * key refresh. `event` may be a function, so an event nobody listens to is never built.
 *
 * @example
 * ```ts
 * const onRejected = (event: { method: string; peer: string }): void => console.warn(event.method, event.peer);
 * notify(onRejected, () => ({ method: call.getPath(), peer: call.getPeer() })); // built only when there is a hook
 * notify(undefined, { method: '/pkg.S/M', peer: '' }); // no hook: nothing happens
 * ```
 */
export function notify<E>(hook: ((event: E) => void) | undefined, event: E | (() => E)): void {
  if (hook === undefined) return;
  try {
    hook(typeof event === 'function' ? (event as () => E)() : event);
  } catch {
    // Swallowed on purpose: see above.
  }
}
