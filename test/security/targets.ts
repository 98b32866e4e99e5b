/**
 * The servers under attack: the real interceptor in its three key configurations (a shared secret, PEM
 * public keys, a remote JWKS on a loopback provider), each with a handler-run counter. Every attack is a
 * real gRPC call; after it, a good call must still succeed.
 */
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, fromJwks, fromPem, fromSecret, type KeyResolver } from '../../src/index.ts';
import { unary, type Outcome } from '../support/calls.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { goodClaims, hmacToken, keyToken, rawToken } from './forge.ts';

export const ISSUER = 'https://idp.security.test/';
export const AUDIENCE = 'security-api';

export interface Target {
  readonly name: 'secret' | 'pem' | 'jwks';
  readonly echo: EchoServer;
  /** The algorithms the target allows. */
  readonly algorithms: readonly string[];
  /** Signs a token the target must accept. */
  good(claims?: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** Signs an ES256 token with the trusted EC key (P-256), in JOSE or DER signature form; undefined for the secret target. */
  readonly ecToken: ((dsaEncoding: 'ieee-p1363' | 'der') => string) | undefined;
  /** Signs arbitrary payload text with the trusted key (the payload need not be a JSON object). */
  raw(payload: string | Uint8Array, header?: Record<string, unknown>): string;
  /** The kid of the trusted key. */
  readonly kid: string;
  /** Public material an attacker knows (undefined for the secret target). */
  readonly rsaPublicKey: KeyObject | undefined;
  readonly ecPublicKey: KeyObject | undefined;
}

export interface Targets {
  readonly all: readonly Target[];
  /** A loopback listener that counts requests: nothing may ever call it. */
  readonly trap: { readonly url: string; requests: number };
  /** Requests the JWKS provider received. */
  jwksRequests(): number;
  close(): Promise<void>;
}

async function listen(server: HttpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startTargets(): Promise<Targets> {
  const secret = randomBytes(32);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;
  const jwk = (key: KeyObject, kid: string, alg: string) => ({ ...key.export({ format: 'jwk' }), kid, alg, use: 'sig' });

  const trap = { url: '', requests: 0 };
  const trapServer = createServer((_request, response) => {
    trap.requests += 1;
    response.end('{}');
  });
  trap.url = await listen(trapServer);

  let jwksRequests = 0;
  const jwksServer = createServer((_request, response) => {
    jwksRequests += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [jwk(rsa.publicKey, 'rsa-1', 'RS256'), jwk(ec.publicKey, 'ec-1', 'ES256')] }));
  });
  const jwksUrl = `${await listen(jwksServer)}/jwks.json`;

  const common = { issuer: ISSUER, audience: AUDIENCE };
  const start = (keys: KeyResolver, algorithms: Array<'HS256' | 'RS256' | 'ES256'>) =>
    startEchoServer({ interceptors: [createAuthInterceptor({ ...common, keys, algorithms })] });
  const [secretEcho, pemEcho, jwksEcho] = await Promise.all([
    start(fromSecret({ 'hs-1': secret }), ['HS256']),
    start(fromPem({ 'rsa-1': pem(rsa.publicKey), 'ec-1': pem(ec.publicKey) }), ['RS256', 'ES256']),
    start(fromJwks(jwksUrl), ['RS256', 'ES256']),
  ]);
  const claims = (extra?: Record<string, unknown>) => goodClaims(ISSUER, AUDIENCE, extra);
  const ecToken = (dsaEncoding: 'ieee-p1363' | 'der') => keyToken('ES256', ec.privateKey, { kid: 'ec-1' }, claims(), dsaEncoding);
  const all: Target[] = [
    {
      name: 'secret',
      echo: secretEcho,
      algorithms: ['HS256'],
      kid: 'hs-1',
      rsaPublicKey: undefined,
      ecPublicKey: undefined,
      ecToken: undefined,
      raw: (p, h) => rawToken('HS256', secret, { kid: 'hs-1', ...h }, p),
      good: (c, h) => hmacToken('HS256', secret, { kid: 'hs-1', ...h }, claims(c)),
    },
    {
      name: 'pem',
      echo: pemEcho,
      algorithms: ['RS256', 'ES256'],
      kid: 'rsa-1',
      rsaPublicKey: rsa.publicKey,
      ecPublicKey: ec.publicKey,
      ecToken,
      raw: (p, h) => rawToken('RS256', rsa.privateKey, { kid: 'rsa-1', ...h }, p),
      good: (c, h) => keyToken('RS256', rsa.privateKey, { kid: 'rsa-1', ...h }, claims(c)),
    },
    {
      name: 'jwks',
      echo: jwksEcho,
      algorithms: ['RS256', 'ES256'],
      kid: 'rsa-1',
      rsaPublicKey: createPublicKey(pem(rsa.publicKey)),
      ecPublicKey: ec.publicKey,
      ecToken,
      raw: (p, h) => rawToken('RS256', rsa.privateKey, { kid: 'rsa-1', ...h }, p),
      good: (c, h) => keyToken('RS256', rsa.privateKey, { kid: 'rsa-1', ...h }, claims(c)),
    },
  ];
  return {
    all,
    trap,
    jwksRequests: () => jwksRequests,
    async close() {
      await Promise.all(all.map((target) => target.echo.close()));
      trapServer.closeAllConnections();
      jwksServer.closeAllConnections();
      await Promise.all([new Promise((r) => trapServer.close(r)), new Promise((r) => jwksServer.close(r))]);
    },
  };
}

/** Metadata with one bearer token. */
export function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/**
 * The assertion every attack ends with: the call is refused with `code`, the handler never ran, and the
 * next good call on the same server succeeds.
 */
export async function expectRefused(target: Target, token: string, code: number = grpc.status.UNAUTHENTICATED): Promise<Outcome> {
  const runsBefore = target.echo.runs.unary;
  const outcome = await unary(target.echo.client, bearer(token));
  assert.equal(outcome.code, code, `${target.name}: expected status ${code}, got ${outcome.code} (${outcome.reason ?? outcome.details})`);
  assert.equal(target.echo.runs.unary, runsBefore, `${target.name}: the handler must not run`);
  const good = await unary(target.echo.client, bearer(target.good()));
  assert.equal(good.code, grpc.status.OK, `${target.name}: the next good call must succeed`);
  return outcome;
}
