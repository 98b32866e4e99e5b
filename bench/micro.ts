/**
 * Micro-benchmarks of the verify path alone (no gRPC), against raw jose and raw node:crypto, and the
 * memory run: 1,000,000 authentications over 100,000 distinct tokens. Run as a child process with
 * --expose-gc so the RSS figures start clean. Prints one JSON object.
 */
import { createPublicKey, verify as cryptoVerify, createHmac, timingSafeEqual } from 'node:crypto';
import { importSPKI, jwtVerify } from 'jose';
import { underTest } from './library.ts';
import { AUDIENCE, ISSUER, makeFixture, signManyHs256, signToken } from './fixtures.ts';
import { interceptorPath } from './interceptor-path.ts';

const { createAuthenticator, fromPem, fromSecret } = underTest;

const METHOD = '/bench.v1.Bench/Call';

/** Nanoseconds per operation of a synchronous loop. */
function timeSync(iterations: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(10_000, iterations); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/**
 * CPU nanoseconds per operation of an asynchronous path, one at a time (so concurrent calls with the same
 * token cannot share a verification): WebCrypto work runs on the thread pool, so CPU time of the whole
 * process is the figure, not one call's latency.
 */
async function cpuAsync(iterations: number, fn: () => unknown): Promise<number> {
  const runBatch = async (count: number) => {
    for (let done = 0; done < count; done += 1) await fn();
  };
  await runBatch(200);
  const before = process.cpuUsage();
  await runBatch(iterations);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / iterations;
}

async function verifyPath() {
  const rs = makeFixture('RS256');
  const hs = makeFixture('HS256');
  const rsToken = await signToken(rs, 'micro');
  const hsToken = await signToken(hs, 'micro');
  const rsPem = rs.publicPem as string;
  const cached = createAuthenticator({ keys: fromPem({ 'bench-key': rsPem }), algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE });
  await cached.authenticate(rsToken, METHOD);
  const cachedHs = createAuthenticator({
    keys: fromSecret({ 'bench-key': hs.publicKey as Uint8Array }),
    algorithms: ['HS256'],
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  await cachedHs.authenticate(hsToken, METHOD);
  const uncached = createAuthenticator({ keys: fromPem({ 'bench-key': rsPem }), algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE, cache: false });
  const uncachedHs = createAuthenticator({
    keys: fromSecret({ 'bench-key': hs.publicKey as Uint8Array }),
    algorithms: ['HS256'],
    issuer: ISSUER,
    audience: AUDIENCE,
    cache: false,
  });
  const joseKey = await importSPKI(rsPem, 'RS256');
  const [header, payload, signature] = rsToken.split('.') as [string, string, string];
  const signingInput = Buffer.from(`${header}.${payload}`);
  const signatureBytes = Buffer.from(signature, 'base64url');
  const publicKey = createPublicKey(rsPem);
  const [hsHeader, hsPayload, hsSignature] = hsToken.split('.') as [string, string, string];
  const hsSignatureBytes = Buffer.from(hsSignature, 'base64url');
  // The asynchronous paths are measured A B C, A B C, A B C and the median kept: measured once each, in
  // order, the first one pays for warm-up and GC left by the previous step.
  const asyncPaths = await interleavedMedians(3, {
    'lib full verify RS256, CPU (ns)': () => cpuAsync(2_000, () => uncached.authenticate(rsToken, METHOD)),
    'raw jose.jwtVerify RS256, pre-imported key, CPU (ns)': () =>
      cpuAsync(2_000, () => jwtVerify(rsToken, joseKey, { algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE })),
    'lib full verify HS256, CPU (ns)': () => cpuAsync(2_000, () => uncachedHs.authenticate(hsToken, METHOD)),
  });
  return {
    'lib cache hit RS256 (ns)': timeSync(300_000, () => cached.authenticate(rsToken, METHOD)),
    'lib cache hit HS256 (ns)': timeSync(300_000, () => cachedHs.authenticate(hsToken, METHOD)),
    ...asyncPaths,
    'raw node:crypto RS256 signature (ns)': timeSync(3_000, () => cryptoVerify('sha256', signingInput, publicKey, signatureBytes)),
    'raw node:crypto HS256 HMAC (ns)': timeSync(30_000, () =>
      timingSafeEqual(
        createHmac('sha256', hs.publicKey as Uint8Array)
          .update(`${hsHeader}.${hsPayload}`)
          .digest(),
        hsSignatureBytes,
      ),
    ),
  };
}

/** Runs each measurement once per round, rounds interleaved, and keeps each one's median. */
async function interleavedMedians(rounds: number, measurements: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, measure] of Object.entries(measurements)) (samples[name] ??= []).push(await measure());
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [name, [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number]),
  );
}

async function memory() {
  const hs = makeFixture('HS256');
  const tokens = signManyHs256(hs.publicKey as Uint8Array, 100_000);
  const authenticator = createAuthenticator({
    keys: fromSecret({ 'bench-key': hs.publicKey as Uint8Array }),
    algorithms: ['HS256'],
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = before;
  const started = performance.now();
  const calls = 1_000_000;
  const batch = 256;
  const seen = new Set<number>();
  for (let done = 0; done < calls; done += batch) {
    const pending: unknown[] = [];
    for (let i = 0; i < batch; i++) {
      const pick = Math.floor(Math.random() * tokens.length);
      seen.add(pick);
      pending.push(authenticator.authenticate(tokens[pick] as string, METHOD));
    }
    await Promise.all(pending);
    if (done % 65_536 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  gc?.();
  const after = process.memoryUsage().rss;
  // RSS keeps V8's high-water mark; the heap after a full GC is what the cache really retains.
  const heapRetained = process.memoryUsage().heapUsed - heapBefore;
  return {
    calls,
    distinctTokens: seen.size,
    seconds: (performance.now() - started) / 1000,
    rssBeforeMiB: before / 2 ** 20,
    rssPeakMiB: Math.max(peak, after) / 2 ** 20,
    rssAfterMiB: after / 2 ** 20,
    rssGrowthMiB: (Math.max(peak, after) - before) / 2 ** 20,
    rssGrowthAfterGcMiB: (after - before) / 2 ** 20,
    heapRetainedMiB: heapRetained / 2 ** 20,
  };
}

const result = { verifyPath: await verifyPath(), interceptorPath: await interceptorPath(7, 50_000), memory: await memory() };
process.stdout.write(JSON.stringify(result));
