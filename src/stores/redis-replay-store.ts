/**
 * DPoP proof `jti`s (and any one-time value) shared by replicas through Redis: one atomic `SET NX PX`
 * per use. No stale mode: a value that could not be checked is treated as a replay would be, by
 * refusing the call (UNAVAILABLE), never by admitting it.
 */
import { AuthError } from '../errors/auth-error.ts';
import { checkOptionNames, optionNames } from '../util/option-checks.ts';
import type { ReplayStore } from './replay-store.ts';
import type { RevocationsStatus } from './revocation-store.ts';
import { closeConnection, connectionSettings, failureText, openConnection, untilReady, withDeadline, type RedisConnectionOptions } from './redis-client.ts';

/**
 * A {@link ReplayStore} in Redis, shared by replicas: `add` is one `SET key 1 NX PX ms`, so two replicas
 * racing on one DPoP proof `jti` admit exactly one. No stale mode: a down or slow Redis refuses the
 * proof's call (UNAVAILABLE `ERR_AUTH_REPLAY_CHECK_UNAVAILABLE`) within `timeout` (default 0.5 s here: it
 * is on the call path).
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, createRedisReplayStore } from 'grpc-jwt-auth';
 * const replayStore = createRedisReplayStore({ url: 'redis://redis.internal:6379' });
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], dpop: { origins: ['https://orders.example'] }, replayStore });
 * ```
 */
export interface RedisReplayStore extends ReplayStore {
  add(key: string, expiresAt: Date): Promise<boolean>;
  /** Resolves once connected; rejects after `timeout` (reconnecting continues). */
  ready(): Promise<void>;
  /** Closes the connection it opened (never a user's `client`). */
  close(): Promise<void>;
  /** Where it connects (password redacted), whether the command connection is up, and the last failure. */
  status(): Pick<RevocationsStatus, 'source' | 'lastError'> & {
    /** Whether the command connection is up now. */
    readonly connected: boolean;
  };
}

const OPTION_NAMES = optionNames<RedisConnectionOptions>({ url: true, client: true, prefix: true, timeout: true });
/** On the call path: a proof waits at most this long for its check. */
const DEFAULT_TIMEOUT = 0.5;

/**
 * Builds a {@link RedisReplayStore}.
 *
 * @example
 * ```ts
 * import { createRedisReplayStore } from 'grpc-jwt-auth';
 * const replayStore = createRedisReplayStore({ url: 'redis://127.0.0.1:6379', timeout: 0.25 });
 * await replayStore.add('dpop:jkt:jti-1', new Date(Date.now() + 70_000)); // true: first use
 * ```
 */
export function createRedisReplayStore(options: RedisConnectionOptions): RedisReplayStore {
  checkOptionNames(options as unknown, OPTION_NAMES);
  const settings = connectionSettings(options, DEFAULT_TIMEOUT);
  let lastError: string | undefined;
  const connection = openConnection(settings, (error) => {
    lastError = failureText(error, settings.url);
  });
  // Connects (and reconnects) in the background; `add` before it is up fails closed at once.
  const connected = connection.connect().then(
    () => undefined,
    (error: unknown) => {
      lastError = failureText(error, settings.url);
    },
  );
  void connected;
  let closed = false;
  /**
   * Commands past their deadline and still unanswered. While one is, Redis is hung or partitioned with
   * the socket open: a new add is refused at once instead of being written behind it, where it would wait
   * the whole timeout and stay queued (memory) until Redis answers or the socket dies.
   */
  let overdue = 0;

  function unavailable(message: string, cause?: unknown): AuthError {
    return new AuthError('ERR_AUTH_REPLAY_CHECK_UNAVAILABLE', `redis replay store (${settings.source}): ${message}`, { cause });
  }

  return {
    async add(key: string, expiresAt: Date): Promise<boolean> {
      if (typeof key !== 'string') throw new TypeError('replay store key must be a string');
      const until = expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN;
      if (!Number.isFinite(until)) throw new TypeError('replay store expiresAt must be a valid Date');
      if (closed) throw unavailable('closed');
      // Relative PX on our clock: PXAT would compare our instant with Redis' clock, and a Redis clock
      // ahead by more than the window would expire the key at once and admit the replay.
      const ttl = Math.max(1, Math.ceil(until - Date.now()));
      if (overdue > 0)
        throw unavailable(`an earlier command has not been answered within ${settings.timeoutMs} ms${lastError === undefined ? '' : `: ${lastError}`}`);
      const sent = connection.sendCommand(['SET', `${settings.prefix}:replay:${key}`, '1', 'NX', 'PX', String(ttl)]);
      // Registered before withDeadline's own handlers, so it runs first when the answer comes.
      let answered = false;
      let counted = false;
      const settle = (): void => {
        answered = true;
        if (counted) overdue -= 1;
      };
      sent.then(settle, settle);
      let reply: unknown;
      try {
        reply = await withDeadline(sent, settings.timeoutMs, 'SET NX');
      } catch (error) {
        if (!answered) {
          counted = true;
          overdue += 1;
        }
        // Down, hung or slow: unchecked. A late OK after the deadline only burns the jti (the client
        // retries with a new proof): fail closed either way.
        lastError = failureText(error, settings.url);
        throw unavailable(lastError, error);
      }
      if (reply === 'OK') return true;
      if (reply === null) return false;
      throw unavailable('unexpected reply to SET NX');
    },
    async ready(): Promise<void> {
      if (closed) throw unavailable('closed');
      if (!(await untilReady(connection, settings.timeoutMs))) {
        throw unavailable(`not connected within ${settings.timeoutMs} ms${lastError === undefined ? '' : `: ${lastError}`}`);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await closeConnection(connection, settings.timeoutMs);
    },
    status() {
      return { source: settings.source, connected: connection.isReady, lastError };
    },
  };
}
