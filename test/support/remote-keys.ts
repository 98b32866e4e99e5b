import type { Authenticator, RemoteKeysEvent } from '../../src/index.ts';

/** A clock that moves only when told: cache ages, cooldowns and stale bounds without sleeping. */
export interface ManualClock {
  readonly now: () => number;
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

/** Records a remote resolver's events and lets a test wait for the next one of a kind. */
export interface EventLog {
  readonly events: RemoteKeysEvent[];
  readonly listener: (event: RemoteKeysEvent) => void;
  of<T extends RemoteKeysEvent['type']>(type: T): Extract<RemoteKeysEvent, { type: T }>[];
  /** Resolves with the next event of `type` (fails the test after `timeoutMs`). */
  next<T extends RemoteKeysEvent['type']>(type: T, timeoutMs?: number): Promise<Extract<RemoteKeysEvent, { type: T }>>;
}

export function eventLog(): EventLog {
  const events: RemoteKeysEvent[] = [];
  const waiters: Array<{ type: string; resolve: (event: RemoteKeysEvent) => void }> = [];
  return {
    events,
    listener: (event) => {
      events.push(event);
      for (const waiter of waiters.filter((w) => w.type === event.type)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    },
    of: (type) => events.filter((event) => event.type === type) as never,
    next: (type, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          type,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event as never);
          },
        });
      }),
  };
}

/** `'OK'` or the AuthError code a token ends with. */
export async function outcome(authenticator: Authenticator, token: string): Promise<string> {
  try {
    await authenticator.authenticate(token, '/test.echo.v1.Echo/Unary');
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** How many times each outcome occurred, e.g. `{ OK: 1000 }`. */
export async function tally(authenticator: Authenticator, tokens: readonly string[]): Promise<Record<string, number>> {
  const results = await Promise.all(tokens.map((token) => outcome(authenticator, token)));
  const counts: Record<string, number> = {};
  for (const result of results) counts[result] = (counts[result] ?? 0) + 1;
  return counts;
}

/** The token with its header replaced (kid changed): the signature no longer matches, which is the point. */
export function withHeader(token: string, header: Record<string, unknown>): string {
  const [, payload, signature] = token.split('.');
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload}.${signature}`;
}

/** Waits until `predicate` holds, checking every few milliseconds; fails after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
