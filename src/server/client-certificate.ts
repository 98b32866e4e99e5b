/**
 * Where the server learns which client certificate a call presented, for certificate-bound tokens
 * (RFC 8705): the certificate grpc-js verified, or what a `clientCertificate` hook says (behind a proxy
 * that terminates TLS). Read lazily, only for a call whose token is bound or whose issuer requires binding.
 */
import type { Metadata, ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { AuthError } from '../errors/auth-error.ts';
import { describeForLog, thrownText } from '../errors/log-text.ts';
import { presentedThumbprint, thumbprintFromFingerprint256, thumbprintOfDer } from '../verify/certificate-thumbprint.ts';
import { writeLog, type Logger } from './logger.ts';

/**
 * grpc-js's transport facts of a server call (`call.getAuthContext()`): `transportSecurityType` and the
 * verified `sslPeerCertificate`. Named here because grpc-js does not export the type from its root.
 *
 * @example
 * ```ts
 * import type { TransportAuthContext } from 'grpc-jwt-auth';
 * const proxyIsTrusted = (context: TransportAuthContext): boolean => context.sslPeerCertificate?.subject?.CN === 'envoy-sidecar';
 * ```
 */
export type TransportAuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;

/**
 * What a {@link ClientCertificateHook} is told about the call.
 *
 * @example
 * ```ts
 * import type { ClientCertificateCall } from 'grpc-jwt-auth';
 * const fromSidecar = ({ peer }: ClientCertificateCall): boolean => peer.startsWith('127.0.0.1:');
 * ```
 */
export interface ClientCertificateCall {
  /** The full gRPC method path. */
  readonly method: string;
  /** The call's metadata, e.g. a header your proxy sets (and strips from what clients send). */
  readonly metadata: Metadata;
  /** The direct peer's address (`call.getPeer()`): the proxy's, behind one. */
  readonly peer: string;
  /**
   * The direct connection's TLS facts (`call.getAuthContext()`, grpc-js ≥ 1.14.5): the proxy's own
   * client certificate when it connects over mutual TLS. Read on access only (it costs ~100 µs).
   */
  readonly authContext: TransportAuthContext;
}

/**
 * Tells which client certificate a call presented, when grpc-js cannot: behind a proxy that terminates
 * TLS. Returns the certificate's `x5t#S256` (base64url SHA-256 of its DER, 43 characters) or its DER
 * bytes, or undefined when the call presented none. Synchronous. Anything else it returns, or a throw,
 * ends the call with INTERNAL. Trust a header only when the proxy overwrites it on every request and the
 * server can be reached only through that proxy (check `peer` or `authContext`): otherwise any client
 * that reaches the server directly forges it. See the README's "Certificate-bound tokens (RFC 8705)".
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type ClientCertificateHook } from 'grpc-jwt-auth';
 * // Envoy behind mTLS: forward_client_cert_details SANITIZE_SET puts `Hash=<hex SHA-256 of the DER>` in XFCC.
 * const fromEnvoy: ClientCertificateHook = ({ metadata, authContext }) => {
 *   if (authContext.sslPeerCertificate?.subject.CN !== 'envoy') return undefined; // not through the proxy
 *   // Exactly one header with exactly one Hash: anything more means a client's own XFCC got through
 *   // (a proxy not set to SANITIZE_SET appends to it), so none is trusted.
 *   const values = metadata.get('x-forwarded-client-cert');
 *   const hashes = values.length === 1 ? [...String(values[0]).matchAll(/(?:^|[;,])Hash=([0-9a-f]{64})(?=[;,]|$)/g)] : [];
 *   return hashes.length === 1 ? Buffer.from(hashes[0]![1]!, 'hex').toString('base64url') : undefined;
 * };
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], clientCertificate: fromEnvoy });
 * ```
 */
export type ClientCertificateHook = (call: ClientCertificateCall) => string | Uint8Array | undefined;

/**
 * The `x5t#S256` of the call's client certificate, or undefined when it presented none; throws an
 * {@link AuthError} (INTERNAL) when the hook fails.
 */
export type CertificateSource = (call: ServerInterceptingCallInterface, metadata: Metadata, method: string) => string | undefined;

function hookFailed(message: string, cause?: unknown): AuthError {
  return new AuthError('ERR_AUTH_INTERNAL', `clientCertificate hook ${message}`, { cause });
}

/** What a hook returned, as a thumbprint: a canonical x5t#S256 as it is, DER bytes hashed. */
function thumbprintOfAnswer(answer: unknown): string | undefined {
  if (answer === undefined) return undefined;
  if (answer instanceof Uint8Array && answer.length === 0) return undefined;
  const thumbprint = presentedThumbprint(answer);
  if (thumbprint !== undefined) return thumbprint;
  // A hex hash, a PEM or the raw 32-byte hash by mistake would match no token: say so rather than refuse
  // every bound call as MISMATCH.
  const what = answer instanceof Uint8Array ? `${answer.length} bytes that are not DER` : `${describeForLog(answer)} (${typeof answer})`;
  throw hookFailed(`returned ${what}, not an x5t#S256 (43 base64url characters), DER bytes or undefined`);
}

/**
 * The certificate grpc-js verified for this call: present only when the server asked for client
 * certificates and the handshake verified one against its CA (`createSsl(ca, pairs, true)`); grpc-js
 * ≥ 1.14.5 gives none for a certificate it did not verify, so a self-signed one never counts. No cache:
 * a call object is all there is per connection, and keying on the peer's address would hand one
 * client's certificate to the next client reusing its port.
 */
function verifiedCertificate(call: ServerInterceptingCallInterface): string | undefined {
  const certificate = call.getAuthContext().sslPeerCertificate;
  if (certificate === undefined) return undefined;
  return thumbprintFromFingerprint256(certificate.fingerprint256) ?? (certificate.raw?.length ? thumbprintOfDer(certificate.raw) : undefined);
}

/**
 * Compiles where client certificates are read: the hook when given, else the verified TLS certificate.
 * Never a header by default: a default that trusted `x-forwarded-client-cert` would let any client that
 * reaches the server directly forge the thumbprint of the certificate a stolen token is bound to, which
 * would make binding worthless. With a grpc-js that has no `getAuthContext` (< 1.14), no call has a
 * certificate: bound tokens are refused (`ERR_AUTH_CERTIFICATE_MISSING`) and the logger warns once.
 *
 * @example
 * ```ts
 * const source = certificateSource(undefined, undefined);
 * // in an interceptor: source(call, metadata, '/acme.orders.v1.Orders/GetOrder') → 'x5t#S256' | undefined
 * ```
 */
export function certificateSource(hook: ClientCertificateHook | undefined, logger: Logger | undefined): CertificateSource {
  if (hook !== undefined) {
    return (call, metadata, method) => {
      let answer: unknown;
      try {
        answer = hook({
          method,
          metadata,
          peer: call.getPeer(),
          get authContext() {
            return call.getAuthContext();
          },
        });
      } catch (error) {
        throw hookFailed(`threw: ${thrownText(error)}`, error);
      }
      return thumbprintOfAnswer(answer);
    };
  }
  let warned = false;
  return (call, _metadata, method) => {
    if (typeof (call as Partial<ServerInterceptingCallInterface>).getAuthContext === 'function') return verifiedCertificate(call);
    if (!warned) {
      warned = true;
      writeLog(logger, 'warn', () => [
        { method },
        'grpc-jwt-auth: this grpc-js has no call.getAuthContext() (needs >= 1.14.5): certificate-bound tokens are refused',
      ]);
    }
    return undefined;
  };
}
