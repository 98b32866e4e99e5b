/**
 * `grpc-jwt-auth revoke` / `unrevoke`: the admin side of revocations shared through Redis. Writes go to
 * Redis only (no subscriber, no mirror load); every replica's mirror picks them up by pub/sub.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { DEFAULT_MAX_TOKEN_LIFETIME, openRedisRevocationAdmin, type RedisRevocationAdmin } from '../stores/redis-revocation-admin.ts';
import { failureText } from '../stores/redis-client.ts';
import { entryOfRevocation } from '../stores/revocation-keys.ts';
import type { Revocation, RevocationEntry, RevocationTarget } from '../stores/revocation-store.ts';
import { decodeJsonObject, splitCompactToken } from '../verify/compact.ts';
import { tokenIdOf } from '../verify/verifier.ts';
import { UsageError, flagError, numberOption, stringOption, type Command, type OptionSpec, type ParsedArgs } from './args.ts';
import { lines, printable } from './format.ts';
import { EXIT, ownLines, type CommandIo } from './io.ts';
import { readToken } from './token-input.ts';

/** Where to connect and how: shared by both commands. */
const CONNECTION: OptionSpec = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  'max-token-lifetime': { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
};

/** The flags that name what to (un)revoke. */
const TARGETS: OptionSpec = {
  issuer: { type: 'string' },
  jti: { type: 'string' },
  'token-id': { type: 'string' },
  token: { type: 'string' },
  subject: { type: 'string' },
  client: { type: 'string' },
};

const REVOKE_OPTIONS: OptionSpec = {
  ...CONNECTION,
  ...TARGETS,
  before: { type: 'string' },
  expires: { type: 'string' },
  list: { type: 'boolean' },
};
const UNREVOKE_OPTIONS: OptionSpec = { ...CONNECTION, ...TARGETS, all: { type: 'boolean' }, yes: { type: 'boolean' } };

const CONNECTION_HELP = `Redis:
  --redis <url>              redis:// or rediss:// URL; default $REDIS_URL. Prefer the variable: a
                             password on the command line shows in the process list
  --prefix <prefix>          key prefix the servers use (default grpc-jwt-auth)
  --max-token-lifetime <s>   the servers' maxTokenLifetime (default 86400): how long a subject or
                             client watermark, or a token without --expires, is kept
  --timeout <s>              seconds each Redis command may take (default 2)
  --json                     print what was stored as JSON
  -h, --help                 this help`;

const REVOKE_HELP = `Usage: grpc-jwt-auth revoke [--redis <url>] <target> | --list [--json]

Revokes tokens on every server sharing the Redis: each server's local copy of the list is updated
within milliseconds and refuses matching tokens (UNAUTHENTICATED, reason TOKEN_REVOKED) until the
entry expires by itself, once no token it matches can still be valid. Prints what was stored.

Targets (one):
  --issuer <iss> --jti <jti>       one token, by its iss and jti
  --token-id <id>                  one token, by the tokenId the servers log (tokens without jti)
  --token <jwt | ->                one token, given whole (- reads it from standard input): its iss, jti
                                   (else its tokenId) and exp are read, not verified
  --issuer <iss> --subject <sub>   every token of a subject issued before --before (logout everywhere)
  --issuer <iss> --client <id>     every token issued to a client (azp, else client_id) before --before
  --list                           list every revocation instead

When:
  --expires <time>   token targets: the token's exp (default: --token's exp, else now plus
                     --max-token-lifetime)
  --before <time>    subject and client targets: tokens issued before it are revoked (default now; a
                     token issued the same second after it is revoked too)
  A time is an ISO 8601 date, a time of day with its zone (2026-12-01T10:00:00Z; 2026-12-01 alone is
  midnight UTC), seconds since the epoch (as in exp), or seconds from now (+3600, --before=-60: a value
  starting with - needs the =). Each flag once: run the command once per target.

${CONNECTION_HELP}

Exit status: 0 stored, 1 Redis failed (nothing may have been stored), 2 a usage error.

Examples:
  REDIS_URL=redis://redis.internal:6379 grpc-jwt-auth revoke --issuer https://idp.example/ --subject alice
  grpc-jwt-auth revoke --token - < leaked-token.txt`;

const UNREVOKE_HELP = `Usage: grpc-jwt-auth unrevoke [--redis <url>] <target> | --all --yes

Removes a revocation: tokens it matched are admitted again by every server sharing the Redis.

Targets (one): the same as revoke (--issuer with --jti, --subject or --client; --token-id; --token),
or --all --yes to remove every revocation under the prefix.

${CONNECTION_HELP}

Exit status: 0 done (also when there was nothing to remove), 1 Redis failed, 2 a usage error.`;

/** What the flags name, before anything is sent. */
type Request =
  | { readonly action: 'list' }
  | { readonly action: 'clear' }
  | { readonly action: 'revoke'; readonly revocation: Revocation }
  | { readonly action: 'unrevoke'; readonly target: RevocationTarget };

/** Whether the `YYYY-MM-DD` that `text` starts with names a day of the calendar. */
function calendarDateExists(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** A time flag: ISO 8601, epoch seconds, or seconds from now. */
function timeOption(values: ParsedArgs['values'], name: string, now: number): Date | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  let ms = Number.NaN;
  if (/^[+-]\d{1,10}$/.test(text)) ms = now + Number(text) * 1000;
  else if (/^\d{1,12}$/.test(text)) ms = Number(text) * 1000;
  // Date.parse also reads "1", "May 5" and locale forms: only ISO 8601, whose meaning is not a guess. A
  // time of day needs its zone: without one Date.parse reads it in the admin machine's local zone, and
  // `--before 2026-01-01T00:00:00` meant 05:00Z in New York (a date alone is midnight UTC, as ISO says).
  else if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(text)) ms = Date.parse(text);
  // Date.parse rolls a day the month lacks over (2026-02-30 read as March 2): a typo'd date is refused, not moved.
  if (/^\d{4}-/.test(text) && !calendarDateExists(text)) ms = Number.NaN;
  if (!Number.isFinite(ms))
    throw new UsageError(`--${name} ${JSON.stringify(text)}: give an ISO 8601 date (a time with its zone), seconds since the epoch, or +seconds`);
  return new Date(ms);
}

/** The target of a `--token`: iss + jti when it has a jti, else its tokenId; its exp. Read, not verified. */
async function tokenTarget(argument: string, io: CommandIo): Promise<{ target: RevocationTarget; exp: Date | undefined }> {
  const token = await readToken(argument, io);
  let claims: Record<string, unknown>;
  try {
    claims = decodeJsonObject(splitCompactToken(token, Number.MAX_SAFE_INTEGER).payload, 'payload');
  } catch (error) {
    throw new UsageError(`--token: ${(error as Error).message}`);
  }
  const { iss, jti, exp } = claims;
  if (iss !== undefined && typeof iss !== 'string') throw new UsageError('--token: its iss is not a string (no server admits such a token)');
  const target: RevocationTarget =
    typeof jti === 'string' && jti !== ''
      ? { kind: 'token', issuer: iss ?? '', jti }
      : // The same digest the servers compute, so it names every spelling of this token.
        { kind: 'token', tokenId: tokenIdOf(token) };
  return { target, exp: typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : undefined };
}

/** The one target the flags name; usage errors for none, several, or a missing `--issuer`. */
async function targetOf(values: ParsedArgs['values'], io: CommandIo): Promise<{ target: RevocationTarget; exp: Date | undefined }> {
  const named = (['jti', 'token-id', 'token', 'subject', 'client'] as const).filter((flag) => values[flag] !== undefined);
  if (named.length !== 1) {
    const given = named.length === 0 ? 'none' : named.map((flag) => `--${flag}`).join(' and ');
    throw new UsageError(`name one target: --jti, --subject or --client (each with --issuer), --token-id or --token; got ${given}`);
  }
  const [flag] = named as [(typeof named)[number]];
  const value = stringOption(values, flag) ?? '';
  const issuer = stringOption(values, 'issuer');
  const needsIssuer = flag === 'jti' || flag === 'subject' || flag === 'client';
  // A jti, subject or client id is only unique within its issuer: without it the entry would not say whose.
  if (needsIssuer && issuer === undefined) throw new UsageError(`--${flag} needs --issuer (use --issuer "" for tokens without iss)`);
  if (!needsIssuer && issuer !== undefined) throw new UsageError(`--issuer goes with --jti, --subject or --client, not --${flag}`);
  if (value === '' && flag !== 'token') throw new UsageError(`--${flag} is empty`);
  if (flag === 'token') return tokenTarget(value, io);
  const target: RevocationTarget =
    flag === 'jti'
      ? { kind: 'token', issuer: issuer ?? '', jti: value }
      : flag === 'token-id'
        ? { kind: 'token', tokenId: value }
        : flag === 'subject'
          ? { kind: 'subject', issuer: issuer ?? '', subject: value }
          : { kind: 'client', issuer: issuer ?? '', clientId: value };
  return { target, exp: undefined };
}

async function revokeRequest(values: ParsedArgs['values'], io: CommandIo, maxTokenLifetime: number): Promise<Request> {
  const targetFlags = Object.keys(TARGETS).filter((flag) => values[flag] !== undefined);
  if (values.list) {
    if (targetFlags.length > 0 || values.before !== undefined || values.expires !== undefined) throw new UsageError('--list takes no target');
    return { action: 'list' };
  }
  const { target, exp } = await targetOf(values, io);
  const now = io.now();
  const before = timeOption(values, 'before', now);
  const expires = timeOption(values, 'expires', now);
  if (target.kind === 'token' && before !== undefined) throw new UsageError('--before goes with --subject or --client; a token target takes --expires');
  if (target.kind !== 'token' && expires !== undefined) throw new UsageError('--expires goes with a token target; --subject and --client take --before');
  const expiresAt = expires ?? exp;
  const revocation: Revocation = { ...target, ...(before === undefined ? {} : { before }), ...(expiresAt === undefined ? {} : { expiresAt }) };
  checkRevocation(revocation, now, maxTokenLifetime);
  return { action: 'revoke', revocation };
}

async function unrevokeRequest(values: ParsedArgs['values'], io: CommandIo): Promise<Request> {
  if (values.all) {
    if (Object.keys(TARGETS).some((flag) => values[flag] !== undefined)) throw new UsageError('--all takes no target');
    // Every revocation under the prefix is gone at once, on every server: no accidental Enter does that.
    if (!values.yes) throw new UsageError('--all removes every revocation under the prefix on every server; add --yes to confirm');
    return { action: 'clear' };
  }
  if (values.yes) throw new UsageError('--yes goes with --all');
  return { action: 'unrevoke', target: (await targetOf(values, io)).target };
}

/** The target's identifying field, for output. */
function targetId(target: RevocationTarget): readonly [label: string, value: string] {
  if (target.kind === 'subject') return ['subject', target.subject];
  if (target.kind === 'client') return ['client', target.clientId];
  return 'jti' in target ? ['jti', target.jti] : ['tokenId', target.tokenId];
}

/** An entry as JSON: the target's fields flat, instants as ISO strings. */
function entryJson(entry: RevocationEntry): Record<string, unknown> {
  return { ...entry.target, ...(entry.before === undefined ? {} : { before: entry.before.toISOString() }), forgetAt: entry.forgetAt.toISOString() };
}

/** A target's label/value rows. */
function targetRows(target: RevocationTarget): Array<readonly [string, string]> {
  const [label, id] = targetId(target);
  const issuer = (value: string): string => (value === '' ? '"" (tokens without iss)' : printable(value));
  return [['kind', target.kind], ...('issuer' in target ? [['issuer', issuer(target.issuer)] as const] : []), [label, printable(id)]];
}

/** An entry as label/value lines (values from the admin's input or from Redis: escaped for the terminal). */
function entryLines(entry: RevocationEntry): string[] {
  return lines([
    ...targetRows(entry.target),
    ...(entry.before === undefined ? [] : [['before', entry.before.toISOString()] as const]),
    ['forgotten at', entry.forgetAt.toISOString()],
  ]);
}

/** A revocation the stores would refuse (the same check they apply) is a usage error, found before connecting. */
function checkRevocation(revocation: Revocation, now: number, maxTokenLifetime: number): void {
  try {
    entryOfRevocation(revocation, now, maxTokenLifetime);
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
}

/** How to reach Redis, from the flags. */
interface Connection {
  readonly url: string;
  readonly prefix: string | undefined;
  readonly timeout: number | undefined;
  readonly maxTokenLifetime: number;
  readonly json: boolean;
}

/** The flags' connection options; the URL from `--redis` or `$REDIS_URL`. */
function connectionOf(values: ParsedArgs['values']): Connection {
  const url = stringOption(values, 'redis') ?? process.env.REDIS_URL;
  if (url === undefined || url === '') throw new UsageError('give --redis <url> or set REDIS_URL');
  return {
    url,
    prefix: stringOption(values, 'prefix'),
    timeout: numberOption(values, 'timeout', { min: 0.001, max: 60 }),
    maxTokenLifetime: numberOption(values, 'max-token-lifetime', { min: 60, max: 31_536_000 }) ?? DEFAULT_MAX_TOKEN_LIFETIME,
    json: values.json === true,
  };
}

const FLAG_OF_OPTION: Readonly<Record<string, string>> = { url: 'redis', prefix: 'prefix', timeout: 'timeout', maxTokenLifetime: 'max-token-lifetime' };

/** Opens the write-only admin connection; a refused option is a usage error naming its flag. */
function openAdmin(connection: Connection): RedisRevocationAdmin {
  try {
    return openRedisRevocationAdmin({
      url: connection.url,
      maxTokenLifetime: connection.maxTokenLifetime,
      ...(connection.prefix === undefined ? {} : { prefix: connection.prefix }),
      ...(connection.timeout === undefined ? {} : { timeout: connection.timeout }),
    });
  } catch (error) {
    if (error instanceof AuthConfigError) throw flagError(FLAG_OF_OPTION[error.option] ?? error.option, error);
    // The driver refuses some URLs `new URL` takes (`redis://host/notadb`): a usage mistake (exit 2, not
    // 1), and its message passes the password filter like every other.
    if (error instanceof TypeError) throw new UsageError(`--redis: ${failureText(error, connection.url)}`);
    throw error;
  }
}

/** Prints entries, one block each (or one JSON array). */
function printEntries(heading: string, entries: readonly RevocationEntry[], json: boolean, io: CommandIo): void {
  if (json) {
    io.out(...ownLines(JSON.stringify(entries.map(entryJson), null, 2)));
    return;
  }
  io.out(heading);
  entries.forEach((entry, index) => io.out(...(index > 0 ? [''] : []), ...entryLines(entry)));
}

/** Runs the request against Redis and prints the outcome. */
async function perform(request: Request, admin: RedisRevocationAdmin, json: boolean, io: CommandIo): Promise<void> {
  if (request.action === 'list') {
    const entries = await admin.entries();
    printEntries(`${entries.length} revocation${entries.length === 1 ? '' : 's'}`, entries, json, io);
  } else if (request.action === 'clear') {
    const removed = await admin.clearAll();
    if (json) io.out(JSON.stringify({ removed }));
    else io.out(`removed every revocation (${removed})`);
  } else if (request.action === 'unrevoke') {
    const removed = await admin.unrevoke(request.target);
    if (json) io.out(...ownLines(JSON.stringify({ removed, target: request.target }, null, 2)));
    else io.out(removed ? 'unrevoked' : 'no such revocation (nothing removed)', ...lines(targetRows(request.target)));
  } else {
    // What Redis now holds: merged with an earlier revocation of the same target, the later instants win.
    printEntries('revoked', [await admin.revoke(request.revocation)], json, io);
  }
}

/** Runs one command: parse, connect, do, close; Redis failures exit 1 with the URL's password hidden. */
async function run(command: 'revoke' | 'unrevoke', args: ParsedArgs, io: CommandIo): Promise<number> {
  const { values } = args;
  const connection = connectionOf(values);
  const request = command === 'revoke' ? await revokeRequest(values, io, connection.maxTokenLifetime) : await unrevokeRequest(values, io);
  const admin = openAdmin(connection);
  try {
    await perform(request, admin, connection.json, io);
    return EXIT.OK;
  } catch (error) {
    // The driver's error may quote the URL: its password never reaches the terminal.
    io.err(`grpc-jwt-auth ${command}: ${failureText(error, connection.url)}`);
    return EXIT.FAILED;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * `revoke`: records a revocation in Redis (or lists them), exits 0; 1 when Redis failed.
 *
 * @example
 * ```ts
 * import { processIo } from './io.ts';
 * import { runCli } from './run.ts';
 * process.exitCode = await runCli(['revoke', '--issuer', 'https://idp.example/', '--subject', 'alice'], processIo()); // runs revokeCommand
 * ```
 */
export const revokeCommand: Command = { options: REVOKE_OPTIONS, maxPositionals: 0, help: REVOKE_HELP, run: (args, io) => run('revoke', args, io) };

/**
 * `unrevoke`: removes a revocation (or all of them with `--all --yes`), exits 0; 1 when Redis failed.
 *
 * @example
 * ```ts
 * import { processIo } from './io.ts';
 * import { runCli } from './run.ts';
 * process.exitCode = await runCli(['unrevoke', '--issuer', 'https://idp.example/', '--subject', 'alice'], processIo()); // runs unrevokeCommand
 * ```
 */
export const unrevokeCommand: Command = { options: UNREVOKE_OPTIONS, maxPositionals: 0, help: UNREVOKE_HELP, run: (args, io) => run('unrevoke', args, io) };
