import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError } from '../errors/auth-error.ts';
import { isRecord } from '../util/option-checks.ts';
import { FetchError, fetchJson } from './http-fetch.ts';
import { PUBLIC_KEY_ALGORITHMS } from './key-algorithms.ts';
import { freshnessMs, type CachePolicy } from './key-cache-policy.ts';
import { KeyEvents, type KeysListener } from './key-events.ts';
import { checkAlgorithmsWithin } from './key-set.ts';
import type { KeysStatus } from './key-status.ts';
import { discoveredKeyUrlProblem, parseKeyUrl } from './key-url.ts';
import { RefreshingCache, type Loaded } from './refreshing-cache.ts';
import { RemoteJwksResolver, documentStatus, type RemoteKeyResolver } from './remote-jwks.ts';
import { compileRemoteJwksOptions, type CompiledRemoteJwksOptions, type RemoteJwksOptions } from './remote-options.ts';
import type { KeyLookup, VerificationKey } from './resolver.ts';

/** What discovery yields. */
interface IssuerMetadata {
  /** Where the document was found (OpenID Connect or RFC 8414 location). */
  readonly documentUrl: string;
  readonly jwksUri: URL;
  /** The algorithms the document advertises (public-key ones only): tokens of this issuer may use no other. */
  readonly algorithms: ReadonlySet<string>;
}

/** OpenID Connect Discovery 1.0 §4: the issuer with `/.well-known/openid-configuration` appended. */
function openIdConfigurationUrl(issuer: URL): URL {
  const base = issuer.href.endsWith('/') ? issuer.href.slice(0, -1) : issuer.href;
  return new URL(`${base}/.well-known/openid-configuration`);
}

/** RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the host and the issuer's path. */
function oauthMetadataUrl(issuer: URL): URL {
  const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '');
  return new URL(`${issuer.origin}/.well-known/oauth-authorization-server${path}`);
}

/**
 * A resolver for an issuer found by discovery: fetches the issuer's metadata (OpenID Connect, then RFC
 * 8414), checks that it speaks for exactly the configured issuer, and delegates to a remote JWKS at its
 * `jwks_uri`. The metadata is cached, refreshed and retried like the JWKS; a changed `jwks_uri` is
 * followed on the next refresh, the old key set serving until the new one has loaded.
 */
class IssuerResolver implements RemoteKeyResolver {
  readonly kind = 'public';
  readonly description: string;
  readonly #issuer: string;
  readonly #issuerUrl: URL;
  readonly #openIdUrl: URL;
  readonly #oauthUrl: URL;
  readonly #options: CompiledRemoteJwksOptions;
  readonly #policy: CachePolicy;
  readonly #discovery: RefreshingCache<IssuerMetadata>;
  /** Shared with every key set followed, so subscribers hear both documents, across a change of jwks_uri. */
  readonly #events: KeyEvents;
  /** Algorithms the interceptor was configured with (through checkAlgorithms), to catch a mismatch at ready(). */
  readonly #requested = new Set<string>();
  /** The option that gave them (`algorithms`, `issuers[1].algorithms`): what ready() names when none is advertised. */
  #requestedBy = 'algorithms';
  #jwks: { readonly href: string; readonly resolver: RemoteJwksResolver } | undefined;
  /**
   * The key set followed before `jwks_uri` moved, kept until the new one has loaded: closing it at once
   * refused every call (UNAVAILABLE) while the new URL was first fetched, or for as long as it failed,
   * although the keys the provider signed with a moment ago were in hand.
   */
  #previous: RemoteJwksResolver | undefined;
  /** The last document accepted, however old: the one the key set we follow came from. */
  #accepted: IssuerMetadata | undefined;
  #closed = false;

  constructor(issuer: string, url: URL, options: CompiledRemoteJwksOptions) {
    this.#issuer = issuer;
    this.#issuerUrl = url;
    this.#openIdUrl = openIdConfigurationUrl(url);
    this.#oauthUrl = oauthMetadataUrl(url);
    this.#options = options;
    this.#policy = options.policy;
    this.description = `fromIssuer(${issuer})`;
    this.#events = new KeyEvents(options.policy.onEvent);
    this.#discovery = new RefreshingCache(
      (signal) => this.#load(signal),
      options.policy,
      {
        loaded: ({ value, maxAgeMs }, trigger) => {
          this.#accepted = value;
          this.#events.emit({
            type: 'fetched',
            document: 'discovery',
            url: value.documentUrl,
            trigger,
            keyCount: undefined,
            maxAge: maxAgeMs / 1000,
          });
        },
        failed: (error, trigger, staleUntil, retryAt) =>
          this.#events.emit({ type: 'failed', document: 'discovery', url: this.#openIdUrl.href, trigger, error, staleUntil, retryAt }),
      },
      this.description,
    );
  }

  checkAlgorithms(algorithms: readonly string[], option: string): void {
    // Discovery has not run yet: refuse what no published key can ever serve (HS*: algorithm confusion).
    // What the document advertises is checked against these at ready() and on every call.
    checkAlgorithmsWithin(PUBLIC_KEY_ALGORITHMS, algorithms, option, this.description);
    for (const alg of algorithms) this.#requested.add(alg);
    this.#requestedBy = option;
  }

  getKeys(lookup: KeyLookup): readonly VerificationKey[] | Promise<readonly VerificationKey[]> {
    const metadata = this.#metadata();
    return metadata instanceof Promise ? metadata.then((fetched) => this.#keysFor(fetched, lookup)) : this.#keysFor(metadata, lookup);
  }

  holds(key: VerificationKey): boolean {
    return (this.#jwks?.resolver.holds(key) ?? false) || (this.#previous?.holds(key) ?? false);
  }

  async ready(): Promise<void> {
    const metadata = await this.#metadata();
    if (this.#requested.size > 0 && ![...this.#requested].some((alg) => metadata.algorithms.has(alg))) {
      // Every call would be refused: say so at start-up, not one call at a time.
      throw new AuthConfigError(
        this.#requestedBy,
        `${this.description} signs with ${[...metadata.algorithms].join(', ')}; none of ${[...this.#requested].join(', ')} is among them`,
      );
    }
    const jwks = this.#jwksFor(metadata);
    const previous = this.#previous;
    try {
      await jwks.ready();
    } catch (error) {
      // Mid-handover the set followed until now verifies every call (see #keysFor): ready() says so too.
      const handingOver = previous !== undefined && this.#previous === previous;
      if (!handingOver || !(error instanceof AuthError) || error.code !== 'ERR_AUTH_KEYS_UNAVAILABLE') throw error;
      await previous.ready();
    }
  }

  close(): void {
    this.#closed = true;
    this.#discovery.close();
    this.#jwks?.resolver.close();
    this.#retirePrevious();
  }

  /**
   * The key set's status (its keys decide whether calls verify; a stale discovery document does not),
   * with the discovery document's failure when the key set has none to report.
   */
  status(): KeysStatus {
    const discovery = documentStatus(this.#discovery.snapshot(), this.#openIdUrl.href);
    const jwks = this.#jwks?.resolver.status();
    if (jwks === undefined) {
      return Object.freeze({
        ...discovery,
        source: this.description,
        state: 'empty',
        kids: Object.freeze([]),
        lastFetch: undefined,
        freshUntil: undefined,
        staleUntil: undefined,
      });
    }
    const failing = jwks.lastError === undefined ? discovery : jwks;
    // Mid-handover, before the new set has loaded, calls verify with the set followed until now: report its
    // keys and freshness (with the new URL's failure), or a readiness probe reads NOT_SERVING (state
    // 'empty') on every replica at once while each of them verifies every call.
    const serving = this.#previous !== undefined && jwks.state === 'empty' ? this.#previous.status() : jwks;
    return Object.freeze({ ...serving, source: this.description, lastError: failing.lastError, nextRetry: failing.nextRetry });
  }

  subscribe(listener: KeysListener): () => void {
    return this.#events.subscribe(listener);
  }

  /**
   * The discovery document to act on. Past its stale bound the cache fetches it anew; while that fetch
   * runs or fails, the last accepted document goes on serving as long as we follow its key set. The key
   * set has its own freshness and stale bounds, and those are what limit how long a removed key keeps
   * verifying. Without this, a discovery outage longer than the document's stale bound refused every new
   * token with UNAVAILABLE while the keys were fresh (and tokens verified earlier kept passing).
   */
  #metadata(): IssuerMetadata | Promise<IssuerMetadata> {
    const current = this.#discovery.get();
    const accepted = this.#accepted;
    if (!(current instanceof Promise) || accepted === undefined || this.#jwks?.href !== accepted.jwksUri.href) return current;
    // A failure is reported by the failed event and retried on the cache's schedule.
    current.catch(() => undefined);
    return accepted;
  }

  #keysFor(metadata: IssuerMetadata, lookup: KeyLookup): readonly VerificationKey[] | Promise<readonly VerificationKey[]> {
    if (!metadata.algorithms.has(lookup.alg)) {
      throw new AuthError('ERR_AUTH_ALG_NOT_ALLOWED', `${this.description} does not sign with ${lookup.alg} (it uses ${[...metadata.algorithms].join(', ')})`);
    }
    const jwks = this.#jwksFor(metadata);
    const previous = this.#previous;
    const keys = jwks.getKeys(lookup);
    if (previous === undefined) return keys;
    if (!(keys instanceof Promise)) {
      this.#retirePrevious(); // answered from memory: the new key set has loaded
      return keys;
    }
    // The new key set's first fetch: wait for it, and if it cannot be fetched, verify with the set we
    // followed until now (which goes on under its own stale-if-error bound) rather than refuse a provider's
    // current tokens. Any other answer means the new set loaded and decides alone: a kid it lacks is not
    // looked up in the old set, or a key the provider dropped in the move would go on verifying.
    return keys.then(
      (found) => {
        this.#retirePrevious();
        return found;
      },
      (error: unknown) => {
        if (error instanceof AuthError && error.code === 'ERR_AUTH_KEYS_UNAVAILABLE' && this.#previous === previous) return previous.getKeys(lookup);
        this.#retirePrevious();
        throw error;
      },
    );
  }

  #retirePrevious(): void {
    this.#previous?.close();
    this.#previous = undefined;
  }

  #jwksFor(metadata: IssuerMetadata): RemoteJwksResolver {
    const href = metadata.jwksUri.href;
    if (this.#jwks?.href === href) return this.#jwks.resolver;
    // A resolver created after close() would fetch and arm timers nobody stops.
    if (this.#closed) throw new AuthError('ERR_AUTH_KEYS_UNAVAILABLE', `${this.description}: resolver closed`);
    // The provider moved its key set: follow it (the document is authenticated by TLS and the issuer check).
    // The set followed so far keeps verifying until the new one has loaded; a set that never loaded
    // (a second move while the first was still failing) is dropped, the last one that did is kept.
    if (this.#jwks !== undefined) {
      if (this.#previous === undefined) this.#previous = this.#jwks.resolver;
      else this.#jwks.resolver.close();
    }
    const resolver = new RemoteJwksResolver(metadata.jwksUri, this.#options, this.#events);
    this.#jwks = { href, resolver };
    if (this.#previous !== undefined) {
      resolver.ready().then(
        () => {
          if (this.#jwks?.resolver === resolver) this.#retirePrevious();
        },
        () => undefined, // reported by the key set's failed event; the previous set goes on serving
      );
    }
    return resolver;
  }

  async #load(signal: AbortSignal): Promise<Loaded<IssuerMetadata>> {
    const { timeoutMs, maxBytes, allowInsecureHttp } = this.#policy;
    const limits = { timeoutMs, maxBytes, signal, fetch: this.#options.fetch, allowInsecureHttp };
    const openId = this.#openIdUrl;
    const oauth = this.#oauthUrl;
    let url = openId;
    let fetched;
    try {
      fetched = await fetchJson(openId, limits);
    } catch (error) {
      // Only "no such document" falls back to RFC 8414; an outage must not double our requests.
      if (!(error instanceof FetchError && error.status !== undefined && error.status >= 400 && error.status < 500)) throw error;
      url = oauth;
      try {
        fetched = await fetchJson(oauth, limits);
      } catch (fallbackError) {
        throw new FetchError(`${openId.href}: ${error.message}; ${oauth.href}: ${(fallbackError as Error).message}`, { cause: fallbackError });
      }
    }
    return { value: this.#parse(fetched.body, url.href), maxAgeMs: freshnessMs(fetched.cacheControl, this.#policy) };
  }

  /** Checks the metadata document; any problem fails the fetch and keeps what we held. */
  #parse(document: unknown, documentUrl: string): IssuerMetadata {
    if (!isRecord(document)) throw new Error('discovery document is not a JSON object');
    // OpenID Connect Discovery §4.3 / RFC 8414 §3.3: the document must speak for exactly the issuer we
    // trust, or a provider (or whoever answers for it) could make us accept another issuer's keys.
    if (document.issuer !== this.#issuer) {
      throw new Error(`discovery document names issuer ${JSON.stringify(document.issuer)}, expected exactly ${JSON.stringify(this.#issuer)}`);
    }
    if (typeof document.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
    let jwksUri: URL;
    try {
      jwksUri = new URL(document.jwks_uri);
    } catch {
      throw new Error('discovery document has an invalid jwks_uri');
    }
    const problem = discoveredKeyUrlProblem(jwksUri, this.#issuerUrl, this.#policy.allowInsecureHttp);
    if (problem !== undefined) throw new Error(`jwks_uri ${jwksUri.href} refused: ${problem}`);
    return { documentUrl, jwksUri, algorithms: this.#advertised(document.id_token_signing_alg_values_supported) };
  }

  /**
   * The advertised algorithms this library may verify with published keys. An `HS256` (or `none`) in a
   * provider's list is never honoured: a JWKS holds no shared secrets, and `none` is no signature.
   */
  #advertised(advertised: unknown): ReadonlySet<string> {
    if (!Array.isArray(advertised)) return PUBLIC_KEY_ALGORITHMS;
    const usable = new Set(advertised.filter((alg): alg is string => typeof alg === 'string' && PUBLIC_KEY_ALGORITHMS.has(alg)));
    if (usable.size === 0)
      throw new Error(`discovery document advertises no public-key algorithm this library verifies (${JSON.stringify(advertised).slice(0, 200)})`);
    return usable;
  }
}

/**
 * Keys of an issuer found by discovery: the OpenID Connect document at
 * `{issuer}/.well-known/openid-configuration`, falling back to RFC 8414's
 * `/.well-known/oauth-authorization-server{path}` when that is missing (HTTP 4xx). The document's `issuer`
 * must equal `issuer` exactly; its `jwks_uri` must obey the same URL rules as {@link fromJwks}, except that
 * plain http to loopback is only taken from an issuer that is itself plain http on loopback (an https
 * issuer must not downgrade key fetching to a local port), and is then fetched, cached and refreshed
 * exactly like `fromJwks(jwks_uri, options)`. The document itself is cached, refreshed and retried the
 * same way, except that past its stale bound the last accepted document goes on serving while discovery
 * cannot be reached: the key set it named, with its own bounds, decides.
 *
 * Algorithms: there is one allowlist, the `algorithms` of the interceptor (or of the issuer entry), and
 * it must hold public-key algorithms only (an HS algorithm throws at construction). The document's
 * advertised `id_token_signing_alg_values_supported` (public-key ones only) can only narrow it, never
 * widen it: a token must use an algorithm both allow, or it is refused (`ALG_NOT_ALLOWED`). `ready()`
 * rejects with an `AuthConfigError` naming `algorithms` when none of the allowlist is advertised; a
 * document that advertises no list leaves the allowlist alone.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromIssuer } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys: fromIssuer('https://idp.example/realms/acme'),
 *   algorithms: ['RS256', 'ES256'],
 *   issuer: 'https://idp.example/realms/acme',
 *   audience: 'orders-api',
 * });
 * await auth.ready();
 * ```
 */
export function fromIssuer(issuer: string, options: RemoteJwksOptions = {}): RemoteKeyResolver {
  if (typeof issuer !== 'string' || issuer === '') throw new AuthConfigError('issuer', 'expected the issuer URL exactly as it appears in tokens (iss)');
  const compiled = compileRemoteJwksOptions(options);
  const url = parseKeyUrl(issuer, 'issuer', compiled.policy.allowInsecureHttp);
  // RFC 8414 §2: an issuer identifier has no query or fragment.
  if (url.search !== '' || url.hash !== '') throw new AuthConfigError('issuer', 'must not contain a query or fragment');
  return new IssuerResolver(issuer, url, compiled);
}
