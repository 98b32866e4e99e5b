/**
 * The interceptors a user would write by hand around other JWT libraries, for comparison. Each reads the
 * bearer token, verifies it, and either admits the call or ends it with UNAUTHENTICATED.
 */
import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { createVerifier } from 'fast-jwt';
import { importSPKI, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { AUDIENCE, ISSUER } from './fixtures.ts';

type Verify = (token: string) => unknown;

/** A hand-written interceptor around `verify`: bearer token in, the call admitted or ended UNAUTHENTICATED. */
export function handWritten(verify: Verify): ServerInterceptor {
  return (_descriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const header = metadata.get('authorization')[0];
            const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
            Promise.resolve()
              .then(() => verify(token))
              .then(
                () => nextMetadata(metadata),
                () => call.sendStatus({ code: status.UNAUTHENTICATED, details: 'invalid token' }),
              );
          },
        });
      },
    });
}

export function jsonwebtokenPeer(publicPem: string): ServerInterceptor {
  return handWritten((token) => jsonwebtoken.verify(token, publicPem, { algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE }));
}

export async function josePeer(publicPem: string): Promise<ServerInterceptor> {
  const key = await importSPKI(publicPem, 'RS256');
  return handWritten((token) => jwtVerify(token, key, { algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE }));
}

/** fast-jwt with its own verified-token cache; `key` is the PEM of a public key or an HMAC secret. */
export function fastJwtPeer(key: string | Uint8Array, algorithm: 'HS256' | 'RS256' | 'ES256' | 'EdDSA' = 'RS256'): ServerInterceptor {
  const verify = createVerifier({
    key: typeof key === 'string' ? key : Buffer.from(key),
    algorithms: [algorithm],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: true,
  });
  return handWritten((token) => verify(token));
}

/**
 * An interceptor that reads the authorization metadata and admits every call: the cost grpc-js charges
 * for any metadata-checking interceptor, the floor under every authenticating scenario.
 */
export function passThrough(): ServerInterceptor {
  return (_descriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            metadata.get('authorization');
            nextMetadata(metadata);
          },
        });
      },
    });
}
