import { performance } from 'node:perf_hooks';
import type { AuthContext } from './auth-context.ts';
import { isThenable } from '../util/thenable.ts';
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError, toAuthError } from '../errors/auth-error.ts';
import { describeForLog } from '../errors/log-text.ts';
import { authStatus, type AuthStatus, type KeySource } from './auth-status.ts';
import { checkOptionNames, isRecord, optionNames } from '../util/option-checks.ts';
import { checkTimeClaims } from './claims.ts';
import { checkedClock } from '../util/clock.ts';
import { parseCompactToken, type ParsedToken } from './compact.ts';
import { compileIssuers, type IssuerOptions } from './issuers.ts';
import { NO_DPOP, VERIFY_OPTION_FLAGS, checkMaxTokenBytes, compileVerifyOptions, type VerifyContext, type VerifyOptions } from './options.ts';
import { TokenCache, type CacheEntry, type TokenCacheOptions } from './token-cache.ts';
import type { TokenFacts } from './token-facts.ts';
import type { CertificateBinding, DpopBinding } from './confirmation.ts';
import { presentedThumbprint } from './certificate-thumbprint.ts';
import { checkSenderBinding } from './sender-binding.ts';
import { timed, type VerificationProbe } from './verification-probe.ts';
import { TokenVerifier, factsOfRefusal } from './verifier.ts';
import { VerificationLimit, checkMaxConcurrentVerifications } from './verification-limit.ts';
import { createMemoryRevocationStore } from '../stores/memory-revocation-store.ts';
import { optionalRevocationStore, revocationMatch, revocationsStatusOf, revokedError } from '../stores/revocation-checks.ts';
import { deferredTokenLookup, type TokenLookup } from '../stores/revocation-keys.ts';
import type { RevocationStore } from '../stores/revocation-store.ts';

/**
 * How tokens are authenticated: either the fields of {@link VerifyOptions} for one issuer, or `issuers`
 * for several (then top-level fields other than `keys` and `algorithms` are defaults for each issuer).
 *
 * @example
 * ```ts
 * import { createAuthenticator, fromJwks, type AuthenticatorOptions } from 'grpc-jwt-auth';
 * const options: AuthenticatorOptions = {
 *   keys: fromJwks('https://idp.example/.well-known/jwks.json'),
 *   algorithms: ['RS256'],
 *   issuer: 'https://idp.example/',
 *   audience: 'orders-api',
 *   cache: { maxEntries: 50_000, maxTtl: 60 },
 * };
 * const authenticator = createAuthenticator(options);
 * ```
 */
export interface AuthenticatorOptions extends Partial<VerifyOptions> {
  /**
   * Several trusted issuers. A token is routed by its unverified `iss` to the one issuer that matches
   * exactly; a token from any other issuer is refused before any key is fetched. Keys are never looked
   * up from a URL found in a token.
   */
  readonly issuers?: readonly IssuerOptions[];
  /**
   * The clock, in milliseconds since the epoch. Default `Date.now`; tests inject their own. A reading
   * that is not a finite number (NaN, Infinity), or a clock that throws, refuses the call with INTERNAL
   * (`ERR_AUTH_INTERNAL`, logged as a clock fault), never admits it.
   */
  readonly clock?: () => number;
  /**
   * The verified-token cache: a token seen before is answered without crypto, its time claims and the
   * `validate` hook still checked per call. On by default; `false` disables it.
   */
  readonly cache?: TokenCacheOptions | false;
  /**
   * At most this many tokens (a count) are fully verified at once: key lookup and signature check, for
   * tokens the cache does not hold. A call whose token needs one more is refused at once with
   * UNAVAILABLE `ERR_AUTH_VERIFIER_BUSY` (retryable), so a flood of distinct forged tokens cannot queue
   * unbounded crypto work ahead of everything else. Cache hits never count or wait, nor do calls whose
   * token is already being verified (they share that verification). Default 1024 in the interceptor, which
   * faces the network; none in `createAuthenticator`, whose caller decides how many it starts (set it
   * for a gateway that verifies each request it receives).
   */
  readonly maxConcurrentVerifications?: number;
  /**
   * Where revoked tokens are listed ({@link RevocationStore}): every call is checked against it after the
   * token's time claims and before `validate` and the sender binding, cache hits included; a revoked token
   * is refused with UNAUTHENTICATED `ERR_AUTH_TOKEN_REVOKED`. Default: a memory store of its own
   * ({@link createMemoryRevocationStore}), so `revocations.revoke(...)` works in one process with no setup
   * (and costs nothing while empty); replicas share one with `createRedisRevocationStore`. A store given
   * here is yours: `close()` does not close it.
   */
  readonly revocations?: RevocationStore;
}

/**
 * A verified token: the context for handlers and until when it may be used.
 *
 * @example
 * ```ts
 * import { createAuthenticator, type Authentication } from 'grpc-jwt-auth';
 * declare const session: { close(reason: string): void };
 * const authenticator = createAuthenticator({ keys, algorithms: ['ES256'] });
 * const { context, validUntil, endedBy }: Authentication = await authenticator.authenticate(token, '/acme.chat.v1.Chat/Join');
 * console.log(`${context.subject} joined`);
 * // A long-lived session must end when its token does.
 * if (validUntil !== undefined) setTimeout(() => session.close(`token refused from now on (${endedBy})`), validUntil.getTime() - Date.now());
 * ```
 */
export interface Authentication {
  /** The verified caller, as handlers see it through {@link getAuth}. */
  readonly context: AuthContext;
  /**
   * The instant from which the token is refused, if it ever is (to the millisecond, rounded down): the
   * earlier of `exp` plus `clockTolerance` and, with `maxTokenAge`, the end of the last whole second it
   * allows (`iat` plus `maxTokenAge` plus tolerance). A stream ends here, and a call is admitted only
   * before it. Each call gets its own Date: changing it changes nothing else.
   */
  readonly validUntil: Date | undefined;
  /** What refuses the token at `validUntil`: its `exp`, or `maxTokenAge`; undefined when it never ends. */
  readonly endedBy: 'exp' | 'maxTokenAge' | undefined;
}

/**
 * An {@link Authentication} as the interceptor uses it: `validUntil` in milliseconds since the epoch,
 * the unit of the `clock` option it is compared with on every call and by the stream timer (exact, not
 * rounded to a Date's millisecond, and nothing allocated per call). Internal: users get `Authentication`.
 *
 * @example
 * ```ts
 * const admission = await buildAuthenticator({ keys, algorithms: ['ES256'] }).authenticate(token, '/acme.orders.v1.Orders/GetOrder');
 * if (admission.validUntil !== undefined && Date.now() >= admission.validUntil) console.warn(`refused: ${admission.endedBy}`);
 * ```
 */
export interface Admission extends Omit<Authentication, 'validUntil'> {
  /** Milliseconds since the epoch from which the token is refused (see {@link Authentication.validUntil}). */
  readonly validUntil: number | undefined;
  /** What the interceptor's events tell about the token (kid and alg of the verifying key included). */
  readonly facts: TokenFacts;
  /** The issuer's `certificateBinding`: what the server must prove on each call (verify/sender-binding.ts). */
  readonly certificateBinding: CertificateBinding;
  /** The issuer's `dpopBinding`: whether unbound tokens are refused (verify/sender-binding.ts). */
  readonly dpopBinding: DpopBinding;
  /**
   * The ids the token can be revoked under, kept in its cache entry and computed once, the first time a
   * revocation store holding entries reads them (never while nothing is revoked): the revocation check
   * of a hit (or of an open stream) is at most four Map lookups.
   */
  readonly revocationLookup: TokenLookup;
}

/**
 * Turns a bearer token into a verified {@link AuthContext}. Every answer is a promise: it resolves with
 * the {@link Authentication}, or rejects with an {@link AuthError} (never throws synchronously), also on
 * a verified-token cache hit. It applies no rules or guards: those belong to the interceptor.
 *
 * @example
 * ```ts
 * import { createAuthenticator, fromIssuer, isAuthError, type Authenticator } from 'grpc-jwt-auth';
 * const authenticator: Authenticator = createAuthenticator({ keys: fromIssuer('https://idp.example/'), algorithms: ['RS256'], audience: 'orders-api' });
 * await authenticator.ready();
 * try {
 *   const { context } = await authenticator.authenticate(token, '/acme.orders.v1.Orders/GetOrder');
 *   console.log(context.subject);
 * } catch (error) {
 *   if (isAuthError(error)) console.warn(error.code, error.message);
 * }
 * authenticator.close();
 * ```
 */
export interface Authenticator {
  /**
   * Verifies `token` for a call of `method` (the full gRPC method path, given to the `validate` hook).
   * Always returns a promise: it rejects with an {@link AuthError} when the token is refused. A
   * certificate-bound token (`cnf["x5t#S256"]`, RFC 8705) is admitted only with the matching
   * `proof.clientCertificate` (see {@link AuthenticateProof}), as the interceptor admits it only over the
   * matching mutual-TLS connection. A DPoP-bound token (`cnf.jkt`, RFC 9449) is refused
   * (`ERR_AUTH_DPOP_SCHEME_REQUIRED`): no DPoP proof is checked here, and without one the token is what a
   * thief would present.
   */
  authenticate(token: string, method: string, proof?: AuthenticateProof): Promise<Authentication>;
  /** Prefetches remote keys of every issuer. */
  ready(): Promise<void>;
  /** Stops background work of every key resolver (and of the revocation store it created, not of one you gave). */
  close(): void;
  /** The keys of every issuer, the revocation list, and whether calls can be verified now, for readiness probes. Never fetches. */
  status(): AuthStatus;
  /** The `revocations` store calls are checked against (the one given, or the memory store created by default). */
  readonly revocations: RevocationStore;
}

/**
 * What the caller of {@link Authenticator.authenticate} proved about the request besides the token.
 *
 * @example
 * ```ts
 * import { TLSSocket } from 'node:tls';
 * import { createAuthenticator, type AuthenticateProof } from 'grpc-jwt-auth';
 * declare const socket: TLSSocket; // an HTTPS gateway's connection, its client certificate verified (`requestCert`, `rejectUnauthorized`)
 * const authenticator = createAuthenticator({ keys, algorithms: ['ES256'] });
 * const proof: AuthenticateProof = socket.authorized ? { clientCertificate: socket.getPeerCertificate().raw } : {};
 * const { context } = await authenticator.authenticate(token, '/acme.orders.v1.Orders/GetOrder', proof);
 * ```
 */
export interface AuthenticateProof {
  /**
   * The client certificate your transport **verified** for this request: its `x5t#S256` (base64url
   * SHA-256 of the DER, 43 characters) or its DER bytes. Without it, a certificate-bound token is refused
   * (`ERR_AUTH_CERTIFICATE_MISSING`) unless the issuer's `certificateBinding` is `'off'`. Anything else
   * (a hex hash, a PEM) rejects with `ERR_AUTH_INTERNAL`. Never take it from a header a client can set.
   */
  readonly clientCertificate?: string | Uint8Array;
}

/**
 * Names of every option of {@link AuthenticatorOptions}, tied to the interface by the compiler. The
 * interceptor accepts these and its own: `new Set([...AUTHENTICATOR_OPTION_NAMES, 'rules', ...])`.
 *
 * @example
 * ```ts
 * AUTHENTICATOR_OPTION_NAMES.has('clockTolerance'); // true
 * AUTHENTICATOR_OPTION_NAMES.has('rules'); // false: an interceptor option
 * ```
 */
export const AUTHENTICATOR_OPTION_NAMES: ReadonlySet<string> = optionNames<AuthenticatorOptions>({
  ...VERIFY_OPTION_FLAGS,
  issuers: true,
  clock: true,
  cache: true,
  maxConcurrentVerifications: true,
  revocations: true,
});

/** What {@link TokenVerifier.verify} resolves with. */
type VerifiedToken = Awaited<ReturnType<TokenVerifier['verify']>>;

/** A verified token as the cache keeps it. */
interface VerifiedEntry extends CacheEntry {
  /** What the interceptor gets: frozen and shared, so a hit allocates nothing. */
  readonly authentication: Admission;
  readonly verifier: TokenVerifier;
}

/**
 * Builds an authenticator: size and format check, issuer routing, verification, the verified-token
 * cache, the `validate` hook; the same as the interceptor's, without rules or guards. It knows nothing
 * of gRPC, so an HTTP gateway, a CLI or a test can use it. `authenticate` always answers with a promise,
 * also on a cache hit. Bad options, including an unknown option name (`audiance`), throw an
 * {@link AuthConfigError} naming it, here and not at the first call.
 *
 * @example
 * ```ts
 * import { createAuthenticator, fromSecret } from 'grpc-jwt-auth';
 * const authenticator = createAuthenticator({ keys: fromSecret(secret), algorithms: ['HS256'] });
 * const { context } = await authenticator.authenticate(token, '/pkg.Service/Method');
 * ```
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  // A misspelt option (`audiance`) would otherwise silently disable a check.
  checkOptionNames(options as unknown, AUTHENTICATOR_OPTION_NAMES);
  // No bound unless asked: its caller decides how many verifications it starts (a batch is not a flood).
  const core = buildAuthenticator(options, Number.POSITIVE_INFINITY);
  return {
    // The binding is checked here as the interceptor checks it: a gateway that passes no certificate gets
    // bound tokens refused, never admitted as bearer tokens (a stolen bound token must stay useless).
    // No DPoP proof can be checked here: a DPoP-bound token is refused (ERR_AUTH_DPOP_SCHEME_REQUIRED) for the same reason.
    // Not async: a cache hit is answered with an already settled promise, a fresh token with one reaction
    // after the verification's (no suspended frames kept alive across the signature check).
    authenticate: (token, method, proof) => {
      try {
        const answered = core.authenticate(token, method);
        if (answered instanceof Promise) return answered.then((admission) => admitted(core, admission, proof));
        return Promise.resolve(admitted(core, answered, proof));
      } catch (error) {
        // Never a synchronous throw: every refusal, a cache hit's included, is a rejection.
        return Promise.reject(error);
      }
    },
    ready: () => core.ready(),
    close: () => core.close(),
    status: () => core.status(),
    revocations: core.revocations,
  };
}

/**
 * The last steps of `createAuthenticator`'s answer: the sender binding, then the revocation list once
 * more (an async validate hook or a verification may have waited: a revocation made meanwhile must not
 * admit a request after revoke() resolved; at most four Map lookups), then the admission as users see it.
 */
function admitted(core: SyncAuthenticator, admission: Admission, proof: AuthenticateProof | undefined): Authentication | Promise<Authentication> {
  const bound = checkSenderBinding(admission, { certificate: () => provenCertificate(proof), scheme: 'bearer', dpop: undefined });
  if (bound instanceof Promise) {
    return bound.then((checked) => {
      core.checkRevoked(checked);
      return forUsers(checked);
    });
  }
  core.checkRevoked(bound);
  return forUsers(bound);
}

/** The thumbprint of `proof.clientCertificate`; undefined when none; a value that is no certificate rejects. */
function provenCertificate(proof: AuthenticateProof | undefined): string | undefined {
  if (proof === undefined || proof === null) return undefined;
  let given: unknown;
  let thumbprint: string | undefined;
  try {
    given = (proof as Partial<AuthenticateProof>).clientCertificate;
    if (given === undefined) return undefined;
    thumbprint = presentedThumbprint(given);
  } catch (error) {
    // The gateway's own object (a getter, a Proxy) failed: a fault of ours to report, never a bare error.
    throw new AuthError('ERR_AUTH_INTERNAL', 'proof.clientCertificate could not be read', { cause: error });
  }
  if (thumbprint === undefined)
    throw new AuthError('ERR_AUTH_INTERNAL', `proof.clientCertificate is ${describeForLog(given)}, not an x5t#S256 (43 base64url characters) or DER bytes`);
  return thumbprint;
}

/** The admission as users see it: `validUntil` as a Date of its own, so no caller can move another's. */
function forUsers({ context, validUntil, endedBy }: Admission): Authentication {
  return Object.freeze({ context, validUntil: validUntil === undefined ? undefined : new Date(validUntil), endedBy });
}

/**
 * The authenticator the interceptor drives: {@link Authenticator} with a synchronous fast path and
 * `validUntil` in milliseconds ({@link Admission}). A cache hit whose `validate` hook (if any) answers
 * synchronously returns the admission itself, and a refusal found synchronously is thrown, so a repeated
 * token costs no promise.
 *
 * @example
 * ```ts
 * const authenticator = buildAuthenticator({ keys, algorithms: ['ES256'] });
 * const answer = authenticator.authenticate(token, '/acme.orders.v1.Orders/GetOrder');
 * const admission = answer instanceof Promise ? await answer : answer; // a hit: no promise
 * ```
 */
export interface SyncAuthenticator extends Omit<Authenticator, 'authenticate'> {
  /** With a `probe`, reports into it whether the cache answered, how long it took and what the genuine token says. */
  authenticate(token: string, method: string, probe?: VerificationProbe): Admission | Promise<Admission>;
  /** The `maxConcurrentVerifications` bound, shared with DPoP proof checks (crypto on every call too). */
  readonly limit: VerificationLimit;
  /** The `revocations` store (the one given, or the memory store created by default). */
  readonly revocations: RevocationStore;
  /** Throws the refusal of an admitted token that is revoked now (an open stream's re-check); `ERR_AUTH_TOKEN_REVOKED`, or the store's failure. */
  checkRevoked(admission: Admission): void;
}

/**
 * {@link createAuthenticator} without the option-name check and with the synchronous fast path, for the
 * interceptor: its options carry rules and hooks as well, and it checks the names of the whole set itself.
 * `defaultMaxConcurrentVerifications` applies when the option is not given (the interceptor's 1024 when
 * omitted).
 *
 * @example
 * ```ts
 * const authenticator = buildAuthenticator({ keys, algorithms: ['ES256'], clockTolerance: 30 });
 * const { validUntil } = await authenticator.authenticate(token, '/acme.orders.v1.Orders/GetOrder'); // milliseconds
 * ```
 */
export function buildAuthenticator(
  options: AuthenticatorOptions,
  defaultMaxConcurrentVerifications?: number,
  context: VerifyContext = NO_DPOP,
): SyncAuthenticator {
  const clock = checkedClock(options.clock);
  if (options.cache !== undefined && options.cache !== false && !isRecord(options.cache))
    throw new AuthConfigError('cache', 'expected false or { maxEntries, maxTtl }');
  const single = options.issuers === undefined ? new TokenVerifier(compileVerifyOptions(options as VerifyOptions, undefined, context)) : undefined;
  const byIssuer = single === undefined ? compileIssuers(options, context) : undefined;
  const maxTokenBytes = checkMaxTokenBytes(options.maxTokenBytes, 'maxTokenBytes');
  const verifiers: readonly TokenVerifier[] = single ? [single] : [...(byIssuer?.values() ?? [])];
  const sources: readonly KeySource[] = single
    ? [{ issuer: typeof options.issuer === 'string' ? options.issuer : undefined, keys: single.options.keys }]
    : [...(byIssuer?.entries() ?? [])].map(([issuer, verifier]) => ({ issuer, keys: verifier.options.keys }));
  const cache = options.cache === false ? undefined : new TokenCache<VerifiedEntry>(options.cache);
  const givenRevocations = optionalRevocationStore(options.revocations, 'revocations');
  // The default reads this authenticator's clock, as the token checks do.
  const ownRevocations = givenRevocations === undefined ? createMemoryRevocationStore({ clock }) : undefined;
  const revocations: RevocationStore = givenRevocations ?? (ownRevocations as RevocationStore);
  const limit = new VerificationLimit(
    checkMaxConcurrentVerifications(options.maxConcurrentVerifications, 'maxConcurrentVerifications', defaultMaxConcurrentVerifications),
  );
  // Concurrent calls presenting the same new token share one verification. Keyed by the exact text, as
  // the cache is: a respelt token (malleable ECDSA signature) must have its own signature checked.
  const inFlight = new Map<string, Promise<VerifiedEntry>>();
  /** Every time check reads this: the checked clock, in seconds. */
  const seconds = (): number => clock() / 1000;

  function route(parsed: ParsedToken): TokenVerifier {
    if (single) return single;
    const iss = parsed.claims.iss;
    const verifier = typeof iss === 'string' ? byIssuer?.get(iss) : undefined;
    if (!verifier) throw new AuthError('ERR_AUTH_ISSUER_INVALID', `token iss ${describeForLog(iss)} is not a configured issuer`);
    return verifier;
  }

  /** What the cache keeps of a verified token, and the admission every call with it gets. */
  function remember(token: string, verifier: TokenVerifier, { context, key, window, facts }: VerifiedToken): VerifiedEntry {
    const validUntil = Number.isFinite(window.until) ? window.until * 1000 : undefined;
    const entry: VerifiedEntry = {
      authentication: Object.freeze({
        context,
        validUntil,
        endedBy: window.endedBy,
        facts,
        certificateBinding: verifier.options.certificateBinding,
        dpopBinding: verifier.options.dpopBinding,
        // Its ids are computed only if a revocation store holds entries when the token is checked.
        revocationLookup: deferredTokenLookup(context.claims, context.tokenId),
      }),
      key,
      keys: verifier.options.keys,
      verifier,
      usableFrom: window.from,
      usableUntil: window.until,
    };
    cache?.set(token, entry, seconds());
    return entry;
  }

  /**
   * Starts a full verification under the bound (throws ERR_AUTH_VERIFIER_BUSY synchronously past it). Any
   * refusal from here on is a rejection shared by every joiner. One step settles it: the cache entry on
   * success, then the in-flight entry and the place under the bound, however it ended.
   */
  function startVerification(token: string, parsed: ParsedToken, verifier: TokenVerifier): Promise<VerifiedEntry> {
    limit.enter();
    let verifying: Promise<VerifiedToken>;
    try {
      verifying = verifier.verify(parsed, seconds);
    } catch (error) {
      verifying = Promise.reject(error);
    }
    return verifying.then(
      (verified) => {
        try {
          return remember(token, verifier, verified);
        } finally {
          settled(token);
        }
      },
      (error: unknown) => {
        settled(token);
        // A resolver or key of the user's that answers garbage (getKeys → undefined, a throwing `kid`
        // getter) fails outside jose: still a refusal with a code, never a bare TypeError.
        throw toAuthError(error, 'unexpected error while verifying');
      },
    );
  }

  function settled(token: string): void {
    inFlight.delete(token);
    limit.leave();
  }

  function shareVerification(token: string): Promise<VerifiedEntry> {
    let pending = inFlight.get(token);
    if (pending === undefined) {
      // Form and issuer are judged first, cheaply and synchronously: garbage gets its own verdict and
      // never takes a place. Joining a verification under way costs nothing; starting one (key lookup,
      // signature check) counts against the bound, and past it throws ERR_AUTH_VERIFIER_BUSY here.
      const parsed = parseCompactToken(token, maxTokenBytes);
      pending = startVerification(token, parsed, route(parsed));
      inFlight.set(token, pending);
    }
    return pending;
  }

  function refusedByValidate(token: string, error: unknown): AuthError {
    cache?.delete(token);
    return toAuthError(error, 'validate hook threw');
  }

  /**
   * Fails closed, like guards: only `true` admits. A hook that forgets to return (undefined), or
   * returns a truthy non-boolean, refuses; a refusal also drops the cached entry, so the next call with
   * this token is verified afresh.
   */
  function judgeValidate(token: string, entry: VerifiedEntry, verdict: unknown): Admission {
    if (verdict === true) return entry.authentication;
    cache?.delete(token);
    const said = verdict === false ? 'false' : `${describeForLog(verdict)} (${typeof verdict})`;
    throw new AuthError('ERR_AUTH_TOKEN_REJECTED', `validate hook returned ${said}; only true admits a call`);
  }

  /**
   * The revocation check, on every call (cache hits too), after the time claims and before `validate` and
   * the sender binding: a revoked token costs no hook call and burns no DPoP replay write. A revoked
   * token's cache entry is dropped.
   */
  function notRevoked(token: string, entry: VerifiedEntry): void {
    const match = revocationMatch(revocations, entry.authentication.revocationLookup, entry.authentication.context);
    if (match === undefined) return;
    cache?.delete(token);
    throw revokedError(match);
  }

  /** The `validate` hook runs on every call, cached or not, so a denylist takes effect at once. */
  function validated(token: string, entry: VerifiedEntry, method: string): Admission | Promise<Admission> {
    const { validate } = entry.verifier.options;
    if (!validate) return entry.authentication;
    const { context } = entry.authentication;
    let verdict: unknown;
    let pending: Promise<unknown> | undefined;
    try {
      verdict = validate(context.claims, { header: context.header, method, tokenId: context.tokenId });
      // Inside the try: reading `then` (a getter) or a promise's `constructor` is the hook's code too.
      if (isThenable(verdict)) pending = Promise.resolve(verdict);
    } catch (error) {
      throw refusedByValidate(token, error);
    }
    if (pending === undefined) return judgeValidate(token, entry, verdict);
    return pending.then(
      (settled) => judgeValidate(token, entry, settled),
      (error: unknown) => {
        throw refusedByValidate(token, error);
      },
    );
  }

  function answer(token: string, method: string, probe: VerificationProbe | undefined): Admission | Promise<Admission> {
    const hit = cache?.get(token, seconds());
    if (probe) {
      probe.cacheHit = hit !== undefined;
      probe.facts = hit?.authentication.facts;
    }
    if (hit !== undefined) {
      notRevoked(token, hit);
      return validated(token, hit, method);
    }
    return shareVerification(token).then(
      (entry) => {
        if (probe) probe.facts = entry.authentication.facts;
        // This call may have joined a verification that started earlier: judge its time claims now.
        const now = seconds();
        if (now < entry.usableFrom || now >= entry.usableUntil) checkTimeClaims(entry.authentication.context.claims, entry.verifier.options.claims, now);
        notRevoked(token, entry);
        return validated(token, entry, method);
      },
      (failure: unknown) => {
        // A genuine token refused by its claims: each joiner of the verification tells whose it was.
        if (probe) probe.facts = factsOfRefusal(failure);
        throw failure;
      },
    );
  }

  return {
    authenticate(token, method, probe) {
      return probe === undefined ? answer(token, method, undefined) : timed(probe, performance.now(), () => answer(token, method, probe));
    },
    async ready() {
      await Promise.all([...verifiers.map(async (v) => v.options.keys.ready?.()), revocations.ready?.()]);
    },
    close() {
      for (const verifier of verifiers) verifier.options.keys.close?.();
      // Only the store made here: a store given in the options is the user's (often shared by several interceptors).
      ownRevocations?.close().then(undefined, ignore);
    },
    status: () => authStatus(sources, revocationsStatusOf(revocations)),
    limit,
    revocations,
    checkRevoked(admission) {
      const match = revocationMatch(revocations, admission.revocationLookup, admission.context);
      if (match !== undefined) throw revokedError(match);
    },
  };
}

function ignore(): void {
  // The memory store's close() cannot fail; a rejection would be nobody's business at shutdown.
}
