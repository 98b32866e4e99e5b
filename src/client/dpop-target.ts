/**
 * The DPoP side of one gRPC call: which `htu` its proof names, the proof itself with the nonce last seen
 * for that origin, and the nonces the server sends back (`dpop-nonce` in headers or trailers).
 */
import type { InterceptorOptions, Metadata } from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { parseTarget, splitHostPort } from './channel-target.ts';
import type { DpopKey } from './dpop-key.ts';
import { nonceFor, rememberNonce } from './dpop-nonces.ts';

/**
 * The origin grpc-js itself names a call by, for call credentials (`computeServiceUrl` in grpc-js 1.10 to
 * 1.14): `https://` and the host of the call's authority without its port, that authority being the
 * call's `host` option or else the channel target's default authority (`host:port` of a `dns:` target,
 * the first address of an `ipv4:`/`ipv6:` list, `localhost` for unix sockets). Unlike grpc-js, an IPv6
 * host is put in brackets and an internationalised name is given as its punycode A-label, so that the
 * result is the origin of a URL. The `grpc.default_authority` channel option is
 * invisible to interceptors: with it, or behind a proxy that serves another name, set `dpop.origin`.
 *
 * @example
 * ```ts
 * defaultDpopOrigin('dns:orders.example:443', undefined); // 'https://orders.example'
 * defaultDpopOrigin('unix:/run/orders.sock', undefined); // 'https://localhost'
 * defaultDpopOrigin('ipv6:[::1]:50051', undefined); // 'https://[::1]'
 * ```
 */
export function defaultDpopOrigin(target: string, host: string | undefined): string | undefined {
  const authority = host ?? defaultAuthority(target);
  const hostname = (authority === undefined ? undefined : splitHostPort(authority)?.host) || 'localhost';
  const bracketed = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
  const url = URL.parse(`https://${bracketed}`);
  // A host that is no URL host (a `/`, `@`, `?` or `#` in it, say) names no origin: the call fails and says
  // to set one. Compared by what it parsed to, not as text: an internationalised name becomes its punycode
  // A-label, as it does in the server's parse of the htu.
  const hostOnly = url !== null && url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  return hostOnly && url.port === '' ? url.origin : undefined;
}

/** What grpc-js's resolvers give as a target's default authority. */
function defaultAuthority(target: string): string | undefined {
  const parsed = parseTarget(target);
  if (parsed === undefined) return undefined;
  const scheme = parsed.scheme?.toLowerCase();
  if (scheme === 'unix' || scheme === 'unix-abstract') return 'localhost';
  if (scheme === 'ipv4' || scheme === 'ipv6') return parsed.path.split(',')[0];
  return parsed.path;
}

/**
 * A proof ready to go with one attempt of a call.
 *
 * @example
 * ```ts
 * import type { PreparedProof } from './dpop-target.ts';
 * const prepared: PreparedProof = { proof: 'eyJ...', origin: 'https://orders.example', nonce: undefined };
 * ```
 */
export interface PreparedProof {
  readonly proof: string;
  /** The origin of its `htu`: where a `dpop-nonce` of the answer is remembered. */
  readonly origin: string;
  /** The nonce it carries. */
  readonly nonce: string | undefined;
}

/**
 * The proofs of one token interceptor: `htu` = `origin` (or {@link defaultDpopOrigin}) + method path.
 *
 * @example
 * ```ts
 * import type { CallProofs } from './dpop-target.ts';
 * declare const proofs: CallProofs;
 * declare const options: import('@grpc/grpc-js').InterceptorOptions;
 * const prepared = await proofs.prepare('dns:orders.example:443', options, token);
 * ```
 */
export interface CallProofs {
  /** The DPoP key; the interceptor refuses a token source bound to another. */
  readonly key: DpopKey;
  /**
   * A proof for a call to `target` with `accessToken`, carrying `nonce` when given (the nonce a refusal
   * just asked for), else the nonce last seen for its origin; rejects when none can be made.
   */
  prepare(target: string, options: InterceptorOptions, accessToken: string, nonce?: string): Promise<PreparedProof>;
  /** Remembers a `dpop-nonce` in `metadata` for `origin`; returns it when one was stored. */
  observe(origin: string, metadata: Metadata | undefined): string | undefined;
}

/**
 * The {@link CallProofs} of a key; `origin` fixed by the user, or undefined for the default.
 *
 * @example
 * ```ts
 * import { createDpopKey } from 'grpc-jwt-auth/client';
 * const proofs = createCallProofs(await createDpopKey(), 'https://orders.example');
 * ```
 */
export function createCallProofs(key: DpopKey, origin: string | undefined): CallProofs {
  return {
    key,
    async prepare(target, options, accessToken, asked) {
      const callOrigin = origin ?? defaultDpopOrigin(target, typeof options.host === 'string' ? options.host : undefined);
      if (callOrigin === undefined) throw new Error('no DPoP origin for this channel target; set dpop.origin');
      // The nonce a refusal asked for, not the cache: another call's late answer may have put an older one there.
      const nonce = asked ?? nonceFor(key, callOrigin);
      const proof: unknown = await key.proof({ htu: `${callOrigin}${options.method_definition.path}`, htm: 'POST', accessToken, nonce });
      if (typeof proof !== 'string') throw new Error('the DPoP key gave a proof that is not a string');
      return { proof, origin: callOrigin, nonce };
    },
    observe(callOrigin, metadata) {
      const value = metadata?.get('dpop-nonce')[0];
      return rememberNonce(key, callOrigin, value) ? value : undefined;
    },
  };
}
