/**
 * Revocations: tokens that must stop working before their `exp` (a logout, a leaked token, a disabled
 * user or client). The types every revocation store shares; the memory store and the Redis store are
 * beside this file. A store answers `match` from memory, synchronously: the per-call check never waits
 * on a network.
 */

/**
 * What can be revoked, each within one issuer (the verified token's `iss`; `''` for tokens without one):
 * - `token` by `issuer` + `jti`: that token (a `jti` is unique per issuer, RFC 7519 §4.1.7);
 * - `token` by `tokenId`: that token, for tokens without `jti` (`AuthContext.tokenId`, which every log
 *   line and event of this library carries);
 * - `subject`: every token of `sub` issued before an instant (logout everywhere);
 * - `client`: every token issued to a client (`azp`, else `client_id`) before an instant.
 *
 * Neither `jti` nor `tokenId` changes when a token's signature is respelt (ECDSA malleability): the
 * token's text is never the key.
 *
 * @example
 * ```ts
 * import type { RevocationTarget } from 'grpc-jwt-auth';
 * const leaked: RevocationTarget = { kind: 'token', issuer: 'https://idp.example/', jti: 'f3c1a9' };
 * const user: RevocationTarget = { kind: 'subject', issuer: 'https://idp.example/', subject: 'alice' };
 * const app: RevocationTarget = { kind: 'client', issuer: 'https://idp.example/', clientId: 'web-app' };
 * ```
 */
export type RevocationTarget =
  | {
      /** One token. */
      readonly kind: 'token';
      /** The token's `iss` (`''` for tokens without one). */
      readonly issuer: string;
      /** The token's `jti`. */
      readonly jti: string;
    }
  | {
      /** One token, by its identity. */
      readonly kind: 'token';
      /** `AuthContext.tokenId`: for tokens without `jti`. */
      readonly tokenId: string;
    }
  | {
      /** Every token of a subject issued before an instant. */
      readonly kind: 'subject';
      /** The tokens' `iss` (`''` for tokens without one). */
      readonly issuer: string;
      /** The tokens' `sub`. */
      readonly subject: string;
    }
  | {
      /** Every token issued to a client before an instant. */
      readonly kind: 'client';
      /** The tokens' `iss` (`''` for tokens without one). */
      readonly issuer: string;
      /** The tokens' `azp`, else `client_id`. */
      readonly clientId: string;
    };

/**
 * A revocation to record: a {@link RevocationTarget} and how long it matters.
 * - `before` (subject, client): tokens with `iat` before this instant are revoked, and tokens without
 *   `iat` (nothing proves they are newer); default now. Compared to the millisecond: a token issued in the
 *   same second after it is revoked too (at most one second of over-revocation, never under). If the
 *   identity provider's clock may run ahead of yours, add a margin.
 * - `expiresAt` (token): the token's `exp`; the entry is forgotten 300 seconds (the largest clock
 *   tolerance) after it, when no verifier can still admit the token. Default now + the store's
 *   `maxTokenLifetime`.
 *
 * Revoking again merges: the later `before` and the later `expiresAt` win.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, type Revocation } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * const logoutEverywhere: Revocation = { kind: 'subject', issuer: 'https://idp.example/', subject: 'alice', before: new Date() };
 * await revocations.revoke(logoutEverywhere);
 * ```
 */
export type Revocation = RevocationTarget & {
  /** Subject and client revocations: tokens issued before this instant (or without `iat`) are revoked. Default now. */
  readonly before?: Date;
  /** Token revocations: the token's `exp`. Default now + the store's `maxTokenLifetime`. */
  readonly expiresAt?: Date;
};

/**
 * The revocation that matched a token, as {@link RevocationStore.match} reports it.
 *
 * @example
 * ```ts
 * import { getAuth, type RevocationMatch } from 'grpc-jwt-auth';
 * declare const revocations: import('grpc-jwt-auth').RevocationStore;
 * const match: RevocationMatch | undefined = revocations.match(getAuth(call));
 * if (match) console.warn(`revoked by ${match.kind} of ${match.issuer}, forgotten at ${match.forgetAt.toISOString()}`);
 * ```
 */
export interface RevocationMatch {
  /** Which kind of revocation matched. */
  readonly kind: 'token' | 'subject' | 'client';
  /** The issuer it was recorded for (`''` for tokens without `iss`). */
  readonly issuer: string;
  /** Subject and client revocations: tokens issued before this instant are revoked. */
  readonly before?: Date;
  /** When the store forgets the entry (no token it matches can still be valid then). */
  readonly forgetAt: Date;
}

/**
 * One recorded revocation, as `entries()` lists it.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, type RevocationEntry } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * const listed: readonly RevocationEntry[] = await revocations.entries();
 * for (const { target, before, forgetAt } of listed) console.log(target.kind, before?.toISOString(), forgetAt.toISOString());
 * ```
 */
export interface RevocationEntry {
  /** What is revoked. */
  readonly target: RevocationTarget;
  /** Subject and client revocations: the watermark. */
  readonly before?: Date;
  /** When the entry is forgotten. */
  readonly forgetAt: Date;
}

/**
 * How usable a store's revocation list is now:
 * - `local`: an in-process store, always complete;
 * - `fresh`: a shared store's mirror, confirmed current by its last heartbeat or sync;
 * - `stale`: the shared store has not answered since `syncedAt`: the last mirror is still enforced and
 *   other tokens admitted, until `staleUntil` (the `staleIfError` bound);
 * - `expired`: past that bound: every call with a token is refused with UNAVAILABLE
 *   `ERR_AUTH_REVOCATIONS_UNAVAILABLE` until a sync succeeds;
 * - `empty`: not loaded yet (before the first sync): refused the same way; `ready()` waits for it.
 *
 * @example
 * ```ts
 * import type { RevocationsState } from 'grpc-jwt-auth';
 * const usable = (state: RevocationsState): boolean => state !== 'expired' && state !== 'empty';
 * ```
 */
export type RevocationsState = 'local' | 'fresh' | 'stale' | 'expired' | 'empty';

/**
 * A revocation store's health, for `auth.status().revocations` and readiness probes.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type RevocationsStatus } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'] });
 * const status: RevocationsStatus | undefined = auth.status().revocations;
 * if (status?.state === 'stale') console.warn(`revocations stale since ${status.syncedAt?.toISOString()}: ${status.lastError}`);
 * ```
 */
export interface RevocationsStatus {
  /** Where the list comes from, e.g. `memory` or `redis(redis://127.0.0.1:6379 prefix grpc-jwt-auth)`; never a password. */
  readonly source: string;
  /** How usable the list is now (see {@link RevocationsState}). */
  readonly state: RevocationsState;
  /** Entries held in this process's mirror. */
  readonly entries: number;
  /** The last instant the mirror was confirmed current; undefined for `local` and before the first sync. */
  readonly syncedAt: Date | undefined;
  /** While stale: when the store turns `expired` unless a sync succeeds first. */
  readonly staleUntil: Date | undefined;
  /** The last failure talking to the shared store; undefined once a sync succeeds. */
  readonly lastError: string | undefined;
  /** When the next attempt is due, while failing. */
  readonly nextRetry: Date | undefined;
}

/**
 * What a store reports through `subscribe` (and a Redis store's `onEvent`): frozen objects.
 * - `synced`: the mirror was (re)loaded: `reason` says why (`start`, `reconnect`, `gap` for a missed
 *   change, `epoch` for a wiped or cleared shared store);
 * - `failed`: the shared store did not answer; `staleUntil` is when the mirror expires;
 * - `revoked` / `unrevoked`: an entry was added or merged / removed (by this process or another);
 * - `cleared`: every entry was removed (`unrevoke --all`);
 * - `reseeded`: the shared store was found empty (a restart without persistence) and this process wrote
 *   its `entries` back.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, type RevocationEvent } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * const stop = revocations.subscribe((event: RevocationEvent) => {
 *   if (event.type === 'revoked') console.info(`revoked ${event.entry.target.kind}`);
 * });
 * stop();
 * ```
 */
export type RevocationEvent =
  | {
      /** The mirror was (re)loaded. */
      readonly type: 'synced';
      /** Entries now held. */
      readonly entries: number;
      /** How long the load took, in milliseconds (a measurement, not an option). */
      readonly ms: number;
      /** Why: the first load, a reconnect, a missed change, or a wiped or cleared shared store. */
      readonly reason: 'start' | 'reconnect' | 'gap' | 'epoch';
    }
  | {
      /** The shared store did not answer. */
      readonly type: 'failed';
      /** What failed (a Redis URL in it has its password redacted). */
      readonly error: string;
      /** When the mirror expires unless a sync succeeds first. */
      readonly staleUntil: Date | undefined;
    }
  | {
      /** An entry was added or merged, here or in another process. */
      readonly type: 'revoked';
      /** The entry as it now stands. */
      readonly entry: RevocationEntry;
    }
  | {
      /** An entry was removed. */
      readonly type: 'unrevoked';
      /** What it revoked. */
      readonly target: RevocationTarget;
    }
  | {
      /** Every entry was removed (`unrevoke --all`). */
      readonly type: 'cleared';
    }
  | {
      /** The shared store was found wiped and this process wrote its entries back. */
      readonly type: 'reseeded';
      /** How many entries it wrote back. */
      readonly entries: number;
    };

/**
 * What a store needs of a verified token to match it: its claims (`iss`, `jti`, `sub`, `azp`/`client_id`,
 * `iat`) and its `tokenId`. An `AuthContext` is one.
 *
 * @example
 * ```ts
 * import { getAuth, type RevocableToken } from 'grpc-jwt-auth';
 * const token: RevocableToken = getAuth(call);
 * ```
 */
export interface RevocableToken {
  /** The verified claims. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** `AuthContext.tokenId`. */
  readonly tokenId: string;
}

/**
 * Where revocations live: the `revocations` option of the interceptor and of `createAuthenticator`.
 * `createMemoryRevocationStore` for one process (the default), `createRedisRevocationStore` for replicas.
 * A store of your own (a database with change notifications) implements `match`, `revoke` and `unrevoke`;
 * `match` must answer from memory, synchronously, and throw an `AuthError`
 * `ERR_AUTH_REVOCATIONS_UNAVAILABLE` when its list cannot be trusted. The other members are optional.
 *
 * @example
 * ```ts
 * import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
 * import { createAuthInterceptor, createMemoryRevocationStore, revocationOf, getAuth } from 'grpc-jwt-auth';
 * const revocations = createMemoryRevocationStore();
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], revocations });
 * // A logout handler revokes the caller's own token: every later call with it is refused (TOKEN_REVOKED).
 * async function logout(call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>): Promise<void> {
 *   await revocations.revoke(revocationOf(getAuth(call)));
 *   callback(null, {});
 * }
 * ```
 */
export interface RevocationStore {
  /**
   * The revocation that matches this verified token, or undefined. Synchronous, from memory. Throws an
   * `AuthError` `ERR_AUTH_REVOCATIONS_UNAVAILABLE` when the list cannot be trusted (state `expired` or
   * `empty`). Guards and `validate` hooks may call it too.
   */
  match(token: RevocableToken): RevocationMatch | undefined;
  /** Records a revocation (merging with an existing one). Rejects with `ERR_AUTH_REVOCATIONS_UNAVAILABLE` when the shared store cannot be written: the admin must know it failed. */
  revoke(revocation: Revocation): Promise<void>;
  /** Removes a revocation; true when there was one. Rejects like `revoke`. */
  unrevoke(target: RevocationTarget): Promise<boolean>;
  /** Every recorded revocation (for listings). */
  entries?(): Promise<readonly RevocationEntry[]>;
  /** Resolves once the list is loaded; rejects when the first load fails (it keeps retrying). */
  ready?(): Promise<void>;
  /** Stops background work and closes connections the store opened. */
  close?(): Promise<void>;
  /** The store's health; never does I/O. */
  status?(): RevocationsStatus;
  /** Calls `listener` with each event; returns the function that stops it. */
  subscribe?(listener: (event: RevocationEvent) => void): () => void;
}
