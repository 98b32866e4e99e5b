import { status, type StatusObject } from '@grpc/grpc-js';
import { isLoopbackTarget } from './loopback.ts';
import { localStatus } from './token-status.ts';

/**
 * What the token interceptor may assume about a channel's transport. grpc-js does not show interceptors
 * the channel credentials, so the interceptor cannot tell TLS from plaintext before it sends the token;
 * it only sees the channel target (the host it dials). Hence:
 *
 * - not set: tokens go only to loopback targets (127.0.0.0/8, ::1, localhost, unix sockets), where
 *   plaintext never leaves the machine; a call to any other target fails with FAILED_PRECONDITION before
 *   anything is sent;
 * - `'tls'`: the channel uses TLS. Checked after the fact on every call (the transport's auth context);
 *   if a call turns out to have gone over plaintext, a warning is emitted once and later calls to that
 *   target fail with FAILED_PRECONDITION;
 * - `'insecure'`: tokens may go over plaintext to any host. Only for networks that encrypt underneath
 *   (a service-mesh sidecar, a VPN), or tests.
 *
 * @example
 * ```ts
 * createTokenInterceptor({ token, channelSecurity: 'tls' }); // a TLS channel to orders.example:443
 * ```
 */
export type ChannelSecurity = 'tls' | 'insecure';

/**
 * Decides, per call, whether a token may be sent to a target. One per interceptor.
 *
 * @example
 * ```ts
 * const guard = new TransportGuard(undefined);
 * guard.refusal('dns:orders.example:443'); // FAILED_PRECONDITION: not loopback, transport unknown
 * ```
 */
export class TransportGuard {
  /** Targets a 'tls' channel turned out to reach over plaintext: never again. */
  private readonly plaintextTargets = new Set<string>();

  constructor(private readonly security: ChannelSecurity | undefined) {}

  /** A refusal before sending, or undefined to go ahead. `target` is the channel target, e.g. `dns:host:443`. */
  refusal(target: string): StatusObject | undefined {
    if (this.plaintextTargets.has(target)) {
      return localStatus(
        status.FAILED_PRECONDITION,
        `grpc-jwt-auth: not sending a bearer token to ${target}: channelSecurity is 'tls' but the channel is plaintext`,
      );
    }
    if (this.security !== undefined || isLoopbackTarget(target)) return undefined;
    return localStatus(
      status.FAILED_PRECONDITION,
      `grpc-jwt-auth: not sending a bearer token to ${target}: it is not a loopback address, and an interceptor cannot see whether the channel uses TLS. ` +
        "Set channelSecurity: 'tls' on a TLS channel (or use createCallCredentials), or channelSecurity: 'insecure' to send tokens in plaintext knowingly",
    );
  }

  /** Told what transport a call used, once grpc-js knows it (`transportSecurityType` is `ssl` on TLS). */
  observe(target: string, transport: { readonly transportSecurityType?: string } | null): void {
    if (this.security !== 'tls' || transport === null || transport.transportSecurityType === 'ssl' || this.plaintextTargets.has(target)) return;
    this.plaintextTargets.add(target);
    process.emitWarning(
      `grpc-jwt-auth: a bearer token went to ${target} over a plaintext channel although channelSecurity is 'tls'; no more tokens will be sent to it. Use TLS channel credentials.`,
      { type: 'SecurityWarning', code: 'GRPC_JWT_AUTH_PLAINTEXT_CHANNEL' },
    );
  }
}
