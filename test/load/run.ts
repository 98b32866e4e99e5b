/**
 * `npm run load`: 200,000 calls over loopback against a real server with the interceptor (a child
 * process, so its memory is measured alone), at high concurrency, mixing valid, expired, forged and
 * unauthorized (scope guard refuses) tokens. Each call's expected status is known in advance. Targets:
 * zero misclassified calls, zero crashes, server RSS back near its start. Prints a summary; exits 1 when
 * a target is missed. Knobs: LOAD_CALLS, LOAD_CONCURRENCY, LOAD_CHANNELS, LOAD_TIMEOUT_MS.
 *
 * `npm run load -- flood` runs `test/load/forged-flood.ts` instead: admitted-caller latency p50/p99 with
 * and without a flood of distinct forged tokens, with and without `maxConcurrentVerifications`.
 */
import { fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { EchoClient } from '../support/echo-server.ts';
import { keyToken } from '../security/forge.ts';
import { LOAD_AUDIENCE, LOAD_ISSUER, LOAD_SCOPE } from './load-server.ts';

const CALLS = Number(process.env.LOAD_CALLS ?? 200_000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 256);
const CHANNELS = Number(process.env.LOAD_CHANNELS ?? 4);
const TIMEOUT_MS = Number(process.env.LOAD_TIMEOUT_MS ?? 10 * 60_000);
/** The server's RSS after the run may exceed its RSS after warm-up by at most this much. */
const RSS_SLACK = 64 * 1024 * 1024;

type TokenClass = 'valid' | 'expired' | 'forged' | 'unauthorized';
const EXPECTED: Readonly<Record<TokenClass, number>> = {
  valid: grpc.status.OK,
  expired: grpc.status.UNAUTHENTICATED,
  forged: grpc.status.UNAUTHENTICATED,
  unauthorized: grpc.status.PERMISSION_DENIED,
};
// Of every 20 calls: 11 valid, 3 expired, 3 forged, 3 unauthorized.
const PATTERN: readonly TokenClass[] = [...Array(11).fill('valid'), ...Array(3).fill('expired'), ...Array(3).fill('forged'), ...Array(3).fill('unauthorized')];

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The server child and a request/reply channel to it. */
function startChild() {
  const child = fork(fileURLToPath(new URL('./load-server.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: 'inherit' });
  let nextId = 0;
  const waiting = new Map<number, (reply: any) => void>();
  const exits: string[] = [];
  child.on('message', (reply: { id: number }) => waiting.get(reply.id)?.(reply));
  child.on('exit', (code, signal) => exits.push(`exit code ${code} signal ${signal}`));
  const ask = (request: object): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (reply) => {
        waiting.delete(id);
        if (reply.error) reject(new Error(reply.error));
        else resolve(reply);
      });
      child.send({ id, ...request });
    });
  return { child, ask, exits };
}

function tokenPools(): Record<TokenClass, string[]> {
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Math.floor(Date.now() / 1000);
  const claims = (i: number, extra: Record<string, unknown>) => ({
    iss: LOAD_ISSUER,
    aud: LOAD_AUDIENCE,
    sub: `user-${i}`,
    iat: now,
    exp: now + 3600,
    scope: LOAD_SCOPE,
    jti: `j${i}`,
    ...extra,
  });
  const make = (count: number, sign: (i: number) => string) => Array.from({ length: count }, (_, i) => sign(i));
  const pools = {
    valid: make(2000, (i) => keyToken('ES256', signer.privateKey, { kid: 'ec-1' }, claims(i, {}))),
    expired: make(500, (i) => keyToken('ES256', signer.privateKey, { kid: 'ec-1' }, claims(i, { iat: now - 7200, exp: now - 3600 }))),
    forged: make(500, (i) => keyToken('ES256', attacker.privateKey, { kid: 'ec-1' }, claims(i, {}))),
    unauthorized: make(500, (i) => keyToken('ES256', signer.privateKey, { kid: 'ec-1' }, claims(i, { scope: 'other:thing' }))),
  };
  return Object.assign(pools, { pem: signer.publicKey.export({ type: 'spki', format: 'pem' }) as string }) as never;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const pools = tokenPools() as Record<TokenClass, string[]> & { pem: string };
  const server = startChild();
  const { port } = await server.ask({ start: { pem: pools.pem } });
  const cold = await server.ask({ rss: { gc: true } });
  const clients = Array.from(
    { length: CHANNELS },
    () => new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as grpc.Client & Record<string, any>,
  );

  const outcomes = new Map<string, number>();
  const misclassified: string[] = [];
  let peak = cold.rss as number;
  let done = 0;

  const call = (index: number): Promise<void> => {
    const tokenClass = PATTERN[index % PATTERN.length] as TokenClass;
    const pool = pools[tokenClass];
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${pool[index % pool.length]}`);
    const client = clients[index % clients.length] as grpc.Client & Record<string, any>;
    // No per-call deadline (its timer costs a third of grpc-js's throughput here); LOAD_TIMEOUT_MS bounds the run.
    const options = {};
    const streaming = index % 10 === 0;
    return new Promise<number>((resolve) => {
      if (!streaming) {
        client.Unary({ text: 'load' }, metadata, options, (error: grpc.ServiceError | null) => resolve(error ? error.code : grpc.status.OK));
        return;
      }
      const stream = client.ServerStream({ text: 'load' }, metadata, options);
      stream.on('data', () => undefined);
      stream.on('error', () => undefined);
      stream.on('status', (status: grpc.StatusObject) => resolve(status.code));
    }).then((code) => {
      done += 1;
      const key = `${tokenClass} → ${grpc.status[code] ?? code}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (code !== EXPECTED[tokenClass] && misclassified.length < 20)
        misclassified.push(`#${index} ${tokenClass} ${streaming ? 'stream' : 'unary'}: ${grpc.status[code] ?? code}`);
      else if (code !== EXPECTED[tokenClass]) misclassified.push('...');
    });
  };

  const run = async (from: number, count: number): Promise<void> => {
    let next = from;
    const worker = async (): Promise<void> => {
      while (next < from + count) await call(next++);
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };

  await run(0, 2000);
  const warm = await server.ask({ rss: { gc: true } });
  outcomes.clear();
  misclassified.length = 0;
  done = 0;
  const sampler = setInterval(() => {
    server.ask({ rss: { gc: false } }).then(
      (sample) => {
        peak = Math.max(peak, sample.rss);
      },
      () => undefined,
    );
  }, 200);
  const loadStart = Date.now();
  const finished = await Promise.race([
    run(2000, CALLS).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), TIMEOUT_MS).unref()),
  ]);
  const seconds = (Date.now() - loadStart) / 1000;
  clearInterval(sampler);
  const end = await server.ask({ rss: { gc: true } });
  peak = Math.max(peak, end.rss);
  for (const client of clients) client.close();
  await server.ask({ stop: true }).catch(() => undefined);

  const wrong = [...outcomes].filter(([key]) => {
    const [tokenClass, status] = key.split(' → ') as [TokenClass, string];
    return grpc.status[EXPECTED[tokenClass]] !== status;
  });
  const rssOk = end.rss <= warm.rss + RSS_SLACK;
  const lines = [
    `load: ${done} calls (${CALLS} planned) in ${seconds.toFixed(1)} s, ${Math.round(done / seconds)} calls/s, concurrency ${CONCURRENCY} over ${CHANNELS} channels, 10% server-streaming`,
    ...[...outcomes].sort().map(([key, count]) => `  ${key}: ${count}`),
    `misclassified: ${done === CALLS ? wrong.reduce((sum, [, count]) => sum + count, 0) : 'run incomplete'}${misclassified.length ? ` (${misclassified.slice(0, 5).join('; ')})` : ''}`,
    `server crashes: ${server.exits.filter((exit) => !exit.startsWith('exit code 0')).length}`,
    `server RSS: cold ${mib(cold.rss)}, after warm-up ${mib(warm.rss)}, peak ${mib(peak)}, end (after GC) ${mib(end.rss)} (${end.rss >= warm.rss ? '+' : ''}${mib(end.rss - warm.rss)} vs warm-up); heap used end ${mib(end.heapUsed)}`,
    `total wall time ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
  ];
  console.log(lines.join('\n'));
  const ok = finished && done === CALLS && wrong.length === 0 && rssOk && server.exits.every((exit) => exit.startsWith('exit code 0'));
  console.log(ok ? 'load: all targets met' : 'load: TARGET MISSED');
  process.exitCode = ok ? 0 : 1;
}

// `npm run load -- flood`: admitted-caller latency under a flood of forged tokens (test/load/forged-flood.ts).
if (process.argv.includes('flood')) await import('./forged-flood.ts');
else await main();
