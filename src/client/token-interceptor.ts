import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthorizedCall, type CallPolicy } from './authorized-call.ts';
import { checkOptionNames, isRecord, optionNames, optionalChoice } from '../util/option-checks.ts';
import { optionalDpopKey, type DpopKey } from './dpop-key.ts';
import { keyOfSource } from './dpop-sources.ts';
import { createCallProofs, type CallProofs } from './dpop-target.ts';
import { toTokenSupplier, type TokenSource } from './token-source.ts';
import { TransportGuard, type ChannelSecurity } from './transport-guard.ts';

/**
 * Options of {@link createTokenInterceptor}.
 *
 * @example
 * ```ts
 * import { clientCredentials, type TokenInterceptorOptions } from 'grpc-jwt-auth/client';
 * const options: TokenInterceptorOptions = {
 *   token: clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: secret }),
 *   channelSecurity: 'tls',
 * };
 * ```
 */
export interface TokenInterceptorOptions {
  /** Where tokens come from: a string, a function, or a provider such as {@link clientCredentials}. */
  readonly token: TokenSource;
  /**
   * What the channel's transport is, which an interceptor cannot see. Not set: tokens go only to loopback
   * targets that no HTTP proxy named in the environment (`grpc_proxy`, `https_proxy`, `http_proxy`)
   * carries. `'tls'`: any target (checked after the fact; a plaintext channel stops the interceptor).
   * `'insecure'`: plaintext to any host, knowingly. See {@link ChannelSecurity}.
   */
  readonly channelSecurity?: ChannelSecurity;
  /**
   * Send DPoP-bound tokens (RFC 9449): `authorization: DPoP <token>` and a `dpop` proof signed with `key`
   * on every call. Default: the key of a token source made with one (`clientCredentials({ dpop })`,
   * `refreshingToken({ dpop })`), else none (Bearer). `origin` is the `htu` origin the server expects
   * (its `dpop.origins`), e.g. `https://orders.example`; default `https://` and the host of the channel
   * target without its port, as grpc-js names a call for call credentials.
   */
  readonly dpop?: {
    /** The key of the proofs, from {@link createDpopKey}: the one the tokens are bound to. */
    readonly key: DpopKey;
    /** The origin of `htu`, such as `https://orders.example` (no path). Default: from the channel target. */
    readonly origin?: string;
  };
}

const TOKEN_INTERCEPTOR_OPTION_NAMES = optionNames<TokenInterceptorOptions>({ token: true, channelSecurity: true, dpop: true });
const DPOP_OPTION_NAMES = optionNames<NonNullable<TokenInterceptorOptions['dpop']>>({ key: true, origin: true });

/** `dpop.origin`, checked: an http(s) origin alone, as the server lists its own. */
function checkOrigin(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const url = typeof value === 'string' ? URL.parse(value) : null;
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw new AuthConfigError('dpop.origin', 'expected an http(s) origin such as https://orders.example');
  }
  // A path here would be doubled before the method path; a query would be dropped from htu anyway.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || (value as string).endsWith('/')) {
    throw new AuthConfigError('dpop.origin', 'expected an origin alone (scheme, host, port), without path, query or trailing slash');
  }
  return url.origin;
}

/** The DPoP proofs of the interceptor: the `dpop` option's key or the token source's, never two different ones. */
function callProofs(option: unknown, source: unknown): CallProofs | undefined {
  const sourceKey = keyOfSource(source);
  if (option === undefined) return sourceKey === undefined ? undefined : createCallProofs(sourceKey, undefined);
  if (!isRecord(option)) throw new AuthConfigError('dpop', 'expected { key, origin? }');
  checkOptionNames(option, DPOP_OPTION_NAMES, 'dpop');
  const key = optionalDpopKey(option.key, 'dpop.key');
  if (key === undefined) throw new AuthConfigError('dpop.key', 'required');
  // The identity provider binds the tokens to the source's key: proofs of any other key are refused on every call.
  if (sourceKey !== undefined && sourceKey !== key)
    throw new AuthConfigError('dpop.key', 'differs from the dpop key of the token source, which its tokens are bound to');
  return createCallProofs(key, checkOrigin(option.origin));
}

/**
 * A grpc-js client interceptor that sends `authorization: Bearer <token>` on every call of every kind.
 * Works on insecure local channels, where grpc-js refuses call credentials.
 *
 * With DPoP (the `dpop` option, or a token source made with a `dpop` key), every call carries
 * `authorization: DPoP <token>` and one fresh `dpop` proof (streams: one at the start), whose `htu` is
 * the origin and the method path. A `dpop-nonce` the server sends (response headers or trailers) is used
 * in the next proofs to that origin; a unary call refused for want of a nonce (reason `DPOP_NONCE_REQUIRED`,
 * or from another server the one challenge `DPoP error="use_dpop_nonce"`) is retried once with it, a
 * stream is not.
 *
 * - Token failures end the call before it is sent: UNAVAILABLE when retrying later can help (identity
 *   provider down), UNAUTHENTICATED when not (wrong client secret); the details name the `ERR_TOKEN_*` code.
 * - A unary call the server refuses with UNAUTHENTICATED and reason `TOKEN_EXPIRED` (its clock ahead of
 *   ours, say) is retried once with a forced refresh. Nothing else is retried, and
 *   streaming calls are never replayed: their messages may already have had effects.
 * - Token leak guard: without `channelSecurity`, tokens are sent only to loopback targets, and with a
 *   proxy variable set only to those `no_grpc_proxy`/`no_proxy` lists; see {@link ChannelSecurity} for
 *   why and what to set.
 *
 * @example
 * ```ts
 * import { Client, credentials } from '@grpc/grpc-js';
 * import { clientCredentials, createTokenInterceptor } from 'grpc-jwt-auth/client';
 * declare const OrdersClient: typeof Client;
 *
 * const token = clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: secret });
 * // a local channel: plaintext is fine on loopback
 * const local = new OrdersClient('127.0.0.1:50051', credentials.createInsecure(), {
 *   interceptors: [createTokenInterceptor({ token })],
 * });
 * // a remote TLS channel
 * const remote = new OrdersClient('orders.example:443', credentials.createSsl(), {
 *   interceptors: [createTokenInterceptor({ token, channelSecurity: 'tls' })],
 * });
 * ```
 */
export function createTokenInterceptor(options: TokenInterceptorOptions): Interceptor {
  checkOptionNames(options, TOKEN_INTERCEPTOR_OPTION_NAMES);
  // Read once: a getter must not pass the check with one source and be used with another.
  const token = options.token;
  if (token === undefined) throw new AuthConfigError('token', 'required');
  const dpop = callProofs(options.dpop, token);
  const policy: CallPolicy = {
    tokens: toTokenSupplier(token, 'token'),
    guard: new TransportGuard(optionalChoice<ChannelSecurity>(options.channelSecurity, 'channelSecurity', ['tls', 'insecure'])),
    ...(dpop === undefined ? {} : { dpop }),
  };
  return (callOptions, nextCall) => new InterceptingCall(new AuthorizedCall(callOptions, nextCall, policy));
}
