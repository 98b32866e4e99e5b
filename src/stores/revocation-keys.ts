/**
 * STUB (issue 15 phase 0): final signatures, bodies by R1. How revocations are keyed: one entry id per
 * target, and the ids a verified token can match, computed once per verified token.
 */
import type { Revocation, RevocationEntry, RevocationTarget } from './revocation-store.ts';

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
}

/**
 * The entry id of a target: `JSON.stringify([kind, issuer, value])` with kind `t` (jti), `i` (tokenId),
 * `s` (subject), `c` (client). JSON makes it injective whatever the issuer or value contain.
 *
 * @example
 * ```ts
 * entryIdOf({ kind: 'token', issuer: 'https://idp.example/', jti: 'a1' }); // '["t","https://idp.example/","a1"]'
 * ```
 */
export function entryIdOf(target: RevocationTarget): string {
  void target;
  throw new Error('not implemented');
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
  void id;
  throw new Error('not implemented');
}

/**
 * The id and entry a revocation records at `now` (ms), `maxTokenLifetime` in seconds. Checks the
 * revocation's shape and throws a TypeError naming the bad field (admin input).
 *
 * @example
 * ```ts
 * const [id, entry] = entryOfRevocation({ kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' }, Date.now(), 86_400);
 * ```
 */
export function entryOfRevocation(revocation: Revocation, now: number, maxTokenLifetime: number): [string, MirrorEntry] {
  void revocation;
  void now;
  void maxTokenLifetime;
  throw new Error('not implemented');
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
  void id;
  void entry;
  throw new Error('not implemented');
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
  void claims;
  void tokenId;
  throw new Error('not implemented');
}
