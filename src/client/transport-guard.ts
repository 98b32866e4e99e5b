import { status, type StatusObject } from '@grpc/grpc-js';
import { isLoopbackTarget } from './channel-target.ts';
import { proxyRisk, readProxyVariables, type ProxyRisk, type ProxyVariables } from './proxy-variables.ts';
import { localStatus } from './token-status.ts';

/**
 * What the token interceptor may assume about a channel's transport. grpc-js does not show interceptors
 * the channel credentials, so the interceptor cannot tell TLS from plaintext before it sends the token;
 * it only sees the channel target (the host it dials). Hence:
 *
 * - not set: tokens go only to loopback targets (127.0.0.0/8, ::1, localhost, unix sockets; with a DNS
 *   server named in the target, addresses only), where plaintext never leaves the machine; a call to any
 *   other target fails with FAILED_PRECONDITION before anything is sent. A target is loopback only if no
 *   HTTP proxy applies to it: with `grpc_proxy`, `https_proxy` or `http_proxy` set, grpc-js tunnels even
 *   `127.0.0.1` through the proxy, so such a target must be listed, exactly, in `no_grpc_proxy` (or
 *   `no_proxy`); `unix:` targets are never proxied;
 * - `'tls'`: the channel uses TLS. Checked after the fact on every call (the transport's auth context);
 *   if a call turns out to have gone over plaintext, a warning is emitted once and later calls to that
 *   target fail with FAILED_PRECONDITION;
 * - `'insecure'`: tokens may go over plaintext to any host. Only for networks that encrypt underneath
 *   (a service-mesh sidecar, a VPN), or tests.
 *
 * @example
 * ```ts
 * import { createTokenInterceptor } from 'grpc-jwt-auth/client';
 * createTokenInterceptor({ token, channelSecurity: 'tls' }); // for a TLS channel to orders.example:443
 * ```
 */
export type ChannelSecurity = 'tls' | 'insecure';

/** What to tell the user when an HTTP proxy may carry a plaintext token. Never the variables' values: they may hold proxy credentials. */
function proxyRefusal(target: string, risk: ProxyRisk): string {
  const when = risk.readAt === 'creation' ? ' when the interceptor was created' : '';
  const why =
    risk.kind === 'proxy-target'
      ? `it is the HTTP proxy named by ${risk.variable}${when}: grpc-js tunnels the call through it, in plaintext, to a host the interceptor cannot see. ` +
        "Use TLS with channelSecurity: 'tls', or set channelSecurity: 'insecure' to send tokens through the proxy knowingly"
      : `${risk.variable} names an HTTP proxy${when}, and grpc-js sends calls to ${risk.host} through it, in plaintext, unless ${risk.noProxyVariable} lists "${risk.host}" exactly. ` +
        "List it there before creating the client (grpc-js reads these variables when it creates a channel), or use TLS with channelSecurity: 'tls'. " +
        "If the channel bypasses the proxy (channel option grpc.enable_http_proxy: 0, which an interceptor cannot see), or to send tokens through the proxy knowingly, set channelSecurity: 'insecure'";
  return `grpc-jwt-auth: not sending a bearer token to ${target}: ${why}`;
}

/**
 * Decides, per call, whether a token may be sent to a target. One per interceptor.
 *
 * @example
 * ```ts
 * const guard = new TransportGuard(undefined);
 * guard.refusal('dns:orders.example:443'); // FAILED_PRECONDITION: not loopback, transport unknown
 * new TransportGuard(undefined, { https_proxy: 'http://proxy.corp:3128' }).refusal('dns:127.0.0.1:50051'); // FAILED_PRECONDITION: proxied
 * ```
 */
export class TransportGuard {
  /** Targets a 'tls' channel turned out to reach over plaintext: never again. */
  private readonly plaintextTargets = new Set<string>();
  /**
   * grpc-js reads the proxy variables when a channel is created, which the interceptor cannot see: it
   * comes between this reading (interceptors are usually made for the client's constructor) and the
   * calls. A proxy named at either moment counts, so that unsetting a variable after the client was
   * made does not hide the proxy its channel uses.
   */
  private readonly proxiesAtCreation: ProxyVariables;

  /** `env` is where grpc-js reads the proxy variables: `process.env`, read again at every call. */
  constructor(
    private readonly security: ChannelSecurity | undefined,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.proxiesAtCreation = readProxyVariables(env, 'creation');
  }

  /** A refusal before sending, or undefined to go ahead. `target` is the channel target, e.g. `dns:host:443`. */
  refusal(target: string): StatusObject | undefined {
    if (this.plaintextTargets.has(target)) {
      return localStatus(
        status.FAILED_PRECONDITION,
        `grpc-jwt-auth: not sending a bearer token to ${target}: channelSecurity is 'tls' but the channel is plaintext`,
      );
    }
    if (this.security !== undefined) return undefined;
    if (!isLoopbackTarget(target)) {
      return localStatus(
        status.FAILED_PRECONDITION,
        `grpc-jwt-auth: not sending a bearer token to ${target}: it is not a loopback address, and an interceptor cannot see whether the channel uses TLS. ` +
          "Set channelSecurity: 'tls' on a TLS channel (or use createCallCredentials), or channelSecurity: 'insecure' to send tokens in plaintext knowingly",
      );
    }
    const risk = proxyRisk(target, readProxyVariables(this.env, 'call')) ?? proxyRisk(target, this.proxiesAtCreation);
    return risk && localStatus(status.FAILED_PRECONDITION, proxyRefusal(target, risk));
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
