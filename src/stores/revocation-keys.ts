/**
 * How revocations are keyed: one entry id per target, and the ids a verified token can match, computed
 * once per verified token. The same ids are the fields of the Redis hash, so every replica and the CLI
 * agree on them.
 */
import { AuthError } from '../errors/auth-error.ts';
import type { Revocation, RevocationEntry, RevocationMatch, RevocableToken, RevocationTarget } from './revocation-store.ts';

/** One entry as the mirror holds it: instants in milliseconds since the epoch. */
export interface MirrorEntry {
  /** Subject and client entries: tokens with `iat * 1000 < before` (or without `iat`) match. */
  readonly before: number | undefined;
  /** When the entry is forgotten (no token it matches can still be valid). */
  readonly until: number;
}

/** Seconds added after a token's `exp` (or a watermark's last possible `exp`): the largest clockTolerance accepted. */
export const REVOCATION_GRACE = 300;

/**
 * The ids a verified token can match, and its `iat` in ms: computed once when the token is verified and
 * kept in its cache entry, so a check costs at most four `Map.get`s.
 */
export interface TokenLookup {
  /** `t` (iss + jti) when the token has a jti, and `i` (tokenId) always. */
  readonly tokenIds: readonly string[];
  /** `s` (iss + sub), when the token has a string `sub`. */
  readonly subjectId: string | undefined;
  /** `c` (iss + azp/client_id), when the token names a client. */
  readonly clientId: string | undefined;
  /** `iat * 1000`, or undefined when absent (then watermarks match). */
  readonly issuedAt: number | undefined;
  /** The token's `iss` (`''` without one): what a match reports. */
  readonly issuer: string;
}

/** The kind letters of entry ids: short, because a Redis hash holds one field per entry. */
type KindLetter = 't' | 'i' | 's' | 'c';

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const idOf = (kind: KindLetter, issuer: string, value: string): string => JSON.stringify([kind, issuer, value]);

/**
 * The entry id of a target: `JSON.stringify([kind, issuer, value])` with kind `t` (jti), `i` (tokenId),
 * `s` (subject), `c` (client). JSON makes it injective whatever the issuer or value contain: an issuer
 * ending in `","` cannot make issuer A's `jti` read as issuer B's. A `tokenId` target has issuer `''`
 * (the token id already names one token of one issuer).
 *
 * @example
 * ```ts
 * entryIdOf({ kind: 'token', issuer: 'https://idp.example/', jti: 'a1' }); // '["t","https://idp.example/","a1"]'
 * ```
 */
export function entryIdOf(target: RevocationTarget): string {
  switch (target.kind) {
    case 'token':
      return 'tokenId' in target ? idOf('i', '', target.tokenId) : idOf('t', target.issuer, target.jti);
    case 'subject':
      return idOf('s', target.issuer, target.subject);
    case 'client':
      return idOf('c', target.issuer, target.clientId);
  }
}

/**
 * The target an entry id names; undefined for an id that is not one (a foreign or corrupt field).
 *
 * @example
 * ```ts
 * targetOfEntryId('["s","https://idp.example/","alice"]'); // { kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' }
 * ```
 */
export function targetOfEntryId(id: string): RevocationTarget | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(id);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
  const [kind, issuer, value] = parsed as unknown[];
  if (typeof issuer !== 'string' || typeof value !== 'string') return undefined;
  // Only the canonical spelling is an id: `[ "t", …]` with spaces would be a second field for one target.
  if (idOf(kind as KindLetter, issuer, value) !== id) return undefined;
  switch (kind) {
    case 't':
      return Object.freeze({ kind: 'token', issuer, jti: value });
    case 'i':
      return issuer === '' ? Object.freeze({ kind: 'token', tokenId: value }) : undefined;
    case 's':
      return Object.freeze({ kind: 'subject', issuer, subject: value });
    case 'c':
      return Object.freeze({ kind: 'client', issuer, clientId: value });
    default:
      return undefined;
  }
}

/** The fields each form of revocation may carry: anything else is a typo (`befor`) that would silently mean "now". */
const FIELDS = {
  jti: new Set(['kind', 'issuer', 'jti', 'expiresAt']),
  tokenId: new Set(['kind', 'tokenId', 'expiresAt']),
  subject: new Set(['kind', 'issuer', 'subject', 'before']),
  client: new Set(['kind', 'issuer', 'clientId', 'before']),
} as const;

/**
 * A revocation's own field, never an inherited one: with a polluted `Object.prototype.before` (or
 * `expiresAt`, `kind`), a "logout everywhere" would silently become "before 1970" and revoke nothing.
 */
const own = (revocation: Record<string, unknown>, name: string): unknown => (Object.hasOwn(revocation, name) ? revocation[name] : undefined);

function field(revocation: Record<string, unknown>, name: string, allowEmpty: boolean): string {
  const value = own(revocation, name);
  if (typeof value !== 'string') throw new TypeError(`revocation ${name} must be a string, got ${value === null ? 'null' : typeof value}`);
  if (!allowEmpty && value === '') throw new TypeError(`revocation ${name} must not be empty`);
  return value;
}

/** 9999-12-31T23:59:59.999Z, the last instant a token's time claims may name. */
const LAST_INSTANT = 253_402_300_799_999;

function instant(revocation: Record<string, unknown>, name: 'before' | 'expiresAt'): number | undefined {
  const value = own(revocation, name);
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`revocation ${name} must be a valid Date`);
  // The bounds of a token's NumericDate: past them, `forgetAt` (this plus up to a year) would be an Invalid Date.
  if (ms < 0 || ms > LAST_INSTANT) throw new TypeError(`revocation ${name} must be a Date from 1970 to 9999`);
  return ms;
}

function checkFields(revocation: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const name of Object.keys(revocation)) {
    if (!allowed.has(name)) throw new TypeError(`revocation field ${JSON.stringify(name)} is not one of ${[...allowed].join(', ')}`);
  }
}

/**
 * The id and entry a revocation records at `now` (ms), `maxTokenLifetime` in seconds. Checks the
 * revocation's shape and throws a TypeError naming the bad field (admin input): an unknown `kind`, a
 * missing or non-string `issuer`, `jti`, `subject`, `clientId` or `tokenId`, an invalid Date, a field
 * the kind does not take.
 *
 * @example
 * ```ts
 * const [id, entry] = entryOfRevocation({ kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' }, Date.now(), 86_400);
 * ```
 */
export function entryOfRevocation(revocation: Revocation, now: number, maxTokenLifetime: number): [string, MirrorEntry] {
  if (typeof revocation !== 'object' || revocation === null) throw new TypeError('revocation must be an object');
  const fields = revocation as unknown as Record<string, unknown>;
  const lifetime = maxTokenLifetime * 1000;
  const grace = REVOCATION_GRACE * 1000;
  const kind = own(fields, 'kind');
  switch (kind) {
    case 'token': {
      // A token revocation names exactly one of the two identities: with both, which one was meant?
      const byTokenId = Object.hasOwn(fields, 'tokenId');
      checkFields(fields, byTokenId ? FIELDS.tokenId : FIELDS.jti);
      const id = byTokenId ? idOf('i', '', field(fields, 'tokenId', false)) : idOf('t', field(fields, 'issuer', true), field(fields, 'jti', false));
      const expiresAt = instant(fields, 'expiresAt') ?? now + lifetime;
      return [id, { before: undefined, until: expiresAt + grace }];
    }
    case 'subject':
    case 'client': {
      checkFields(fields, FIELDS[kind]);
      const issuer = field(fields, 'issuer', true);
      const id = kind === 'subject' ? idOf('s', issuer, field(fields, 'subject', false)) : idOf('c', issuer, field(fields, 'clientId', false));
      const before = instant(fields, 'before') ?? now;
      // A token issued just before `before` lives at most maxTokenLifetime (plus the largest tolerance).
      return [id, { before, until: before + lifetime + grace }];
    }
    default:
      throw new TypeError(`revocation kind must be 'token', 'subject' or 'client', got ${typeof kind === 'string' ? JSON.stringify(kind) : typeof kind}`);
  }
}

/**
 * The public form of an entry, for `entries()` and events; undefined for an unreadable id.
 *
 * @example
 * ```ts
 * publicEntry('["t","https://idp.example/","a1"]', { before: undefined, until: Date.now() + 60_000 })?.forgetAt;
 * ```
 */
export function publicEntry(id: string, entry: MirrorEntry): RevocationEntry | undefined {
  const target = targetOfEntryId(id);
  if (target === undefined) return undefined;
  const forgetAt = new Date(entry.until);
  return Object.freeze(entry.before === undefined ? { target, forgetAt } : { target, before: new Date(entry.before), forgetAt });
}

/**
 * The lookup of a verified token (its claims and tokenId).
 *
 * @example
 * ```ts
 * const lookup = tokenLookup({ iss: 'https://idp.example/', jti: 'a1', sub: 'alice', iat: 1_700_000_000 }, 'tRw7');
 * ```
 */
export function tokenLookup(claims: Readonly<Record<string, unknown>>, tokenId: string): TokenLookup {
  const issuer = text(claims.iss) ?? '';
  const jti = text(claims.jti);
  const subject = text(claims.sub);
  // As TokenFacts.clientId: azp (OIDC), else client_id (RFC 9068); a non-string azp names no client.
  const client = text(claims.azp) ?? text(claims.client_id);
  const iat = claims.iat;
  return Object.freeze({
    tokenIds: Object.freeze(jti === undefined ? [idOf('i', '', tokenId)] : [idOf('t', issuer, jti), idOf('i', '', tokenId)]),
    subjectId: subject === undefined ? undefined : idOf('s', issuer, subject),
    clientId: client === undefined ? undefined : idOf('c', issuer, client),
    issuedAt: typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 : undefined,
    issuer,
  });
}

/**
 * The lookup of a verified token, computed on first read and then kept: what the verified-token cache
 * holds. The library's stores read it only when they hold at least one entry, so while nothing is
 * revoked (the usual case) a fresh token costs no id at all; once a revocation lands, the next check of
 * a token (a cache hit too) computes its ids, once. Same values as {@link tokenLookup}.
 *
 * @example
 * ```ts
 * const lookup = deferredTokenLookup({ iss: 'https://idp.example/', sub: 'alice' }, 'tRw7'); // nothing computed yet
 * lookup.subjectId; // '["s","https://idp.example/","alice"]', computed now
 * ```
 */
export function deferredTokenLookup(claims: Readonly<Record<string, unknown>>, tokenId: string): TokenLookup {
  return new DeferredTokenLookup(claims, tokenId);
}

class DeferredTokenLookup implements TokenLookup {
  readonly #claims: Readonly<Record<string, unknown>>;
  readonly #tokenId: string;
  #computed: TokenLookup | undefined;

  constructor(claims: Readonly<Record<string, unknown>>, tokenId: string) {
    this.#claims = claims;
    this.#tokenId = tokenId;
    // Frozen as tokenLookup's answer is: no field can be added or changed (the memo is private).
    Object.freeze(this);
  }

  #lookup(): TokenLookup {
    return (this.#computed ??= tokenLookup(this.#claims, this.#tokenId));
  }

  get tokenIds(): readonly string[] {
    return this.#lookup().tokenIds;
  }

  get subjectId(): string | undefined {
    return this.#lookup().subjectId;
  }

  get clientId(): string | undefined {
    return this.#lookup().clientId;
  }

  get issuedAt(): number | undefined {
    return this.#lookup().issuedAt;
  }

  get issuer(): string {
    return this.#lookup().issuer;
  }
}
Object.freeze(DeferredTokenLookup.prototype);

/**
 * The key of the library's own stores' fast path: `store[matchLookup](lookup)` answers as `match` does
 * from a lookup kept in the verified-token cache, without recomputing ids per call. A foreign store
 * (without it) gets `match(token)`. Not exported from the package: a symbol of another copy of the
 * library is another symbol, and that store is then asked through `match`, which is always correct.
 */
export const matchLookup: unique symbol = Symbol('grpc-jwt-auth revocations matchLookup');

/**
 * A store with the fast path.
 *
 * @example
 * ```ts
 * declare const store: LookupMatcher;
 * store[matchLookup](tokenLookup({ iss: 'https://idp.example/', jti: 'a1' }, 'tRw7'));
 * ```
 */
export interface LookupMatcher {
  /** As `RevocationStore.match`: throws ERR_AUTH_REVOCATIONS_UNAVAILABLE when the list cannot be trusted. */
  [matchLookup](lookup: TokenLookup): RevocationMatch | undefined;
}

/**
 * Whether `store` has the fast path (one of the library's own stores, of this copy of the library).
 *
 * @example
 * ```ts
 * declare const store: object;
 * if (hasLookupMatch(store)) store[matchLookup](tokenLookup({ iss: 'https://idp.example/' }, 'tRw7'));
 * ```
 */
export function hasLookupMatch(store: object): store is LookupMatcher {
  try {
    return typeof (store as Partial<LookupMatcher>)[matchLookup] === 'function';
  } catch (error) {
    // A store of the user's (a Proxy) whose read throws is a store that cannot answer: refused as one
    // whose match throws, never a bare error without code (and never asked through match instead).
    throw revocationsUnavailable('revocations store threw when read', error);
  }
}

/**
 * The `match(token)` of a store built on the fast path: the lookup from the token's claims, then the
 * fast path. Throws a TypeError for something that is not a verified token's context.
 *
 * @example
 * ```ts
 * declare const store: LookupMatcher;
 * matchToken(store, { claims: { iss: 'https://idp.example/', jti: 'a1' }, tokenId: 'tRw7' });
 * ```
 */
export function matchToken(store: LookupMatcher, token: RevocableToken): RevocationMatch | undefined {
  if (typeof token !== 'object' || token === null || typeof token.claims !== 'object' || token.claims === null || typeof token.tokenId !== 'string') {
    throw new TypeError('match expects a verified token: { claims, tokenId } (an AuthContext)');
  }
  return store[matchLookup](tokenLookup(token.claims, token.tokenId));
}

/**
 * The refusal of a store whose list cannot be trusted (state `expired` or `empty`).
 *
 * @example
 * ```ts
 * throw revocationsUnavailable('revocation list expired: no sync since 2026-01-01T00:00:00.000Z');
 * ```
 */
export function revocationsUnavailable(message: string, cause?: unknown): AuthError {
  return new AuthError('ERR_AUTH_REVOCATIONS_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}
