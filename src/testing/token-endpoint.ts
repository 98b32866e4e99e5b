import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthConfigError } from '../errors/config-error.ts';
import { optionalBoolean, optionalChoice, optionalFunction, optionalSeconds, optionalString, optionNames } from '../util/option-checks.ts';
import { checkTestOptionNames, optionalRecord } from './test-option-checks.ts';
import type { SignOptions, TestClaims } from './test-issuer.ts';
import { FaultQueue, type TokenFault } from './token-faults.ts';
import { OAuthError, formDecode, parseForm, readBody, sameSecret, scopeWithin } from './oauth-request.ts';
import { createTokenEndpointDpop, type TokenEndpointDpop, type TokenRequestProof } from './token-dpop.ts';
import { isThumbprint } from '../verify/certificate-thumbprint.ts';

/**
 * A client registered at the test token endpoint.
 *
 * @example
 * ```ts
 * import { createTestIssuer, type TestClient } from 'grpc-jwt-auth/testing';
 * const worker: TestClient = { secret: 'worker-secret', authMethods: ['client_secret_basic'], scope: 'orders:read' };
 * const served = await (await createTestIssuer()).serve({ token: { clients: { worker } } });
 * ```
 */
export interface TestClient {
  /** Its secret. Omit for a public client, which may only use the refresh token grant. */
  readonly secret?: string;
  /** How it may authenticate. Default both. */
  readonly authMethods?: readonly ('client_secret_basic' | 'client_secret_post')[];
  /** The scopes it may ask for (space-separated); also what it gets when it asks for none. Default: any. */
  readonly scope?: string;
  /** Extra claims in its access tokens. */
  readonly claims?: TestClaims;
  /**
   * `'required'`: every token request of this client must carry a DPoP proof (RFC 9449); one without
   * is refused with 400 `invalid_dpop_proof`. Default: DPoP is optional (a request with a proof gets
   * DPoP-bound tokens, one without gets bearer tokens).
   */
  readonly dpop?: 'required';
}

/**
 * Options of the `/token` endpoint of `TestIssuer.serve()`. Durations are seconds.
 *
 * @example
 * ```ts
 * import { createTestIssuer, type TokenEndpointOptions } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const token: TokenEndpointOptions = { clients: { worker: { secret: 'worker-secret' } }, accessTokenLifetime: 60 };
 * const served = await idp.serve({ token });
 * ```
 */
export interface TokenEndpointOptions {
  /** Registered clients by id. Default `{ 'test-client': { secret: 'test-secret' } }`. */
  readonly clients?: Readonly<Record<string, TestClient>>;
  /** Lifetime of access tokens (`expires_in`), in seconds. Default 300. */
  readonly accessTokenLifetime?: number;
  /** Lifetime of refresh tokens, in seconds. Default 86400. */
  readonly refreshTokenLifetime?: number;
  /**
   * Issue a new refresh token with every refresh and spend the old one (RFC 9700 §4.14.2). Default true.
   * A spent refresh token used again is refused with `invalid_grant`, and its whole family is revoked.
   */
  readonly rotateRefreshTokens?: boolean;
  /** The clock for `iat`/`exp`, lifetimes and DPoP proof freshness, in milliseconds. Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * DPoP (RFC 9449) at the endpoint, which always accepts proofs (`DPoP` header: tokens bound to the
   * key, `token_type: "DPoP"`). `nonce: true`: every proof must carry the endpoint's current nonce; one
   * without (or with an old one) is refused with 400 `use_dpop_nonce` and the nonce in `DPoP-Nonce`.
   */
  readonly dpop?: {
    /** Require the endpoint's current nonce in every proof (`400 use_dpop_nonce` with `DPoP-Nonce` otherwise). */
    readonly nonce?: boolean;
  };
}

/**
 * Control of the running token endpoint, for tests.
 *
 * @example
 * ```ts
 * import { createTestIssuer, type TokenEndpoint } from 'grpc-jwt-auth/testing';
 * const served = await (await createTestIssuer()).serve({ token: { clients: { cli: {} } } });
 * const endpoint: TokenEndpoint = served.tokenEndpoint;
 * const refreshToken = endpoint.issueRefreshToken({ clientId: 'cli', subject: 'alice' });
 * endpoint.injectFault({ kind: 'delay', duration: 2 }); // every answer from now on comes 2 s late
 * ```
 */
export interface TokenEndpoint {
  /** The endpoint's URL. */
  readonly url: string;
  /**
   * A refresh token, as if the user had just signed in (this endpoint has no authorization-code flow).
   * Defaults: the first registered client, subject `test-user`, no scope. `jkt` binds it to a DPoP key,
   * as a sign-in with DPoP would (RFC 9449 §5): refreshing then needs a proof signed with that key.
   */
  issueRefreshToken(options?: { readonly clientId?: string; readonly subject?: string; readonly scope?: string; readonly jkt?: string }): string;
  /**
   * The next `times` requests (a whole number from 1; default: every one until {@link clearFaults}) meet
   * `fault`. A fault that is not one of {@link TokenFault}'s shapes throws `AuthConfigError` naming the field.
   */
  injectFault(fault: TokenFault, times?: number): void;
  /** Removes every pending fault: the next requests are answered normally. */
  clearFaults(): void;
}

/**
 * The endpoint as the issuer's HTTP server uses it.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createTestIssuer } from 'grpc-jwt-auth/testing';
 * const endpoint: TokenEndpointHandler = createTokenEndpoint(await createTestIssuer(), { accessTokenLifetime: 60 });
 * const server = createServer((request, response) => endpoint.handle(request, response));
 * ```
 */
export interface TokenEndpointHandler {
  /** Answers one request to `/token`. */
  handle(request: IncomingMessage, response: ServerResponse): void;
  /** The test-facing control, once the server knows its URL. */
  control(url: string): TokenEndpoint;
  /** Stops pending delayed answers. */
  close(): void;
}

/**
 * What the endpoint needs from the issuer.
 *
 * @example
 * ```ts
 * import { createTestIssuer } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer();
 * const signer: TokenSigner = { audience: idp.audience, sign: (claims, options) => idp.sign(claims, options) };
 * ```
 */
export interface TokenSigner {
  readonly audience: string;
  sign(claims?: TestClaims, options?: SignOptions): Promise<string>;
}

interface RefreshRecord {
  readonly clientId: string;
  readonly subject: string;
  readonly scope: string | undefined;
  readonly expiresAt: number;
  readonly family: string;
  state: 'active' | 'spent' | 'revoked';
  /** The DPoP key thumbprint it is bound to: refreshing needs a proof with that key. */
  jkt: string | undefined;
}

const DEFAULT_CLIENTS: Readonly<Record<string, TestClient>> = { 'test-client': { secret: 'test-secret' } };
const TOKEN_OPTIONS = optionNames<TokenEndpointOptions>({
  clients: true,
  accessTokenLifetime: true,
  refreshTokenLifetime: true,
  rotateRefreshTokens: true,
  clock: true,
  dpop: true,
});
const DPOP_OPTIONS = optionNames<NonNullable<TokenEndpointOptions['dpop']>>({ nonce: true });
const CLIENT_OPTIONS = optionNames<TestClient>({ secret: true, authMethods: true, scope: true, claims: true, dpop: true });
const REFRESH_TOKEN_OPTIONS = optionNames<NonNullable<Parameters<TokenEndpoint['issueRefreshToken']>[0]>>({
  clientId: true,
  subject: true,
  scope: true,
  jkt: true,
});
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
const MAX_LIFETIME = 10 * 365 * 86_400;

/** The registered clients, each checked: a misspelt `secrt` would register a public client and fail tests for the wrong reason. */
function checkedClients(value: unknown): Readonly<Record<string, TestClient>> {
  const clients = optionalRecord(value, 'token.clients');
  if (clients === undefined) return DEFAULT_CLIENTS;
  for (const [id, registered] of Object.entries(clients)) {
    const path = `token.clients.${id}.`;
    checkTestOptionNames(registered, CLIENT_OPTIONS, path);
    optionalString(registered.secret, `${path}secret`);
    optionalString(registered.scope, `${path}scope`);
    optionalRecord(registered.claims, `${path}claims`);
    const methods = registered.authMethods;
    // An empty list would register a client no request can authenticate as.
    if (methods !== undefined && (!Array.isArray(methods) || methods.length === 0))
      throw new AuthConfigError(`${path}authMethods`, 'expected a non-empty array');
    for (const method of methods ?? []) optionalChoice(method, `${path}authMethods`, AUTH_METHODS);
    optionalChoice(registered.dpop, `${path}dpop`, ['required']);
  }
  return clients as Readonly<Record<string, TestClient>>;
}

/**
 * Creates the OAuth 2.0 token endpoint of the test issuer: client credentials (RFC 6749 §4.4) and refresh
 * token (§6) grants, `client_secret_basic` and `client_secret_post`, rotating refresh tokens with reuse
 * detection, DPoP (RFC 9449: a `DPoP` proof binds the access token, and a public client's refresh token,
 * to its key; optional server nonces), and fault injection for client tests. Returns the request handler
 * and its control; the endpoint answers DPoP requests once `control(url)` told it its URL.
 *
 * @example
 * ```ts
 * import { createTestIssuer } from 'grpc-jwt-auth/testing';
 * const endpoint = createTokenEndpoint(await createTestIssuer(), { accessTokenLifetime: 60 });
 * const control = endpoint.control('http://127.0.0.1:8080/token'); // the URL the endpoint is served at
 * ```
 */
export function createTokenEndpoint(signer: TokenSigner, options: TokenEndpointOptions = {}): TokenEndpointHandler {
  checkTestOptionNames(options, TOKEN_OPTIONS, 'token.');
  const clients = checkedClients(options.clients);
  const accessLifetime = optionalSeconds(options.accessTokenLifetime, 'token.accessTokenLifetime', 1, MAX_LIFETIME) ?? 300;
  const refreshLifetime = optionalSeconds(options.refreshTokenLifetime, 'token.refreshTokenLifetime', 1, MAX_LIFETIME) ?? 86_400;
  const rotate = optionalBoolean(options.rotateRefreshTokens, 'token.rotateRefreshTokens') ?? true;
  const clock = optionalFunction<() => number>(options.clock, 'token.clock') ?? Date.now;
  const dpopOptions = optionalRecord(options.dpop, 'token.dpop');
  if (dpopOptions !== undefined) checkTestOptionNames(dpopOptions, DPOP_OPTIONS, 'token.dpop.');
  const nonce = optionalBoolean(dpopOptions?.nonce, 'token.dpop.nonce') ?? false;
  /** Made once the endpoint knows its URL (the proofs' `htu`), in control(). */
  let dpop: TokenEndpointDpop | undefined;
  const refreshTokens = new Map<string, RefreshRecord>();
  const faults = new FaultQueue();
  const timers = new Set<NodeJS.Timeout>();

  function client(id: string): TestClient | undefined {
    return Object.hasOwn(clients, id) ? clients[id] : undefined;
  }

  function newRefreshToken(record: Omit<RefreshRecord, 'state' | 'expiresAt'>): string {
    const token = randomBytes(32).toString('base64url');
    refreshTokens.set(token, { ...record, expiresAt: clock() + refreshLifetime * 1000, state: 'active' });
    return token;
  }

  /** RFC 6749 §2.3.1: exactly one way of authenticating; a public client only names itself. */
  function authenticate(request: IncomingMessage, params: Map<string, string>): { id: string; client: TestClient } {
    const header = request.headers.authorization;
    const basic = typeof header === 'string' && /^basic /i.test(header) ? header.slice(6).trim() : undefined;
    const challenge = { 'www-authenticate': 'Basic realm="test-issuer"' };
    if (basic !== undefined && params.has('client_secret')) throw new OAuthError('invalid_request', 'more than one client authentication method');
    let id: string;
    let secret: string | undefined;
    let method: 'client_secret_basic' | 'client_secret_post' | 'none';
    if (basic !== undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) throw new OAuthError('invalid_client', 'malformed Basic credentials', 401, challenge);
      try {
        id = formDecode(decoded.slice(0, colon));
        secret = formDecode(decoded.slice(colon + 1));
      } catch {
        // `%zz` in an id or secret is a URIError: malformed credentials (401), not a failing issuer (500).
        throw new OAuthError('invalid_client', 'malformed Basic credentials', 401, challenge);
      }
      method = 'client_secret_basic';
    } else {
      id = params.get('client_id') ?? '';
      secret = params.get('client_secret');
      method = secret === undefined ? 'none' : 'client_secret_post';
    }
    const known = client(id);
    const fail = (): never => {
      throw new OAuthError('invalid_client', 'client authentication failed', 401, basic !== undefined ? challenge : {});
    };
    if (!known) return fail();
    if (method === 'none') {
      if (known.secret !== undefined) return fail();
    } else {
      if (known.secret === undefined || secret === undefined || !sameSecret(secret, known.secret)) return fail();
      if (known.authMethods && !known.authMethods.includes(method)) return fail();
    }
    return { id, client: known };
  }

  /** An access token; with a DPoP proof, bound to its key (`cnf.jkt`, RFC 9449 §6). */
  async function accessToken(
    claims: TestClaims,
    doctored: Extract<TokenFault, { kind: 'token' }> | undefined,
    proof: TokenRequestProof | undefined,
  ): Promise<{ token: string; expiresIn: number | null; tokenType: 'Bearer' | 'DPoP' }> {
    const issuedAt = Math.floor(clock() / 1000);
    // A fault's own bindTo members win: it is there to doctor the token.
    const bindTo = { ...(proof ? { jkt: proof.jkt } : {}), ...doctored?.signOptions?.bindTo };
    // A jti makes every token unique, even two issued in the same second for the same client.
    const token = await signer.sign(
      { jti: randomUUID(), ...claims, ...doctored?.claims },
      { issuedAt, expiresIn: accessLifetime, ...doctored?.signOptions, ...(Object.keys(bindTo).length > 0 ? { bindTo } : {}) },
    );
    return { token, expiresIn: doctored?.expiresIn === undefined ? accessLifetime : doctored.expiresIn, tokenType: proof ? 'DPoP' : 'Bearer' };
  }

  /** The request's DPoP proof, verified; undefined without one, unless the client must use DPoP. */
  async function proofOf(request: IncomingMessage, known: TestClient): Promise<TokenRequestProof | undefined> {
    // Without its URL (control() not called yet) the endpoint cannot check an htu: only a proof is a 500.
    if (dpop === undefined && request.headersDistinct.dpop !== undefined) throw new Error('token endpoint received a DPoP proof before it knew its URL');
    const proof = await dpop?.check(request);
    if (proof === undefined && known.dpop === 'required') throw new OAuthError('invalid_dpop_proof', 'this client must send a DPoP proof');
    return proof;
  }

  async function grant(
    request: IncomingMessage,
    params: Map<string, string>,
    doctored: Extract<TokenFault, { kind: 'token' }> | undefined,
  ): Promise<{ body: Record<string, unknown>; proof: TokenRequestProof | undefined }> {
    const grantType = params.get('grant_type');
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials' && grantType !== 'refresh_token') throw new OAuthError('unsupported_grant_type', 'grant_type not supported');
    const { id, client: known } = authenticate(request, params);
    // After client authentication, so an unauthenticated request never spends a proof's jti; before the
    // grant, so a replayed proof is refused as such before any refresh-token check (oidc-provider's order).
    const proof = await proofOf(request, known);
    const audience = params.get('audience') ?? signer.audience;
    if (grantType === 'client_credentials') {
      if (known.secret === undefined) throw new OAuthError('unauthorized_client', 'public clients cannot use client_credentials');
      const scope = scopeWithin(params.get('scope'), known.scope);
      const { token, expiresIn, tokenType } = await accessToken(
        { sub: id, client_id: id, aud: audience, ...(scope ? { scope } : {}), ...known.claims },
        doctored,
        proof,
      );
      return {
        body: { access_token: token, token_type: tokenType, ...(expiresIn === null ? {} : { expires_in: expiresIn }), ...(scope ? { scope } : {}) },
        proof,
      };
    }
    const presented = params.get('refresh_token');
    if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
    const record = refreshTokens.get(presented);
    if (!record || record.clientId !== id || record.expiresAt <= clock()) throw new OAuthError('invalid_grant', 'refresh token is invalid or expired');
    // A bound refresh token is worth nothing without its key (RFC 9449 §5). Checked before its state: a
    // thief without the key learns nothing of it and cannot get its family revoked by replaying a spent one.
    if (record.jkt !== undefined && record.jkt !== proof?.jkt) throw new OAuthError('invalid_grant', 'refresh token is bound to another DPoP key');
    if (record.state === 'spent') {
      // Reuse of a rotated token means two parties hold it: revoke the whole family (RFC 9700 §4.14.2).
      for (const other of refreshTokens.values()) if (other.family === record.family) other.state = 'revoked';
      throw new OAuthError('invalid_grant', 'refresh token was already used');
    }
    if (record.state === 'revoked') throw new OAuthError('invalid_grant', 'refresh token was revoked');
    const scope = scopeWithin(params.get('scope'), record.scope);
    // Refresh tokens issued to public clients in a DPoP request are bound to its key (RFC 9449 §5); a
    // confidential client's stay bound to its client authentication instead.
    const jkt = record.jkt ?? (known.secret === undefined ? proof?.jkt : undefined);
    let refreshToken = presented;
    if (rotate) {
      record.state = 'spent';
      refreshToken = newRefreshToken({ clientId: id, subject: record.subject, scope: record.scope, family: record.family, jkt });
    } else {
      record.jkt = jkt;
    }
    const { token, expiresIn, tokenType } = await accessToken(
      { sub: record.subject, client_id: id, aud: audience, ...(scope ? { scope } : {}), ...known.claims },
      doctored,
      proof,
    );
    return {
      body: {
        access_token: token,
        token_type: tokenType,
        refresh_token: refreshToken,
        ...(expiresIn === null ? {} : { expires_in: expiresIn }),
        ...(scope ? { scope } : {}),
      },
      proof,
    };
  }

  function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (response.destroyed) return;
    // RFC 6749 §5.1: token responses must not be cached.
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...headers });
    response.end(JSON.stringify(body));
  }

  async function answer(request: IncomingMessage, response: ServerResponse, fault: TokenFault | undefined): Promise<void> {
    if (fault?.kind === 'status') {
      response.writeHead(fault.status, { 'content-type': fault.contentType ?? 'text/plain', 'cache-control': 'no-store' });
      response.end(fault.body ?? '');
      return;
    }
    try {
      if (request.method !== 'POST') throw new OAuthError('invalid_request', 'use POST', 405, { allow: 'POST' });
      if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? ''))
        throw new OAuthError('invalid_request', 'expected an application/x-www-form-urlencoded body');
      const params = parseForm(await readBody(request));
      const { body, proof } = await grant(request, params, fault?.kind === 'token' ? fault : undefined);
      send(response, 200, body, dpop?.successHeaders(proof));
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      send(response, error.status, { error: error.error, error_description: error.description }, error.headers);
    }
  }

  return {
    handle(request, response) {
      const fault = faults.next();
      const run = (): void => {
        answer(request, response, fault).catch(() => send(response, 500, { error: 'server_error', error_description: 'test issuer failed' }));
      };
      if (fault?.kind === 'hang') return;
      if (fault?.kind === 'delay') {
        const timer = setTimeout(() => {
          timers.delete(timer);
          run();
        }, fault.duration * 1000);
        timers.add(timer);
      } else run();
    },
    control(url) {
      dpop ??= createTokenEndpointDpop(url, { nonce, clock });
      return {
        url,
        issueRefreshToken(refreshOptions = {}) {
          checkTestOptionNames(refreshOptions, REFRESH_TOKEN_OPTIONS);
          const clientId = optionalString(refreshOptions.clientId, 'clientId') ?? Object.keys(clients)[0] ?? 'test-client';
          if (!client(clientId)) throw new AuthConfigError('clientId', 'not a registered client');
          const subject = optionalString(refreshOptions.subject, 'subject') ?? 'test-user';
          const jkt = optionalString(refreshOptions.jkt, 'jkt');
          if (jkt !== undefined && !isThumbprint(jkt))
            throw new AuthConfigError('jkt', 'expected an RFC 7638 SHA-256 JWK thumbprint: base64url, 43 characters');
          return newRefreshToken({ clientId, subject, scope: optionalString(refreshOptions.scope, 'scope'), family: randomUUID(), jkt });
        },
        injectFault(fault, times) {
          faults.add(fault, times);
        },
        clearFaults() {
          faults.clear();
        },
      };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
