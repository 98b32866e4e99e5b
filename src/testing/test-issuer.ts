import { Metadata } from '@grpc/grpc-js';
import { CompactSign, SignJWT } from 'jose';
import { optionalBoolean, optionalChoice, optionalString, optionNames } from '../util/option-checks.ts';
import { SUPPORTED_ALGORITHMS, type Algorithm } from '../keys/key-algorithms.ts';
import { fromJwks } from '../keys/jwks.ts';
import type { KeyLookup, KeyResolver, VerificationKey } from '../keys/resolver.ts';
import { fromSecret } from '../keys/secret.ts';
import { serveIssuer, type ServedIssuer, type ServeOptions } from './issuer-server.ts';
import { checkedSignOptions, checkTestOptionNames, optionalRecord } from './test-option-checks.ts';
import { certificateThumbprint } from '../verify/certificate-thumbprint.ts';
import { generateTestKey, type TestSigningKey } from './test-keys.ts';
import { craftUnsignedToken, replacePayload } from './unsigned.ts';

/**
 * Options of {@link createTestIssuer}.
 *
 * @example
 * ```ts
 * import { createTestIssuer, type TestIssuerOptions } from 'grpc-jwt-auth/testing';
 * const options: TestIssuerOptions = { alg: 'RS256', issuer: 'https://login.acme.test/', audience: 'orders-api', kid: 'acme-1' };
 * const idp = await createTestIssuer(options);
 * ```
 */
export interface TestIssuerOptions {
  /** Signing algorithm. Default `ES256`. */
  readonly alg?: Algorithm;
  /** `iss` of signed tokens. Default `https://issuer.test`, or the served URL once {@link TestIssuer.serve} ran. */
  readonly issuer?: string;
  /** `aud` of signed tokens. Default `test-audience`. */
  readonly audience?: string;
  /** `kid` of the first key; later keys get `-2`, `-3`, ... appended. Default `test-key-1` (then `test-key-2`, ...). */
  readonly kid?: string;
}

/**
 * Per-token options of {@link TestIssuer.sign}. Times are seconds.
 *
 * @example
 * ```ts
 * import { createTestIssuer, type SignOptions } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const shortLivedAccessToken: SignOptions = { expiresIn: 5, header: { typ: 'at+jwt' } };
 * const token = await idp.sign({ scope: 'orders:read' }, shortLivedAccessToken);
 * declare const clientCertificatePem: string;
 * const boundToken = await idp.sign({ scope: 'orders:read' }, { bindTo: { certificate: clientCertificatePem } }); // cnf["x5t#S256"]
 * const dpopToken = await idp.sign({ scope: 'orders:read' }, { bindTo: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }); // cnf.jkt
 * ```
 */
export interface SignOptions {
  /** Lifetime from `iat`, in seconds. Default 3600. */
  readonly expiresIn?: number;
  /** `nbf` relative to now, in seconds (e.g. 60 for "valid in a minute"). Default: no `nbf`. */
  readonly notBefore?: number;
  /** `iat` as an absolute NumericDate. Default: now. */
  readonly issuedAt?: number;
  /** Extra or overriding protected header parameters (`typ`, `kid`, `crit`, ...). */
  readonly header?: Readonly<Record<string, unknown>>;
  /**
   * Binds the token to a client certificate (RFC 8705): `cnf["x5t#S256"]` becomes the thumbprint of
   * `certificate` (PEM, string or bytes, or DER); and/or to a DPoP key (RFC 9449): `cnf.jkt` becomes
   * `jkt`. Merged into any `cnf` of the claims. The server then admits the token only on a call that
   * presents that certificate over mutual TLS, and a DPoP proof signed with that key.
   */
  readonly bindTo?: {
    /** The client certificate (PEM text or bytes, or DER) whose SHA-256 thumbprint goes in `cnf["x5t#S256"]`. */
    readonly certificate?: string | Uint8Array;
    /** The RFC 7638 SHA-256 thumbprint (base64url, 43 characters) of the client's DPoP public key, for `cnf.jkt`. */
    readonly jkt?: string;
  };
}

/**
 * Claims to put in a token; a claim set to `undefined` removes the default (e.g. `{ exp: undefined }`).
 *
 * @example
 * ```ts
 * import { createTestIssuer, type TestClaims } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const neverExpires: TestClaims = { sub: 'batch-job', scope: 'orders:read', exp: undefined };
 * const token = await idp.sign(neverExpires); // refused unless the server sets requireExp: false
 * ```
 */
export type TestClaims = Readonly<Record<string, unknown>>;

/**
 * A throw-away identity provider for tests: it signs real tokens with fresh keys, rotates them and can
 * serve discovery, JWKS and a token endpoint.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor } from 'grpc-jwt-auth';
 * import { createTestIssuer, type TestIssuer } from 'grpc-jwt-auth/testing';
 * const idp: TestIssuer = await createTestIssuer();
 * const auth = createAuthInterceptor({ keys: idp.keys, algorithms: [idp.alg], issuer: idp.issuer, audience: idp.audience });
 * const token = await idp.sign({ scope: 'orders:read' });
 * await idp.rotate(); // `token` still verifies: the previous key stays published
 * ```
 */
export interface TestIssuer {
  /** The current `iss` value. */
  readonly issuer: string;
  /** `aud` of signed tokens: the `audience` option, default `test-audience`. */
  readonly audience: string;
  /** The signing algorithm: the `alg` option, default `ES256`. */
  readonly alg: Algorithm;
  /** `kid` of the key signing now. */
  readonly kid: string;
  /** A key resolver for the interceptor that follows {@link TestIssuer.rotate}. */
  readonly keys: KeyResolver;
  /** The published key set (empty for HS algorithms, whose secrets are never published). */
  readonly jwks: {
    /** The public JWK of every published key, with its `kid`, `alg` and `use: 'sig'`. */
    readonly keys: readonly Record<string, unknown>[];
  };
  /** Signs a token: `sub: 'test-user'`, this issuer and audience, one hour of life, unless overridden. */
  sign(claims?: TestClaims, options?: SignOptions): Promise<string>;
  /**
   * Signs arbitrary payload bytes with the current key, no claims added: for tests of hostile payloads
   * (`{"exp":1e400}`, arrays, invalid UTF-8) that must still carry a valid signature.
   */
  signRaw(payload: string | Uint8Array, options?: Pick<SignOptions, 'header'>): Promise<string>;
  /** Metadata carrying `authorization: Bearer <token>`, for a client call. */
  metadata(token: string): Metadata;
  /**
   * Publishes the next key without signing with it yet, and returns its `kid`; {@link TestIssuer.rotate}
   * then signs with it. This is how providers rotate without failed calls: verifiers pick the new key up
   * on their regular key-set refresh, before any token names it, so no call waits on an unknown-`kid`
   * refetch (which remote resolvers allow only once per cooldown). Called again before `rotate()`, it
   * returns the same pending key.
   */
  publishNextKey(): Promise<string>;
  /**
   * Starts signing with a new key: the one {@link TestIssuer.publishNextKey} published, else a fresh one
   * published at this moment. The previous key stays published unless `keepPrevious` is false.
   */
  rotate(options?: { readonly keepPrevious?: boolean }): Promise<void>;
  /** Serves discovery, JWKS (and a token endpoint) on a loopback port. */
  serve(options?: ServeOptions): Promise<ServedIssuer>;
  /**
   * A token that expired an hour ago: far beyond the largest `clockTolerance` (300 s), so every server
   * configuration refuses it with `TOKEN_EXPIRED`. To watch a token expire, sign one with a short
   * `expiresIn` and give the server `clockTolerance: 0` (the default 60 s would keep it alive a minute).
   */
  expiredToken(claims?: TestClaims): Promise<string>;
  /** A token valid only from an hour from now (`nbf`): far beyond any `clockTolerance`, so always `TOKEN_NOT_YET_VALID`. */
  notYetValidToken(claims?: TestClaims): Promise<string>;
  /** A token for another audience. */
  wrongAudienceToken(claims?: TestClaims): Promise<string>;
  /** A token with another `iss`, signed by this issuer's key. */
  wrongIssuerToken(claims?: TestClaims): Promise<string>;
  /** An `alg: none` token. */
  unsignedToken(claims?: TestClaims): string;
  /** A valid token whose payload was changed after signing. */
  tamperedToken(claims?: TestClaims): Promise<string>;
}

const TEST_ISSUER_OPTIONS = optionNames<TestIssuerOptions>({ alg: true, issuer: true, audience: true, kid: true });
const SIGN_RAW_OPTIONS = optionNames<NonNullable<Parameters<TestIssuer['signRaw']>[1]>>({ header: true });
const ROTATE_OPTIONS = optionNames<NonNullable<Parameters<TestIssuer['rotate']>[0]>>({ keepPrevious: true });

/** A resolver over the issuer's current keys, rebuilt when it rotates. */
class LiveKeyResolver implements KeyResolver {
  constructor(
    private readonly current: () => KeyResolver,
    readonly kind: 'secret' | 'public',
  ) {}

  get description(): string {
    return `testIssuer(${this.current().description})`;
  }

  checkAlgorithms(algorithms: readonly string[], option: string): void {
    this.current().checkAlgorithms(algorithms, option);
  }

  getKeys(lookup: KeyLookup): readonly VerificationKey[] | Promise<readonly VerificationKey[]> {
    return this.current().getKeys(lookup);
  }

  holds(key: VerificationKey): boolean {
    return this.current().holds(key);
  }
}

/**
 * Creates a test issuer with a fresh key. Use it to sign real tokens in unit tests of authenticated
 * services, with no identity provider.
 *
 * @example
 * ```ts
 * import type { Metadata } from '@grpc/grpc-js';
 * import { createAuthInterceptor } from 'grpc-jwt-auth';
 * import { createTestIssuer } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer({ alg: 'RS256', audience: 'orders-api' });
 * const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['RS256'], issuer: idp.issuer, audience: 'orders-api' });
 * // ... a server with `interceptors: [auth]`, and a client of it:
 * declare const orders: { getOrder(request: { id: string }, metadata: Metadata, done: (error: Error | null) => void): void };
 * const token = await idp.sign({ scope: 'orders:read' });
 * orders.getOrder({ id: '1' }, idp.metadata(token), (error) => console.log(error ?? 'admitted'));
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  // A misspelt `audiance` would sign tokens for the default audience and fail tests for the wrong reason.
  checkTestOptionNames(options, TEST_ISSUER_OPTIONS);
  const alg = optionalChoice(options.alg, 'alg', SUPPORTED_ALGORITHMS) ?? 'ES256';
  const audience = optionalString(options.audience, 'audience') ?? 'test-audience';
  let issuer = optionalString(options.issuer, 'issuer') ?? 'https://issuer.test';
  const firstKid = optionalString(options.kid, 'kid') ?? 'test-key-1';
  let generation = 1;
  let signing: TestSigningKey = await generateTestKey(alg, firstKid);
  let published: TestSigningKey[] = [signing];
  /** The key publishNextKey() published (a promise, so two calls at once share one key) and rotate() has not used yet. */
  let pending: Promise<TestSigningKey> | undefined;
  const secret = alg.startsWith('HS');

  const buildResolver = (): KeyResolver =>
    secret
      ? fromSecret(Object.fromEntries(published.map((key) => [key.kid, key.signingKey as Uint8Array])))
      : fromJwks({ keys: published.map((key) => key.publicJwk as object) });
  let resolver = buildResolver();

  const now = (): number => Math.floor(Date.now() / 1000);

  function nextKey(): Promise<TestSigningKey> {
    generation += 1;
    return generateTestKey(alg, options.kid === undefined ? `test-key-${generation}` : `${options.kid}-${generation}`);
  }

  async function sign(claims: TestClaims = {}, signOptions: SignOptions = {}): Promise<string> {
    const { issuedAt, expiresIn, notBefore, header: extraHeader, bindTo } = checkedSignOptions(signOptions);
    const iat = issuedAt ?? now();
    const payload: Record<string, unknown> = { iss: issuer, aud: audience, sub: 'test-user', iat, exp: iat + (expiresIn ?? 3600) };
    if (notBefore !== undefined) payload.nbf = now() + notBefore;
    for (const [name, value] of Object.entries(optionalRecord(claims, 'claims') ?? {})) {
      if (value === undefined) delete payload[name];
      // Defined, not assigned: `payload.__proto__ = value` would swap the payload's prototype (jose then
      // refuses it, and an inherited `cnf` would feed the binding) instead of signing a `__proto__` claim.
      else Object.defineProperty(payload, name, { value, enumerable: true, writable: true, configurable: true });
    }
    if (bindTo?.certificate !== undefined || bindTo?.jkt !== undefined) {
      const cnf = Object.hasOwn(payload, 'cnf') && typeof payload.cnf === 'object' && payload.cnf !== null && !Array.isArray(payload.cnf) ? payload.cnf : {};
      payload.cnf = {
        ...cnf,
        ...(bindTo.certificate === undefined ? {} : { 'x5t#S256': certificateThumbprint(bindTo.certificate) }),
        ...(bindTo.jkt === undefined ? {} : { jkt: bindTo.jkt }),
      };
    }
    const header = protectedHeader(extraHeader);
    return new SignJWT(payload).setProtectedHeader(header as never).sign(signing.signingKey, signOptionsFor(header));
  }

  function protectedHeader(extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    return { alg: signing.alg, kid: signing.kid, typ: 'JWT', ...extra };
  }

  // Tests of refusal need tokens with extensions the verifier does not know: tell jose to sign them.
  function signOptionsFor(header: Record<string, unknown>): { crit: Record<string, boolean> } | undefined {
    return Array.isArray(header.crit) ? { crit: Object.fromEntries(header.crit.map((name) => [String(name), true])) } : undefined;
  }

  const issuerApi: TestIssuer = {
    get issuer() {
      return issuer;
    },
    audience,
    alg,
    get kid() {
      return signing.kid;
    },
    keys: new LiveKeyResolver(() => resolver, secret ? 'secret' : 'public'),
    get jwks() {
      return { keys: published.flatMap((key) => (key.publicJwk ? [key.publicJwk as Record<string, unknown>] : [])) };
    },
    sign,
    signRaw(payload, rawOptions = {}) {
      checkTestOptionNames(rawOptions, SIGN_RAW_OPTIONS);
      const header = protectedHeader(optionalRecord(rawOptions.header, 'header'));
      const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
      return new CompactSign(bytes).setProtectedHeader(header as never).sign(signing.signingKey, signOptionsFor(header));
    },
    metadata(token) {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return metadata;
    },
    async publishNextKey() {
      pending ??= nextKey().then((next) => {
        published = [...published, next];
        resolver = buildResolver();
        return next;
      });
      return (await pending).kid;
    },
    async rotate(rotateOptions = {}) {
      checkTestOptionNames(rotateOptions, ROTATE_OPTIONS);
      const keepPrevious = optionalBoolean(rotateOptions.keepPrevious, 'keepPrevious') ?? true;
      const next = await (pending ?? nextKey());
      pending = undefined;
      published = keepPrevious ? [next, signing] : [next];
      signing = next;
      resolver = buildResolver();
    },
    async serve(serveOptions) {
      const served = await serveIssuer(issuerApi, serveOptions);
      // An issuer created without an explicit `iss` takes the served URL, so discovery
      // (fromIssuer(served.url)) finds a document whose issuer matches.
      if (options.issuer === undefined) issuer = served.url;
      return served;
    },
    // An hour on either side: well outside the largest clockTolerance (300 s), so these stay refused
    // under any server configuration.
    expiredToken: (claims) => sign(claims, { issuedAt: now() - 7200, expiresIn: 3600 }),
    notYetValidToken: (claims) => sign(claims, { notBefore: 3600 }),
    wrongAudienceToken: (claims) => sign({ aud: 'wrong-audience', ...claims }),
    wrongIssuerToken: (claims) => sign({ iss: 'https://wrong-issuer.test', ...claims }),
    unsignedToken: (claims = {}) => craftUnsignedToken({ iss: issuer, aud: audience, sub: 'test-user', iat: now(), exp: now() + 3600, ...claims }),
    async tamperedToken(claims = {}) {
      const token = await sign();
      return replacePayload(token, { iss: issuer, aud: audience, sub: 'admin', iat: now(), exp: now() + 3600, ...claims });
    },
  };
  return issuerApi;
}
