import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthorizedCall, type CallPolicy } from './authorized-call.ts';
import { checkOptionNames, optionNames, optionalChoice } from '../util/option-checks.ts';
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
}

const TOKEN_INTERCEPTOR_OPTION_NAMES = optionNames<TokenInterceptorOptions>({ token: true, channelSecurity: true });

/**
 * A grpc-js client interceptor that sends `authorization: Bearer <token>` on every call of every kind.
 * Works on insecure local channels, where grpc-js refuses call credentials.
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
  const policy: CallPolicy = {
    tokens: toTokenSupplier(token, 'token'),
    guard: new TransportGuard(optionalChoice<ChannelSecurity>(options.channelSecurity, 'channelSecurity', ['tls', 'insecure'])),
  };
  return (callOptions, nextCall) => new InterceptingCall(new AuthorizedCall(callOptions, nextCall, policy));
}
