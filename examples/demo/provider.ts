/**
 * The demo's identity provider: the test issuer served on a loopback port, with OpenID Connect
 * discovery, a JWKS and an OAuth 2.0 token endpoint. It stands in for Keycloak, Auth0, Okta, Entra ID...
 */
import { createTestIssuer, type ServedIssuer, type TestIssuer } from 'grpc-jwt-auth/testing';

/** The client registered at the provider. Its secret is a demo value: in production it comes from a secret store. */
export const CLIENT = { id: 'orders-app', secret: 'demo-secret-not-for-production', scope: 'orders:read' } as const;
/** A second client, whose tokens are DPoP-bound (RFC 9449): the provider refuses it a token without a proof. */
export const DPOP_CLIENT = { id: 'orders-dpop-app', secret: 'demo-dpop-secret-not-for-production', scope: 'orders:read' } as const;
/** The audience of the tokens, which the server requires. */
export const AUDIENCE = 'orders-api';
/** Access tokens live 4 seconds, so the demo can show refreshes and expiry without waiting long. */
export const TOKEN_LIFETIME_SECONDS = 4;
/**
 * The client starts refreshing this long before its token expires. The default is a tenth of the
 * lifetime (at most 60 s), which for 4-second tokens would leave too thin a margin to see.
 */
export const REFRESH_BEFORE_SECONDS = 1;
/**
 * How long servers may cache the key set (`Cache-Control: max-age`). Real providers say hours; two seconds
 * let the demo show a server picking up a newly published key on its regular refresh.
 */
export const JWKS_MAX_AGE_SECONDS = 2;

export interface Provider {
  readonly issuer: TestIssuer;
  readonly served: ServedIssuer;
}

/**
 * Starts the provider on 127.0.0.1, any free port.
 *
 * @example
 * ```ts
 * const { issuer, served } = await startProvider();
 * console.log(served.url, served.tokenUrl);
 * ```
 */
export async function startProvider(): Promise<Provider> {
  const issuer = await createTestIssuer({ alg: 'ES256', audience: AUDIENCE });
  const served = await issuer.serve({
    token: {
      clients: {
        [CLIENT.id]: { secret: CLIENT.secret, scope: CLIENT.scope },
        [DPOP_CLIENT.id]: { secret: DPOP_CLIENT.secret, scope: DPOP_CLIENT.scope, dpop: 'required' },
      },
      accessTokenLifetime: TOKEN_LIFETIME_SECONDS,
    },
    jwksMaxAge: JWKS_MAX_AGE_SECONDS,
  });
  return { issuer, served };
}
