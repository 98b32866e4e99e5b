import { Metadata, credentials, type CallCredentials } from '@grpc/grpc-js';
import { AuthConfigError } from '../errors/config-error.ts';
import { keyOfSource } from './dpop-sources.ts';
import { toTokenSupplier, type TokenSource } from './token-source.ts';
import { tokenFailureStatus } from './token-status.ts';

/**
 * grpc-js call credentials that send `authorization: Bearer <token>`: the grpc-native way on TLS
 * channels. grpc-js itself refuses to combine call credentials with insecure channel credentials, so
 * combined into the channel credentials these never send a token in plaintext, HTTP proxy or not (TLS
 * runs end to end through the proxy's tunnel). Do not pass them per call (`{ credentials }` in the call
 * options) on an insecure channel: grpc-js sends per-call credentials whatever the channel, there in
 * plaintext, and nothing in a metadata generator can see the channel to stop it. On a local insecure
 * channel use {@link createTokenInterceptor} instead.
 *
 * Call credentials see no answers, so they cannot retry a call the server refused as expired; a
 * {@link cachedToken} source still refreshes ahead of expiry. If a token cannot be had, the call fails
 * with UNAVAILABLE or UNAUTHENTICATED, as with the interceptor.
 *
 * No DPoP here: call credentials never see the server's answer, so they cannot learn the `dpop-nonce` a
 * server asks for, nor retry a call refused for want of it; and their `service_url` names the service,
 * not the method a proof's `htu` must name. A token source made with a `dpop` key is refused
 * ({@link AuthConfigError}: its tokens are useless as Bearer tokens); use {@link createTokenInterceptor}.
 *
 * @example
 * ```ts
 * import { Client, credentials } from '@grpc/grpc-js';
 * import { clientCredentials, createCallCredentials } from 'grpc-jwt-auth/client';
 * declare const OrdersClient: typeof Client;
 * const token = clientCredentials({ tokenUrl: 'https://idp.example/oauth/token', clientId: 'worker', clientSecret: secret });
 * const channel = credentials.combineChannelCredentials(credentials.createSsl(), createCallCredentials(token));
 * const client = new OrdersClient('orders.example:443', channel);
 * ```
 */
export function createCallCredentials(token: TokenSource): CallCredentials {
  if (keyOfSource(token) !== undefined) {
    throw new AuthConfigError('token', 'its tokens are DPoP-bound, which call credentials cannot send (no nonces); use createTokenInterceptor');
  }
  const tokens = toTokenSupplier(token, 'token');
  return credentials.createFromMetadataGenerator((_context, callback) => {
    // Two steps, so that an error building the metadata also reaches the callback (the call then ends
    // with a status) instead of becoming an unhandled rejection that ends the process. grpc-js's callback
    // only settles a promise of its own and cannot throw.
    tokens
      .get()
      .then((value) => {
        const metadata = new Metadata();
        metadata.set('authorization', `Bearer ${value}`);
        return metadata;
      })
      .then(
        (metadata) => callback(null, metadata),
        (error: unknown) => {
          const failure = tokenFailureStatus(error);
          // grpc-js ends the call with this `code`; UNAVAILABLE and UNAUTHENTICATED pass its filter unchanged.
          callback(Object.assign(new Error(failure.details), { code: failure.code }));
        },
      );
  });
}
