/**
 * Handing a rotated refresh token to the application's `onRefreshToken`, bounded.
 *
 * The access token waits for the store, up to a bound, for two reasons: an application that persists
 * the token before using the new access token survives a crash right after with the current refresh
 * token on disk; and rotations reach the store in order, since the next refresh starts only after this
 * one is done. The bound exists because the single flight waits too: a store that hangs (a stuck disk,
 * an unreachable key-value store) would otherwise hold every caller that needs a token, and every later
 * refresh, forever. Past the bound nothing is lost in this process: the new refresh token is already the
 * one in use.
 */

/**
 * Where a rotated refresh token goes (the `onRefreshToken` option of {@link refreshingToken}).
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import type { RefreshTokenStore } from './refresh-token-store.ts';
 * const store: RefreshTokenStore = (next) => writeFile('refresh-token', next, { mode: 0o600 });
 * ```
 */
export type RefreshTokenStore = (refreshToken: string) => void | Promise<void>;

function warnNotStored(): void {
  process.emitWarning('grpc-jwt-auth: onRefreshToken threw; the new refresh token is in use but may not have been stored', {
    code: 'GRPC_JWT_AUTH_REFRESH_TOKEN_NOT_STORED',
  });
}

/**
 * Calls `store(refreshToken)` and waits for it at most `timeoutMs`. Never throws: a store that throws or
 * rejects is reported as a process warning (`GRPC_JWT_AUTH_REFRESH_TOKEN_NOT_STORED`), one that is still
 * running at the bound as `GRPC_JWT_AUTH_REFRESH_TOKEN_STORE_SLOW`; it may go on running, and a late
 * failure is still reported. A store that finishes after the bound may finish after the store of a later
 * rotation too: stores that can be that slow should write only a token newer than what they hold.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * // The new refresh token is already the one in use; this waits for the store at most 10 s, and never throws.
 * await storeRefreshToken((next) => writeFile('refresh-token', next, { mode: 0o600 }), 'new-refresh-token', 10_000);
 * ```
 */
export async function storeRefreshToken(store: RefreshTokenStore, refreshToken: string, timeoutMs: number): Promise<void> {
  let storing: Promise<void>;
  try {
    storing = Promise.resolve(store(refreshToken));
  } catch {
    warnNotStored();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  // Not unref'd: a caller awaiting a token must not see the process exit under it; the timer is cleared
  // as soon as the store finishes.
  const bound = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), timeoutMs);
  });
  const settled = storing.then(
    () => 'stored' as const,
    () => 'failed' as const,
  );
  const first = await Promise.race([settled, bound]);
  clearTimeout(timer);
  if (first === 'failed') warnNotStored();
  if (first !== 'slow') return;
  process.emitWarning(
    `grpc-jwt-auth: onRefreshToken did not finish within ${timeoutMs / 1000} s; the new refresh token is in use, and the access token is served without waiting for the store`,
    { code: 'GRPC_JWT_AUTH_REFRESH_TOKEN_STORE_SLOW' },
  );
  void settled.then((late) => {
    if (late === 'failed') warnNotStored();
  });
}
