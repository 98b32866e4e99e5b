/**
 * How revocations are laid out in Redis, and the Lua scripts that change them. Every change is one
 * script: read, merge, write, bump the sequence and publish, atomically, so a replica that loaded the list
 * at sequence N and applies every message after N in order holds exactly what Redis holds.
 *
 * Layout (`P` = `{prefix}:revocations`; the braces are a Cluster hash tag: every key in one slot, so the
 * scripts stay legal on a Cluster):
 * - `P` hash: entry id (`["t"|"i"|"s"|"c", issuer, value]` as JSON) → `{"until":ms}` or `{"before":ms,"until":ms}`;
 * - `P:expiry` zset: id scored by `until`, for the sweep;
 * - `P:seq` counter, bumped by every published change; `P:epoch` the list's identity (set by replicas
 *   after a wipe and by a clear, never by an ordinary write);
 * - channel `P:changes`: `{"epoch","seq","op":"set"|"del"|"clear","id","value"}`.
 *
 * Scripts are sent with `EVAL` (not `EVALSHA`): a restarted Redis has no script cache, and there is no
 * NOSCRIPT retry to get wrong.
 */
import { randomUUID } from 'node:crypto';
import type { MirrorEntry } from './revocation-keys.ts';

/** The key and channel names of one prefix. */
export interface RevocationKeyNames {
  readonly hash: string;
  readonly expiry: string;
  readonly seq: string;
  readonly epoch: string;
  readonly channel: string;
}

/**
 * The names under `prefix`.
 *
 * @example
 * ```ts
 * revocationKeyNames('grpc-jwt-auth').hash; // '{grpc-jwt-auth}:revocations'
 * ```
 */
export function revocationKeyNames(prefix: string): RevocationKeyNames {
  const hash = `{${prefix}}:revocations`;
  return { hash, expiry: `${hash}:expiry`, seq: `${hash}:seq`, epoch: `${hash}:epoch`, channel: `${hash}:changes` };
}

/** The four keys every script is given, in this order. */
export function scriptKeys(names: RevocationKeyNames): string[] {
  return [names.hash, names.expiry, names.seq, names.epoch];
}

/**
 * Merge-write. ARGV: id, before ms (`''` for none), until ms, channel, and (re-seeds only) the epoch the
 * write belongs to (`''`: any). The later `before` and the later `until` win (re-revoking never shortens a
 * revocation). Returns `{value, seq}`, or nil when the epoch is no longer the one given (a clear landed
 * while a replica wrote its entries back: the clear wins, the write-back stops).
 * `until` is a Lua keyword: it is only ever a string key here.
 */
export const WRITE_SCRIPT = `
local id = ARGV[1]
if ARGV[5] and ARGV[5] ~= '' and (redis.call('GET', KEYS[4]) or '') ~= ARGV[5] then return false end
local before = nil
if ARGV[2] ~= '' then before = tonumber(ARGV[2]) end
local until_ms = tonumber(ARGV[3])
-- A corrupt stored number (1e400 decodes to inf, nan) would be formatted as 'inf' or 'nan': an entry no
-- reader parses and no later revoke could repair. Only finite old values take part in the merge.
local function finite(x)
  if x and x == x and x > -math.huge and x < math.huge then return x end
  return nil
end
local old = redis.call('HGET', KEYS[1], id)
if old then
  local ok, o = pcall(cjson.decode, old)
  if ok and type(o) == 'table' then
    local ob = finite(tonumber(o['before']))
    local ou = finite(tonumber(o['until']))
    if before and ob and ob > before then before = ob end
    if ou and ou > until_ms then until_ms = ou end
  end
end
local value
if before then
  value = string.format('{"before":%.0f,"until":%.0f}', before, until_ms)
else
  value = string.format('{"until":%.0f}', until_ms)
end
redis.call('HSET', KEYS[1], id, value)
redis.call('ZADD', KEYS[2], string.format('%.0f', until_ms), id)
local seq = redis.call('INCR', KEYS[3])
local epoch = redis.call('GET', KEYS[4]) or ''
redis.call('PUBLISH', ARGV[4], cjson.encode({epoch = epoch, seq = seq, op = 'set', id = id, value = value}))
return {value, seq}
`;

/** Delete. ARGV: id, channel. Returns `{1, seq}` when the entry was there (then published), else `{0, 0}`. */
export const DELETE_SCRIPT = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
local seq = 0
if removed == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  seq = redis.call('INCR', KEYS[3])
  local epoch = redis.call('GET', KEYS[4]) or ''
  redis.call('PUBLISH', ARGV[2], cjson.encode({epoch = epoch, seq = seq, op = 'del', id = ARGV[1]}))
end
return {removed, seq}
`;

/**
 * A wiped list gets an epoch: ARGV[1] unless one exists (the first replica wins). Returns the epoch now
 * set, read in the same script: a re-seed writes back under exactly this epoch, so a clear that comes
 * after (a new epoch) stops the write-back instead of being undone by it.
 */
export const EPOCH_SCRIPT = `
redis.call('SET', KEYS[4], ARGV[1], 'NX')
return redis.call('GET', KEYS[4])
`;

/**
 * Clear everything, deliberately. ARGV: new epoch, channel. The new epoch tells replicas the list was
 * emptied on purpose (adopt it), not wiped by a restart (write your entries back). Returns `{removed, seq}`.
 */
export const CLEAR_SCRIPT = `
local removed = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[4], ARGV[1])
local seq = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], cjson.encode({epoch = ARGV[1], seq = seq, op = 'clear'}))
return {removed, seq}
`;

/**
 * Sweep. ARGV: now ms, limit. Removes up to `limit` entries whose `until` has passed, from the hash and
 * the zset; publishes nothing (every mirror ignores and sweeps expired entries by itself). Returns the count.
 */
export const SWEEP_SCRIPT = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('HDEL', KEYS[1], id) end
if #ids > 0 then redis.call('ZREM', KEYS[2], unpack(ids)) end
return #ids
`;

/**
 * The list's head: `{epoch or '', seq or '0'}`, read atomically in one command (a MULTI on a shared,
 * pipelined connection could swallow another command into the transaction). An absent epoch means a
 * wiped (or never initialised) list.
 */
export const HEAD_SCRIPT = `return {redis.call('GET', KEYS[4]) or '', redis.call('GET', KEYS[3]) or '0'}`;

/**
 * Whether an epoch was set by a clear (`unrevoke --all`: every replica adopts the empty list) rather than
 * by a replica re-seeding a wiped list (every replica writes its entries back, also one that finds the
 * epoch already set by a replica that had nothing to write back).
 *
 * @example
 * ```ts
 * isClearEpoch(clearEpoch()); // true
 * isClearEpoch('3f1c…'); // false: a re-seed's
 * ```
 */
export function isClearEpoch(epoch: string): boolean {
  return epoch.startsWith(CLEAR_EPOCH_PREFIX);
}

/**
 * A new epoch for a clear.
 *
 * @example
 * ```ts
 * const epoch = clearEpoch(); // 'clear:…'
 * ```
 */
export function clearEpoch(): string {
  return `${CLEAR_EPOCH_PREFIX}${randomUUID()}`;
}

const CLEAR_EPOCH_PREFIX = 'clear:';

/**
 * An entry value as stored in the hash; undefined for anything else (a foreign or corrupt field is
 * skipped, never guessed at).
 *
 * @example
 * ```ts
 * parseEntryValue('{"before":1700000000000,"until":1700086700000}'); // { before: 1700000000000, until: 1700086700000 }
 * parseEntryValue('nonsense'); // undefined
 * ```
 */
export function parseEntryValue(text: unknown): MirrorEntry | undefined {
  if (typeof text !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { before, until } = parsed as { before?: unknown; until?: unknown };
  if (typeof until !== 'number' || !Number.isFinite(until)) return undefined;
  if (before !== undefined && (typeof before !== 'number' || !Number.isFinite(before))) return undefined;
  return { before: before as number | undefined, until };
}

/** One published change. */
export type RevocationChange =
  | { readonly op: 'set'; readonly epoch: string; readonly seq: number; readonly id: string; readonly entry: MirrorEntry }
  | { readonly op: 'del'; readonly epoch: string; readonly seq: number; readonly id: string }
  | { readonly op: 'clear'; readonly epoch: string; readonly seq: number };

/**
 * A message of the changes channel; undefined when it is not one (then the mirror re-syncs rather than
 * guess).
 *
 * @example
 * ```ts
 * parseChange('{"epoch":"e1","seq":7,"op":"del","id":"[\\"t\\",\\"iss\\",\\"a1\\"]"}')?.seq; // 7
 * ```
 */
export function parseChange(text: string): RevocationChange | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { epoch, seq, op, id, value } = parsed as Record<string, unknown>;
  if (typeof epoch !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq)) return undefined;
  if (op === 'clear') return { op, epoch, seq };
  if (typeof id !== 'string') return undefined;
  if (op === 'del') return { op, epoch, seq, id };
  const entry = op === 'set' ? parseEntryValue(value) : undefined;
  return entry === undefined ? undefined : { op: 'set', epoch, seq, id, entry };
}
