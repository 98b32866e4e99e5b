/**
 * True for a promise or any other thenable (an object or function with a callable `then`), which is
 * what `await` and `Promise.resolve` adopt. Reading `then` runs user code when it is a getter: call this
 * where a throw is handled as the hook's own failure.
 *
 * @example
 * ```ts
 * isThenable(Promise.resolve(true)); // true
 * isThenable({ then: (resolve: (value: boolean) => void) => resolve(true) }); // true
 * isThenable(true); // false
 * ```
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
