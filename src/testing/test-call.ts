import { EventEmitter } from 'node:events';
import { Metadata, status, type sendUnaryData, type ServerUnaryCall, type StatusObject } from '@grpc/grpc-js';
import { AuthConfigError } from '../errors/config-error.ts';
import { decodeErrorInfo, STATUS_DETAILS_KEY } from '../errors/error-info.ts';
import { attachAuth } from '../server/context.ts';
import { optionalString, optionNames } from '../util/option-checks.ts';
import { AUTHENTICATOR_OPTION_NAMES, createAuthenticator, type AuthenticatorOptions } from '../verify/authenticator.ts';
import { certificateThumbprint } from '../verify/certificate-thumbprint.ts';
import type { SignOptions, TestClaims, TestIssuer } from './test-issuer.ts';
import { checkedSignOptions, checkTestOptionNames } from './test-option-checks.ts';

/**
 * Options of {@link anonymousCall}: the call a handler receives.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * import { anonymousCall, type TestCallOptions } from 'grpc-jwt-auth/testing';
 * const metadata = new Metadata();
 * metadata.set('x-request-id', 'r-1');
 * const options: TestCallOptions<{ id: string }> = { request: { id: 'o-1' }, method: '/acme.orders.v1.Orders/GetOrder', metadata };
 * const call = anonymousCall(options);
 * ```
 */
export interface TestCallOptions<Request = unknown> {
  /** The request message: `call.request`. Default undefined. */
  readonly request?: Request;
  /**
   * The full method path: `call.getPath()`, and the method guards (`withGuard`) and the `validate` hook
   * are given. Default `/test.v1.Test/Call`.
   */
  readonly method?: string;
  /** Request metadata the client sent (`x-request-id`, ...): copied into `call.metadata`, never changed. */
  readonly metadata?: Metadata;
}

/**
 * Options of {@link authenticatedCall}: the call, the token the test issuer signs for it, and how the
 * server verifies that token.
 *
 * @example
 * ```ts
 * import { authenticatedCall, createTestIssuer, type AuthenticatedCallOptions } from 'grpc-jwt-auth/testing';
 * const idp = await createTestIssuer({ audience: 'orders-api' });
 * const options: AuthenticatedCallOptions<{ id: string }> = {
 *   claims: { sub: 'alice', permissions: ['orders:read'] },
 *   request: { id: 'o-1' },
 *   method: '/acme.orders.v1.Orders/GetOrder',
 *   verify: { scopeClaims: ['permissions'] }, // as the server is configured
 * };
 * const call = await authenticatedCall(idp, options);
 * ```
 */
export interface AuthenticatedCallOptions<Request = unknown> extends TestCallOptions<Request> {
  /** Claims of the token, as {@link TestIssuer.sign} takes them: over `sub: 'test-user'`, the issuer, its audience and an hour of life. */
  readonly claims?: TestClaims;
  /** How the token is signed (its lifetime, extra header parameters), as {@link TestIssuer.sign} takes them. */
  readonly signOptions?: SignOptions;
  /**
   * How the server verifies tokens: the options it gives `createAuthInterceptor` for that (`scopeClaims`,
   * `roleClaims`, `typ`, `requiredClaims`, `validate`, `clock`, ...), so the context is the one its
   * handlers get. `keys`, `algorithms`, `issuer` and `audience` default to the test issuer's (`issuer`
   * and `audience` only without `issuers`). Rules are not applied: the test stands where the interceptor
   * has admitted the call.
   */
  readonly verify?: Omit<AuthenticatorOptions, 'cache'>;
}

/**
 * How a {@link TestCall} ended, as grpc-js would send it to the client.
 *
 * @example
 * ```ts
 * import { status } from '@grpc/grpc-js';
 * import type { TestCallResult } from 'grpc-jwt-auth/testing';
 * declare const result: TestCallResult<{ id: string }>;
 * if (result.code === status.PERMISSION_DENIED) console.log(result.reason); // e.g. INSUFFICIENT_SCOPE
 * else console.log(result.value?.id);
 * ```
 */
export interface TestCallResult<Response = unknown> {
  /** The status: `status.OK` when answered with a value. An error without a numeric `code` (an `AuthError` passed as is, say) is UNKNOWN, as grpc-js answers it. */
  readonly code: status;
  /** The status details the client reads. */
  readonly details: string;
  /** The trailers: `www-authenticate` and `grpc-status-details-bin` of a refusal. */
  readonly metadata: Metadata;
  /** The ErrorInfo reason a client decodes from the trailers (`INSUFFICIENT_SCOPE`, ...); undefined when there is none. */
  readonly reason: string | undefined;
  /** The response of a call answered OK. */
  readonly value: Response | undefined;
}

/**
 * A grpc-js unary server call with no server behind it, for unit tests of handlers: hand it to the
 * handler with `call.respond` as the callback, then await `call.result`.
 *
 * @example
 * ```ts
 * import type { handleUnaryCall } from '@grpc/grpc-js';
 * import { getAuth } from 'grpc-jwt-auth';
 * import { authenticatedCall, createTestIssuer, type TestCall } from 'grpc-jwt-auth/testing';
 * declare const getOrder: handleUnaryCall<{ id: string }, { id: string; owner: string }>;
 * const idp = await createTestIssuer();
 * const call: TestCall<{ id: string }> = await authenticatedCall(idp, { claims: { sub: 'alice' }, request: { id: 'o-1' } });
 * getOrder(call, call.respond);
 * const { code, value } = await call.result;
 * console.log(code, value, getAuth(call).subject); // 0 { id: 'o-1', owner: 'alice' } alice
 * ```
 */
// A type, not an interface extending ServerUnaryCall: the reference then documents these three members,
// not the EventEmitter methods a grpc-js call inherits.
export type TestCall<Request = unknown, Response = unknown> = ServerUnaryCall<Request, Response> & {
  /** The callback to hand a unary handler. Its first answer settles `result`; later ones are ignored, as grpc-js ignores them. */
  readonly respond: sendUnaryData<Response>;
  /**
   * Settles once the call ends: by `respond`, by an `'error'` event, which is how grpc-js lets
   * `getAuth` end a call that is not authenticated (INTERNAL) and `withGuard` refuse a streaming one,
   * or by `cancel()` (CANCELLED). Never settles if the handler never answers.
   */
  readonly result: Promise<TestCallResult<Response>>;
  /**
   * Cancels the call as a client that goes away does: `cancelled` becomes true, `'cancelled'` is emitted,
   * and the call ends CANCELLED, what that client sees; an answer after it is dropped, as grpc-js drops it.
   */
  cancel(): void;
};

const TEST_CALL_OPTIONS = optionNames<TestCallOptions>({ request: true, method: true, metadata: true });
const AUTHENTICATED_CALL_OPTIONS = optionNames<AuthenticatedCallOptions>({
  request: true,
  method: true,
  metadata: true,
  claims: true,
  signOptions: true,
  verify: true,
});
const VERIFY_OPTIONS: ReadonlySet<string> = new Set([...AUTHENTICATOR_OPTION_NAMES].filter((name) => name !== 'cache'));
const DEFAULT_METHOD = '/test.v1.Test/Call';

/** What grpc-js sends for an error a handler ends its call with (its `serverErrorToStatus`), and the reason a client decodes. */
function statusOf(error: Partial<StatusObject> & { readonly message?: unknown }, trailer: Metadata | undefined): TestCallResult<never> {
  const numeric = typeof error.code === 'number' && Number.isInteger(error.code);
  const message = typeof error.message === 'string' ? error.message : 'Unknown Error';
  const metadata = trailer ?? (error.metadata instanceof Metadata ? error.metadata : new Metadata());
  const [details] = metadata.get(STATUS_DETAILS_KEY);
  return {
    code: numeric ? (error.code as status) : status.UNKNOWN,
    details: numeric && typeof error.details === 'string' ? error.details : message,
    metadata,
    reason: details instanceof Uint8Array ? decodeErrorInfo(details)?.reason : undefined,
    value: undefined,
  };
}

class UnaryTestCall<Request, Response> extends EventEmitter implements TestCall<Request, Response> {
  cancelled = false;
  readonly respond: sendUnaryData<Response>;
  readonly result: Promise<TestCallResult<Response>>;
  readonly #end: (result: TestCallResult<Response>) => void;

  constructor(
    readonly metadata: Metadata,
    readonly request: Request,
    private readonly path: string,
  ) {
    super();
    let settle: (result: TestCallResult<Response>) => void = () => undefined;
    this.result = new Promise((resolve) => (settle = resolve));
    let ended = false;
    const end = (result: TestCallResult<Response>): void => {
      if (ended) return;
      ended = true;
      settle(result);
    };
    this.respond = (error, value, trailer) => {
      if (error) end(statusOf(error, trailer));
      else end({ code: status.OK, details: 'OK', metadata: trailer ?? new Metadata(), reason: undefined, value: value ?? undefined });
    };
    // grpc-js listens for 'error' on every server call and makes it the final status: getAuth relies on
    // it to end a call that is not authenticated, withGuard to refuse a streaming one.
    this.on('error', (error: Partial<StatusObject>) => end(statusOf(error ?? {}, undefined)));
    this.#end = end;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    // A departed client sees CANCELLED whatever the handler does next: grpc-js sends nothing more.
    this.#end({ code: status.CANCELLED, details: 'Cancelled on client', metadata: new Metadata(), reason: undefined, value: undefined });
    this.emit('cancelled', 'cancelled');
  }

  getPath(): string {
    return this.path;
  }

  /** What grpc-js answers for a call without a socket. */
  getPeer(): string {
    return 'unknown';
  }

  getHost(): string {
    return 'localhost';
  }

  /** No deadline: what grpc-js answers when the client set none. */
  getDeadline(): number {
    return Infinity;
  }

  /** An insecure call: no TLS peer. */
  getAuthContext(): ReturnType<ServerUnaryCall<Request, Response>['getAuthContext']> {
    return {};
  }

  sendMetadata(): void {}

  getMetricsRecorder(): never {
    throw new Error('a test call has no metrics recorder (ORCA): test that part of the handler through a server');
  }
}

/** The call options checked, with the request metadata copied. */
function checkedCall(options: TestCallOptions, known: ReadonlySet<string>): { readonly metadata: Metadata; readonly method: string } {
  checkTestOptionNames(options, known);
  const method = optionalString(options.method, 'method') ?? DEFAULT_METHOD;
  // A bare 'GetOrder' would reach guards and the validate hook as a path no server ever gives them.
  if (!/^\/[^/\s]+\/[^/\s]+$/.test(method)) throw new AuthConfigError('method', `expected a full method path like '/pkg.Service/Method', got '${method}'`);
  const given: unknown = options.metadata;
  if (given !== undefined && !(given instanceof Metadata)) throw new AuthConfigError('metadata', 'expected a grpc-js Metadata');
  return { metadata: given?.clone() ?? new Metadata(), method };
}

/**
 * A unary call that carries no verified token, as a `public` method (or an `optional` one called without
 * a token) hands it to its handler: `findAuth` answers undefined, `getAuth` ends it with INTERNAL.
 *
 * @example
 * ```ts
 * import { findAuth } from 'grpc-jwt-auth';
 * import { anonymousCall } from 'grpc-jwt-auth/testing';
 * const call = anonymousCall({ request: { name: 'world' } });
 * console.log(findAuth(call)); // undefined
 * ```
 */
export function anonymousCall<Request = unknown, Response = unknown>(options: TestCallOptions<Request> = {}): TestCall<Request, Response> {
  const { metadata, method } = checkedCall(options, TEST_CALL_OPTIONS);
  return new UnaryTestCall<Request, Response>(metadata, options.request as Request, method);
}

/**
 * A unary call whose token the test issuer signed and the library verified, its context attached to
 * `call.metadata` as the auth interceptor attaches it: `getAuth`, `findAuth` and `withGuard` see the
 * caller exactly as in a served call, without a server. The metadata carries the token
 * (`authorization: Bearer ...`), as a served call's does. Rejects with the `AuthError` of a token the
 * verification options refuse (`ERR_AUTH_AUDIENCE_INVALID` when `verify.audience` is not the issuer's, say).
 *
 * @example
 * ```ts
 * import type { handleUnaryCall } from '@grpc/grpc-js';
 * import { getAuth, requireScopes, withGuard } from 'grpc-jwt-auth';
 * import { authenticatedCall, createTestIssuer } from 'grpc-jwt-auth/testing';
 * const deleteOrder: handleUnaryCall<{ id: string }, object> = withGuard(requireScopes('orders:admin'), (call, callback) => {
 *   console.log(`${getAuth(call).subject} deletes ${call.request.id}`);
 *   callback(null, {});
 * });
 * const idp = await createTestIssuer();
 * const call = await authenticatedCall(idp, { claims: { sub: 'alice', scope: 'orders:read' }, request: { id: 'o-1' } });
 * deleteOrder(call, call.respond);
 * const { code, reason } = await call.result; // 7 (PERMISSION_DENIED), 'INSUFFICIENT_SCOPE'
 * ```
 */
export async function authenticatedCall<Request = unknown, Response = unknown>(
  issuer: TestIssuer,
  options: AuthenticatedCallOptions<Request> = {},
): Promise<TestCall<Request, Response>> {
  const { metadata, method } = checkedCall(options, AUTHENTICATED_CALL_OPTIONS);
  checkedSignOptions(options.signOptions ?? {}, 'signOptions.');
  const verify = options.verify ?? {};
  // A misspelt `scopeClaim` would build a context with the default scopes and let a test pass for the wrong reason.
  checkTestOptionNames(verify, VERIFY_OPTIONS, 'verify.');
  const authenticator = createAuthenticator({
    keys: issuer.keys,
    algorithms: [issuer.alg],
    ...(verify.issuers === undefined ? { issuer: issuer.issuer, audience: issuer.audience } : {}),
    ...verify,
    cache: false,
  });
  const token = await issuer.sign(options.claims, options.signOptions);
  // A token bound with `bindTo` stands for a call over the connection with that certificate.
  const bound = options.signOptions?.bindTo?.certificate;
  const { context } = await authenticator.authenticate(token, method, bound === undefined ? {} : { clientCertificate: certificateThumbprint(bound) });
  metadata.set('authorization', `Bearer ${token}`);
  attachAuth(metadata, context);
  return new UnaryTestCall<Request, Response>(metadata, options.request as Request, method);
}
