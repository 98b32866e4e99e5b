/**
 * The child side of the load scripts' IPC: each message from the parent is one request with an `id`;
 * the answer goes back with the same `id`, or `{ id, error }`. After answering a `stop` request the child
 * disconnects, which ends it once its servers are closed.
 */

/**
 * Answers the parent's requests with `handle`, when this process was forked with an IPC channel.
 * `exitWithParent`: exit as soon as the parent disconnects (it may have been killed at its time bound),
 * for children whose timers or sockets would otherwise keep them alive.
 *
 * @example
 * ```ts
 * answerParent(async (request: { id: number; stop?: true }) => ({ stopped: request.stop === true }), { exitWithParent: true });
 * ```
 */
export function answerParent<R extends { readonly id: number }>(handle: (request: R) => Promise<unknown>, options: { readonly exitWithParent: boolean }): void {
  if (process.send === undefined) return;
  process.on('message', (request: R) => {
    handle(request).then(
      (reply) =>
        process.send?.({ id: request.id, ...(reply as object) }, () => {
          if ('stop' in request) process.disconnect?.();
        }),
      (error: unknown) => process.send?.({ id: request.id, error: String(error) }),
    );
  });
  if (options.exitWithParent) process.on('disconnect', () => process.exit(0));
}
