import { backoffDelay } from '../util/backoff.ts';
import type { RemoteKeysEvent } from './remote-events.ts';

/**
 * The validated {@link RemoteJwksOptions} that govern fetching and caching, in the units of timers and
 * clocks: milliseconds (the public options are seconds). Built by {@link compileRemoteJwksOptions}.
 *
 * @example
 * ```ts
 * import { compileRemoteJwksOptions } from './remote-options.ts';
 * const { policy } = compileRemoteJwksOptions({ cacheMaxAge: 300 });
 * policy.defaultMaxAgeMs; // 300000
 * ```
 */
export interface CachePolicy {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly defaultMaxAgeMs: number;
  readonly minMaxAgeMs: number;
  readonly maxMaxAgeMs: number;
  readonly cooldownMs: number;
  readonly staleIfErrorMs: number;
  readonly allowInsecureHttp: boolean;
  readonly onEvent: ((event: RemoteKeysEvent) => void) | undefined;
  readonly clock: () => number;
}

/** The first retry after a failed fetch, in milliseconds; later ones double, up to the cooldown. */
const FIRST_RETRY_MS = 1000;

/**
 * How long a fetched document is used: the response's `max-age` (`no-cache`/`no-store` count as 0) held
 * within the configured bounds, or the default when the header says nothing usable. `s-maxage` is for
 * shared caches and ignored; malformed or repeated `max-age` values are ignored rather than guessed at.
 *
 * @example
 * ```ts
 * import { compileRemoteJwksOptions } from './remote-options.ts';
 * const { policy } = compileRemoteJwksOptions({});
 * freshnessMs('public, max-age=300', policy); // 300000: within the default bounds of 60 s to 24 h
 * freshnessMs('no-store', policy); // 60000: the lower bound
 * ```
 */
export function freshnessMs(cacheControl: string | null, policy: CachePolicy): number {
  let noStore = false;
  const maxAges: string[] = [];
  for (const directive of (cacheControl ?? '').split(',')) {
    const [rawName = '', rawValue = ''] = directive.split('=', 2);
    const name = rawName.trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') noStore = true;
    if (name === 'max-age') maxAges.push(rawValue.trim().replace(/^"(.*)"$/, '$1'));
  }
  if (noStore) return policy.minMaxAgeMs;
  const [value] = maxAges;
  if (maxAges.length !== 1 || value === undefined || !/^\d{1,12}$/.test(value)) return policy.defaultMaxAgeMs;
  return Math.min(policy.maxMaxAgeMs, Math.max(policy.minMaxAgeMs, Number(value) * 1000));
}

/**
 * The wait before retrying after `failures` consecutive failed fetches: 1 s, doubling, at most the
 * cooldown. A provider in trouble gets a trickle of requests from us, not a stampede.
 *
 * @example
 * ```ts
 * import { compileRemoteJwksOptions } from './remote-options.ts';
 * retryDelayMs(3, compileRemoteJwksOptions({}).policy); // 4000 with the default 30 s cooldown
 * ```
 */
export function retryDelayMs(failures: number, policy: CachePolicy): number {
  return backoffDelay(failures, FIRST_RETRY_MS, policy.cooldownMs);
}
