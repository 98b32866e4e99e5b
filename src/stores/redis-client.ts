/**
 * The Redis connections of the Redis stores: `redis` (node-redis) is an optional peer dependency, loaded
 * on demand; every connection gets the same enforced options (no offline queue, a connect timeout, a
 * bounded reconnect backoff, an `error` listener), and every command runs under our own deadline.
 *
 * Why our own deadline: node-redis's command timeout only guards a command not yet written; once it is
 * on the wire a hung Redis (SIGSTOP, a partition) holds it forever. A store that waits forever holds
 * calls forever.
 */
import { createRequire } from 'node:module';
import { AuthConfigError } from '../errors/config-error.ts';
import { backoffDelay } from '../util/backoff.ts';
import { optionalSeconds } from '../util/option-checks.ts';

/**
 * Where a Redis store connects: `url` or `client` (exactly one), and the key prefix and deadline.
 *
 * @example
 * ```ts
 * import type { RedisConnectionOptions } from 'grpc-jwt-auth';
 * const connection: RedisConnectionOptions = { url: 'rediss://user:secret@redis.internal:6380', prefix: 'orders-auth', timeout: 1 };
 * ```
 */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL (credentials allowed; never logged). Exactly one of `url` and `client`. */
  readonly url?: string;
  /**
   * A node-redis client you built (TLS, ACL, Sentinel): the store opens its own connections with
   * `client.duplicate()` and never uses, changes or closes yours.
   */
  readonly client?: unknown;
  /** Prefix of every key and channel, `[A-Za-z0-9._-]{1,64}`; default `grpc-jwt-auth`. Services sharing one Redis keep separate lists with separate prefixes. */
  readonly prefix?: string;
  /** Seconds any one Redis command may take, 0.001 to 60 (default 2; the replay store's 0.5): past it the command counts as failed. */
  readonly timeout?: number;
}

/**
 * The part of a node-redis client (v5 or v6) the stores use. Only raw `sendCommand` and `subscribe`:
 * the typed command helpers changed shape between majors, raw commands did not. Internal: public types
 * never name the optional package.
 */
export interface RedisConnection {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: readonly string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  duplicate(overrides?: Record<string, unknown>): RedisConnection;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  close(): Promise<void>;
  destroy(): void;
  readonly options?: Record<string, unknown>;
}

/** The checked connection options, with defaults applied. */
export interface RedisConnectionSettings {
  readonly url: string | undefined;
  readonly client: RedisConnection | undefined;
  readonly prefix: string;
  /** Milliseconds. */
  readonly timeoutMs: number;
  /** For status and errors: the URL with its password replaced, and the prefix. */
  readonly source: string;
}

export const DEFAULT_PREFIX = 'grpc-jwt-auth';
const PREFIX_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Reconnect backoff: 100 ms doubling to 5 s: a Redis back after a restart is found within seconds, a dead one gets a trickle. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * Checks `url`, `client`, `prefix` and `timeout` (the other options are the caller's) and applies the
 * defaults. Never echoes the URL: it may carry a password.
 *
 * @example
 * ```ts
 * const settings = connectionSettings({ url: 'redis://127.0.0.1:6379' }, 2);
 * settings.source; // 'redis(redis://127.0.0.1:6379 prefix grpc-jwt-auth)'
 * connectionSettings({ url: 'http://127.0.0.1:6379' }, 2); // throws AuthConfigError('url', ...)
 * ```
 */
export function connectionSettings(options: RedisConnectionOptions, defaultTimeout: number): RedisConnectionSettings {
  const { url, client } = options;
  if ((url === undefined) === (client === undefined)) {
    throw new AuthConfigError(url === undefined ? 'url' : 'client', 'give exactly one of `url` (a redis:// URL) and `client` (a node-redis client)');
  }
  if (url !== undefined) checkUrl(url);
  if (client !== undefined && !isRedisClient(client)) {
    throw new AuthConfigError('client', 'expected a node-redis client (createClient() of the `redis` package, v5 or v6)');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    // The prefix becomes part of a hash tag `{prefix}` and of key names: braces or spaces would split it.
    throw new AuthConfigError('prefix', 'expected 1 to 64 characters of A-Z a-z 0-9 . _ -');
  }
  const timeout = optionalSeconds(options.timeout, 'timeout', 0.001, 60) ?? defaultTimeout;
  const clientUrl = (client as RedisConnection | undefined)?.options?.['url'];
  const where = url !== undefined ? redactRedisUrl(url) : typeof clientUrl === 'string' ? `client ${redactRedisUrl(clientUrl)}` : 'client';
  return {
    url,
    client: client as RedisConnection | undefined,
    prefix,
    timeoutMs: Math.max(1, Math.round(timeout * 1000)),
    source: `redis(${where} prefix ${prefix})`,
  };
}

function checkUrl(url: unknown): void {
  if (typeof url !== 'string' || url.length === 0) throw new AuthConfigError('url', 'expected a redis:// or rediss:// URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AuthConfigError('url', 'expected a redis:// or rediss:// URL (it does not parse)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new AuthConfigError('url', `expected a redis:// or rediss:// URL, not ${parsed.protocol}//`);
  }
}

function isRedisClient(value: unknown): value is RedisConnection {
  const candidate = value as Partial<Record<keyof RedisConnection, unknown>> | null;
  return typeof value === 'object' && value !== null && typeof candidate?.duplicate === 'function' && typeof candidate.sendCommand === 'function';
}

/**
 * A Redis URL fit for logs and status: the password becomes `***`, the user name stays.
 *
 * @example
 * ```ts
 * redactRedisUrl('redis://app:s3cret@redis.internal:6379/2'); // 'redis://app:***@redis.internal:6379/2'
 * redactRedisUrl('rediss://:s3cret@redis.internal'); // 'rediss://:***@redis.internal'
 * ```
 */
export function redactRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparsable url>';
  }
  const credentials = parsed.username !== '' || parsed.password !== '' ? `${parsed.username}${parsed.password === '' ? '' : ':***'}@` : '';
  const path = parsed.pathname === '/' || parsed.pathname === '' ? '' : parsed.pathname;
  return `${parsed.protocol}//${credentials}${parsed.host}${path}`;
}

interface RedisModule {
  createClient(options: Record<string, unknown>): RedisConnection;
}

/** undefined: not tried yet. */
let loadedModule: RedisModule | null | undefined;

/**
 * The installed `redis` package, loaded once on demand (a synchronous `require`: node-redis ships
 * CommonJS). Absent → AuthConfigError naming `url`, at construction.
 *
 * @example
 * ```ts
 * const client = loadRedis().createClient({ url: 'redis://127.0.0.1:6379' });
 * ```
 */
export function loadRedis(): RedisModule {
  if (loadedModule === undefined) {
    try {
      const module = createRequire(import.meta.url)('redis') as Partial<RedisModule> | null;
      loadedModule = typeof module?.createClient === 'function' ? (module as RedisModule) : null;
    } catch {
      loadedModule = null;
    }
  }
  if (loadedModule === null) throw new AuthConfigError('url', 'install the redis package (npm i redis) to use the Redis stores');
  return loadedModule;
}

/**
 * A new connection with the enforced options: from the URL, or a `duplicate()` of the user's client
 * (their socket options kept: TLS, host; ours added). Not connected yet; its `error` events go to
 * `onError` (an EventEmitter `error` without a listener would crash the process).
 *
 * @example
 * ```ts
 * const settings = connectionSettings({ url: 'redis://127.0.0.1:6379' }, 2);
 * const connection = openConnection(settings, (error) => console.warn(error.message));
 * await connection.connect();
 * ```
 */
export function openConnection(settings: RedisConnectionSettings, onError: (error: Error) => void): RedisConnection {
  const socket = {
    connectTimeout: settings.timeoutMs,
    reconnectStrategy: (retries: number) => backoffDelay(retries + 1, RECONNECT_FIRST_MS, RECONNECT_MAX_MS),
  };
  // An offline queue would hold commands while Redis is away and send them when it is back: a replay
  // check minutes late. Without it a command on a down connection fails at once.
  const enforced = { disableOfflineQueue: true };
  let connection: RedisConnection;
  if (settings.client !== undefined) {
    const theirSocket = (settings.client.options?.['socket'] ?? {}) as Record<string, unknown>;
    // No `socketTimeout`: it is an idle timeout, and it would close a quiet subscriber.
    const { socketTimeout: _idle, ...kept } = theirSocket;
    void _idle;
    connection = settings.client.duplicate({ ...enforced, socket: { ...kept, ...socket } });
    // A look-alike that passed the shape check (its duplicate() returns something else) would crash
    // below with a TypeError; say which option is wrong instead.
    if (!isRedisClient(connection) || typeof connection.on !== 'function' || typeof connection.connect !== 'function') {
      throw new AuthConfigError(
        'client',
        'expected a node-redis client (createClient() of the `redis` package, v5 or v6): its duplicate() returned something else',
      );
    }
  } else {
    connection = loadRedis().createClient({ url: settings.url, ...enforced, socket });
  }
  connection.on('error', (error) => onError(error instanceof Error ? error : new Error(String(error))));
  return connection;
}

/**
 * `promise`, or a rejection once `ms` milliseconds have passed (the late answer is ignored). Every Redis
 * command of the stores goes through this.
 *
 * @example
 * ```ts
 * declare const connection: RedisConnection;
 * const pong = await withDeadline(connection.sendCommand(['PING']), 500, 'PING');
 * ```
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis ${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Resolves true once `connection` is ready (connected and handshaken), false when `ms` pass first.
 * node-redis offers no "ready again" promise after the first connect; a 10 ms poll is cheap and bounded.
 *
 * @example
 * ```ts
 * declare const connection: RedisConnection;
 * if (!(await untilReady(connection, 2000))) throw new Error('redis not reachable');
 * ```
 */
export function untilReady(connection: RedisConnection, ms: number): Promise<boolean> {
  if (connection.isReady) return Promise.resolve(true);
  return new Promise((resolve) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (connection.isReady || !connection.isOpen || Date.now() - started >= ms) {
        clearInterval(poll);
        resolve(connection.isReady);
      }
    }, 10);
  });
}

/**
 * Closes a connection the store opened: `close()` (pending replies drain) within `ms`, else `destroy()`.
 * Never rejects: closing must not hang or fail on a hung Redis.
 *
 * @example
 * ```ts
 * declare const connection: RedisConnection;
 * await closeConnection(connection, 1000);
 * ```
 */
export async function closeConnection(connection: RedisConnection, ms: number): Promise<void> {
  if (!connection.isOpen) return;
  try {
    await withDeadline(connection.close(), ms, 'close');
  } catch {
    // Hung or already gone: drop the socket.
  }
  try {
    connection.destroy();
  } catch {
    // Already destroyed.
  }
}

/**
 * The text of a failure for status and events: the message only, with the connection's URL password
 * removed in case a driver error quotes it.
 *
 * @example
 * ```ts
 * failureText(new Error('connect ECONNREFUSED 127.0.0.1:6379'), 'redis://:pw@127.0.0.1:6379'); // 'connect ECONNREFUSED 127.0.0.1:6379'
 * ```
 */
export function failureText(error: unknown, url: string | undefined): string {
  let text = error instanceof Error ? error.message || error.name : String(error);
  if (url !== undefined) {
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password.length > 0) text = text.split(password).join('***');
    } catch {
      // An unparsable URL was refused at construction.
    }
    text = text.split(url).join(redactRedisUrl(url));
  }
  return text;
}
