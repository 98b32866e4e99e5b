import { isThenable } from './thenable.ts';

/**
 * Calls an observer hook (`onAuthenticated`, `onRejected`, a key-set `onEvent` listener) with an event,
 * swallowing whatever it throws, and whatever the promise it returns rejects with: a logging or metrics
 * hook must never decide the fate of a call or break key refresh. Hooks are typed `(event) => void`, so
 * an `async` hook fits there unnoticed; nothing awaits its promise, and a rejection left unhandled would
 * take the process down under Node's default `--unhandled-rejections=throw`. `event` may be a function,
 * so an event nobody listens to is never built.
 *
 * @example
 * ```ts
 * const onRejected = (event: { method: string; peer: string }): void => console.warn(event.method, event.peer);
 * notify(onRejected, () => ({ method: call.getPath(), peer: call.getPeer() })); // built only when there is a hook
 * notify(undefined, { method: '/pkg.S/M', peer: '' }); // no hook: nothing happens
 * notify(async () => { throw new Error('log sink down'); }, { method: '/pkg.S/M', peer: '' }); // its rejection is handled here
 * ```
 */
export function notify<E>(hook: ((event: E) => void) | undefined, event: E | (() => E)): void {
  if (hook === undefined) return;
  try {
    const returned: unknown = hook(typeof event === 'function' ? (event as () => E)() : event);
    // Inside the try: reading `then` may run the hook's code (a getter). Promise.resolve adopts any
    // thenable, and a `then` that throws becomes a rejection of the promise handled here.
    if (isThenable(returned)) Promise.resolve(returned).then(undefined, ignore);
  } catch {
    // Swallowed on purpose: see above.
  }
}

function ignore(): void {
  // A hook's failure is the hook's business, never the call's.
}
