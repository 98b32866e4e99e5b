/**
 * Writing revocations to Redis: the scripts of redis-scripts.ts run under the store's deadline. Shared by
 * the Redis revocation store (which also keeps a mirror) and the admin handle the CLI uses (which does
 * not: it writes, lists and clears, and keeps no connection open beyond its command).
 */
import { AuthError } from '../errors/auth-error.ts';
import { checkOptionNames, optionNames, optionalFunction, optionalSeconds } from '../util/option-checks.ts';
import {
  closeConnection,
  connectionSettings,
  failureText,
  openConnection,
  untilReady,
  withDeadline,
  type RedisConnection,
  type RedisConnectionOptions,
  type RedisConnectionSettings,
} from './redis-client.ts';
import {
  CLEAR_SCRIPT,
  DELETE_SCRIPT,
  EPOCH_SCRIPT,
  HEAD_SCRIPT,
  SWEEP_SCRIPT,
  WRITE_SCRIPT,
  clearEpoch,
  parseEntryValue,
  revocationKeyNames,
  scriptKeys,
  type RevocationKeyNames,
} from './redis-scripts.ts';
import { entryIdOf, entryOfRevocation, publicEntry, type MirrorEntry } from './revocation-keys.ts';
import type { Revocation, RevocationEntry, RevocationTarget } from './revocation-store.ts';

/** Entries read per HSCAN round trip: each chunk keeps Redis busy for milliseconds, never one long stall. */
const SCAN_COUNT = 1000;
/** Entries removed per sweep script. */
const SWEEP_LIMIT = 1000;
export const DEFAULT_MAX_TOKEN_LIFETIME = 86_400;

/**
 * The writes of one prefix on one connection. Every method rejects with an AuthError
 * `ERR_AUTH_REVOCATIONS_UNAVAILABLE` when Redis does not answer within the deadline.
 *
 * @example
 * ```ts
 * declare const writer: RevocationWriter; // new RevocationWriter(connection, connectionSettings(options, 2))
 * await writer.write('["t","https://idp.example/","a1"]', { before: undefined, until: Date.now() + 60_000 });
 * ```
 */
export class RevocationWriter {
  readonly names: RevocationKeyNames;

  constructor(
    private readonly connection: RedisConnection,
    private readonly settings: RedisConnectionSettings,
  ) {
    this.names = revocationKeyNames(settings.prefix);
  }

  /** One command under the deadline; any failure becomes REVOCATIONS_UNAVAILABLE. */
  async command(args: readonly string[], what: string): Promise<unknown> {
    try {
      return await withDeadline(this.connection.sendCommand(args), this.settings.timeoutMs, what);
    } catch (error) {
      throw new AuthError(
        'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
        `redis revocations (${this.settings.source}): ${what} failed: ${failureText(error, this.settings.url)}`,
        { cause: error },
      );
    }
  }

  private evalScript(script: string, args: readonly string[], what: string): Promise<unknown> {
    return this.command(['EVAL', script, '4', ...scriptKeys(this.names), ...args], what);
  }

  /**
   * Merges `entry` into `id`; resolves with what Redis now holds (the merge of both) and the sequence of
   * the change (a store applies its own write only if no later change has reached it meanwhile).
   */
  async write(id: string, entry: MirrorEntry): Promise<{ readonly entry: MirrorEntry; readonly seq: number }> {
    const reply = await this.evalScript(WRITE_SCRIPT, this.writeArgs(id, entry, ''), 'revoke');
    const stored = Array.isArray(reply) ? parseEntryValue(reply[0]) : undefined;
    const seq = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
    if (stored === undefined || !Number.isSafeInteger(seq))
      throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `redis revocations (${this.settings.source}): unexpected reply to the write script`);
    return { entry: stored, seq };
  }

  /** A re-seed's write-back: merged only while the list's epoch is still `epoch` (a clear since then wins). */
  async writeBack(id: string, entry: MirrorEntry, epoch: string): Promise<void> {
    await this.evalScript(WRITE_SCRIPT, this.writeArgs(id, entry, epoch), 'revoke');
  }

  private writeArgs(id: string, entry: MirrorEntry, epoch: string): string[] {
    return [id, entry.before === undefined ? '' : String(entry.before), String(entry.until), this.names.channel, epoch];
  }

  /** The list's epoch (`''` when absent: wiped or never initialised) and sequence. */
  async head(): Promise<{ readonly epoch: string; readonly seq: number }> {
    const reply = await this.evalScript(HEAD_SCRIPT, [], 'head');
    const seq = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
    if (!Array.isArray(reply) || typeof reply[0] !== 'string' || !Number.isSafeInteger(seq)) {
      throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `redis revocations (${this.settings.source}): unexpected reply to the head script`);
    }
    return { epoch: reply[0], seq };
  }

  /** Sets the epoch unless one exists (a replica re-seeding a wiped list; the first one wins); resolves with the epoch now set. */
  async createEpoch(epoch: string): Promise<string> {
    const reply = await this.evalScript(EPOCH_SCRIPT, [epoch], 'SET epoch');
    if (typeof reply !== 'string' || reply === '')
      throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `redis revocations (${this.settings.source}): unexpected reply to the epoch script`);
    return reply;
  }

  /** Removes `id`: `removed` true when it was there, then `seq` is the sequence of the change. */
  async remove(id: string): Promise<{ readonly removed: boolean; readonly seq: number }> {
    const reply = await this.evalScript(DELETE_SCRIPT, [id, this.names.channel], 'unrevoke');
    const [removed, seq] = Array.isArray(reply) ? reply.map(Number) : [Number.NaN, Number.NaN];
    if (!Number.isSafeInteger(removed) || !Number.isSafeInteger(seq))
      throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `redis revocations (${this.settings.source}): unexpected reply to the delete script`);
    return { removed: removed === 1, seq: seq ?? 0 };
  }

  /** Removes every entry under a new epoch (replicas adopt the empty list); resolves with the epoch and how many were removed. */
  async clear(): Promise<{ readonly epoch: string; readonly removed: number }> {
    const epoch = clearEpoch();
    const reply = await this.evalScript(CLEAR_SCRIPT, [epoch, this.names.channel], 'clear');
    return { epoch, removed: Array.isArray(reply) ? Number(reply[0]) : 0 };
  }

  /** Removes entries whose `until` is at or before `now` (ms), in chunks; resolves with how many. */
  async sweep(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = Number(await this.evalScript(SWEEP_SCRIPT, [String(Math.floor(now)), String(SWEEP_LIMIT)], 'sweep'));
      total += removed;
      if (!(removed >= SWEEP_LIMIT)) return total;
    }
  }

  /**
   * Every entry in Redis, by `HSCAN` chunks (never one `HGETALL`, which blocks Redis for every other
   * client while it builds a 100,000-entry reply). `accept` sees each readable entry and may throw to
   * stop (the mirror's `maxEntries`).
   */
  async scan(accept: (id: string, entry: MirrorEntry) => void): Promise<void> {
    let cursor = '0';
    do {
      const reply = await this.command(['HSCAN', this.names.hash, cursor, 'COUNT', String(SCAN_COUNT)], 'HSCAN');
      if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
        throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `redis revocations (${this.settings.source}): unexpected reply to HSCAN`);
      }
      cursor = String(reply[0]);
      const fields = reply[1] as unknown[];
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const id = fields[i];
        const entry = parseEntryValue(fields[i + 1]);
        if (typeof id === 'string' && entry !== undefined) accept(id, entry);
      }
    } while (cursor !== '0');
  }
}

/**
 * Options of {@link openRedisRevocationAdmin}: the connection, and how long a token revocation without
 * `expiresAt` is kept.
 *
 * @example
 * ```ts
 * const options: RedisRevocationAdminOptions = { url: 'redis://127.0.0.1:6379', maxTokenLifetime: 3600 };
 * ```
 */
export interface RedisRevocationAdminOptions extends RedisConnectionOptions {
  /** Seconds, 60 to 31,536,000; default 86,400 (as the store's option of the same name). */
  readonly maxTokenLifetime?: number;
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly clock?: () => number;
}

/**
 * The write-only side of the Redis revocation list, for the CLI: no subscriber, no mirror. Every method
 * connects first (within `timeout`) and rejects with an AuthError `ERR_AUTH_REVOCATIONS_UNAVAILABLE`
 * when Redis does not answer.
 *
 * @example
 * ```ts
 * const admin = openRedisRevocationAdmin({ url: 'redis://127.0.0.1:6379' });
 * const stored = await admin.revoke({ kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' });
 * console.log(stored.forgetAt.toISOString());
 * await admin.close();
 * ```
 */
export interface RedisRevocationAdmin {
  /** Where it connects, password redacted (for messages). */
  readonly source: string;
  /** Records (merges) a revocation; resolves with the entry Redis now holds. Throws a TypeError for a malformed revocation. */
  revoke(revocation: Revocation): Promise<RevocationEntry>;
  /** Removes a revocation; true when there was one. */
  unrevoke(target: RevocationTarget): Promise<boolean>;
  /** Every entry not yet forgotten. */
  entries(): Promise<readonly RevocationEntry[]>;
  /** Removes every entry (replicas adopt the empty list; none writes its own back); resolves with how many were removed. */
  clearAll(): Promise<number>;
  /** Removes forgotten entries from Redis now (replicas also do it every minute); resolves with how many. */
  sweep(): Promise<number>;
  /** Closes the connection. */
  close(): Promise<void>;
}

const ADMIN_OPTION_NAMES = optionNames<RedisRevocationAdminOptions>({
  url: true,
  client: true,
  prefix: true,
  timeout: true,
  maxTokenLifetime: true,
  clock: true,
});

/**
 * Opens a {@link RedisRevocationAdmin}. Internal (the CLI's `revoke`/`unrevoke`), not exported from the
 * package entry. Admin writes never create the list's epoch: a write right after a wipe must not make
 * the replicas adopt a near-empty list instead of writing theirs back.
 *
 * @example
 * ```ts
 * const admin = openRedisRevocationAdmin({ url: 'redis://127.0.0.1:6379', timeout: 1 });
 * await admin.unrevoke({ kind: 'token', issuer: 'https://idp.example/', jti: 'a1' });
 * await admin.close();
 * ```
 */
export function openRedisRevocationAdmin(options: RedisRevocationAdminOptions): RedisRevocationAdmin {
  checkOptionNames(options as unknown, ADMIN_OPTION_NAMES);
  const settings = connectionSettings(options, 2);
  const maxTokenLifetime = optionalSeconds(options.maxTokenLifetime, 'maxTokenLifetime', 60, 31_536_000) ?? DEFAULT_MAX_TOKEN_LIFETIME;
  const clock = optionalFunction<() => number>(options.clock, 'clock', 'a function returning milliseconds since the epoch') ?? Date.now;
  let lastError: string | undefined;
  const connection = openConnection(settings, (error) => {
    lastError = failureText(error, settings.url);
  });
  const writer = new RevocationWriter(connection, settings);
  let closed = false;
  // Connects (and, while down, retries) in the background; each method waits for it within the deadline.
  connection.connect().catch((error: unknown) => {
    lastError = failureText(error, settings.url);
  });

  async function connected(): Promise<void> {
    if (closed) throw new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', `redis revocations (${settings.source}): closed`);
    if (!(await untilReady(connection, settings.timeoutMs))) {
      throw new AuthError(
        'ERR_AUTH_REVOCATIONS_UNAVAILABLE',
        `redis revocations (${settings.source}): not connected within ${settings.timeoutMs} ms${lastError === undefined ? '' : `: ${lastError}`}`,
      );
    }
  }

  function publicOf(id: string, entry: MirrorEntry): RevocationEntry {
    const listed = publicEntry(id, entry);
    if (listed === undefined) throw new AuthError('ERR_AUTH_INTERNAL', 'revocation entry id does not parse');
    return listed;
  }

  return {
    source: settings.source,
    async revoke(revocation) {
      const [id, entry] = entryOfRevocation(revocation, clock(), maxTokenLifetime);
      await connected();
      return publicOf(id, (await writer.write(id, entry)).entry);
    },
    async unrevoke(target) {
      const id = entryIdOf(target);
      await connected();
      return (await writer.remove(id)).removed;
    },
    async entries() {
      await connected();
      const now = clock();
      const listed: RevocationEntry[] = [];
      await writer.scan((id, entry) => {
        const item = entry.until > now ? publicEntry(id, entry) : undefined;
        if (item !== undefined) listed.push(item);
      });
      return listed;
    },
    async clearAll() {
      await connected();
      return (await writer.clear()).removed;
    },
    async sweep() {
      await connected();
      return writer.sweep(clock());
    },
    async close() {
      if (closed) return;
      closed = true;
      // A connect still retrying is stopped by destroy.
      await closeConnection(connection, Math.min(settings.timeoutMs, 1000));
    },
  };
}
