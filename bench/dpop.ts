/**
 * The cost of DPoP (RFC 9449), both sides, against a baseline measured in the same run: `jose.jwtVerify`
 * of an ES256 token with a pre-imported key, the work a server does for a token it has not seen.
 * - client: CPU per proof (`DpopKey.proof`, ES256 and EdDSA, with an access token so `ath` is hashed too);
 * - server: CPU per `verifier.verify` of a fresh proof (pre-signed, unique `jti`, `ath` of a real token,
 *   the default memory replay store), key cached (the steady state of a client), ES256 and EdDSA; a new
 *   key per proof (cache miss: import and thumbprint), for information; the replay store's `add` alone.
 * Rounds interleaved, medians kept. Run by `npm run bench` (as a child, for the `senderConstraint` entry of
 * bench/results/latest.json) or by hand, printing one JSON object:
 *
 *   node --import tsx bench/dpop.ts
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { SignJWT, generateKeyPair, jwtVerify } from 'jose';

type ClientEntry = typeof import('../src/client/index.ts');
type ProofModule = typeof import('../src/verify/dpop-proof.ts');
type ServerEntry = typeof import('../src/index.ts');

// The built package when the runner says where it is (what users run), else the sources.
const built = process.env.BENCH_LIBRARY;
const client: ClientEntry = built
  ? ((await import(pathToFileURL(join(dirname(built), 'client', 'index.js')).href)) as ClientEntry)
  : await import('../src/client/index.ts');
// The proof verifier is internal (the interceptor uses it) and dist/ holds only the bundled entries: with
// the built package, the module compiled as `npm run build:lib` compiles it (esbuild, no tsx wrappers).
const proofModule: ProofModule = built
  ? ((await import(pathToFileURL(bundledProofModule()).href)) as ProofModule)
  : await import('../src/verify/dpop-proof.ts');

function bundledProofModule(): string {
  const outfile = fileURLToPath(new URL('../.tmp/bench/dpop-proof.js', import.meta.url));
  const entry = fileURLToPath(new URL('../src/verify/dpop-proof.ts', import.meta.url));
  buildSync({ entryPoints: [entry], outfile, bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node20.19', logLevel: 'warning' });
  return outfile;
}
const server: ServerEntry = built ? ((await import(pathToFileURL(built).href)) as ServerEntry) : await import('../src/index.ts');

const ITERATIONS = Number(process.env.BENCH_DPOP_ITERATIONS ?? 2000);
const ROUNDS = Number(process.env.BENCH_DPOP_ROUNDS ?? 5);
const ORIGIN = 'https://orders.example';
const PATH = '/acme.orders.v1.Orders/GetOrder';
const HTU = `${ORIGIN}${PATH}`;

/**
 * CPU nanoseconds per operation, one at a time: WebCrypto signs and verifies on the thread pool, so the
 * CPU time of the whole process is the figure, not one call's latency.
 */
async function cpuAsync(iterations: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await fn();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / iterations;
}

/** Runs each measurement once per round, rounds interleaved (A B C, A B C, ...), and keeps each one's median. */
async function interleavedMedians(rounds: number, measurements: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, measure] of Object.entries(measurements)) (samples[name] ??= []).push(await measure());
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [name, [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number]),
  );
}

async function clientCosts() {
  const es256 = await client.createDpopKey({ alg: 'ES256' });
  const eddsa = await client.createDpopKey({ alg: 'EdDSA' });
  const issuer = await generateKeyPair('ES256');
  const accessToken = await new SignJWT({ scope: 'orders:read' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
    .setIssuer('https://idp.example/')
    .setAudience('orders-api')
    .setSubject('worker')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(issuer.privateKey);
  const medians = await interleavedMedians(ROUNDS, {
    baseline: () =>
      cpuAsync(ITERATIONS, () => jwtVerify(accessToken, issuer.publicKey, { algorithms: ['ES256'], issuer: 'https://idp.example/', audience: 'orders-api' })),
    es256: () => cpuAsync(ITERATIONS, () => es256.proof({ htu: HTU, accessToken })),
    eddsa: () => cpuAsync(ITERATIONS, () => eddsa.proof({ htu: HTU, accessToken })),
  });
  const micros = (ns: number | undefined) => (ns ?? Number.NaN) / 1000;
  const baseline = micros(medians.baseline);
  return {
    'baseline jose.jwtVerify ES256, CPU (µs)': baseline,
    'proof ES256, CPU (µs)': micros(medians.es256),
    'proof EdDSA, CPU (µs)': micros(medians.eddsa),
    'proof ES256 (× baseline)': micros(medians.es256) / baseline,
    'proof EdDSA (× baseline)': micros(medians.eddsa) / baseline,
  };
}

/** CPU nanoseconds per call of `fn(i)`, i = 0..iterations-1 : each call uses its own input (the caller warms up). */
async function cpuEach(iterations: number, fn: (i: number) => unknown): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const answer = fn(i);
    if (answer instanceof Promise) await answer;
  }
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / iterations;
}

async function accessTokenAndBaseline() {
  const issuer = await generateKeyPair('ES256');
  const accessToken = await new SignJWT({ scope: 'orders:read' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
    .setIssuer('https://idp.example/')
    .setAudience('orders-api')
    .setSubject('worker')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(issuer.privateKey);
  const baseline = () =>
    cpuAsync(ITERATIONS, () => jwtVerify(accessToken, issuer.publicKey, { algorithms: ['ES256'], issuer: 'https://idp.example/', audience: 'orders-api' }));
  // Like for like, for information: an Ed25519 signature check costs more than a P-256 one on OpenSSL.
  const edIssuer = await generateKeyPair('EdDSA');
  const edToken = await new SignJWT({ scope: 'orders:read' })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
    .setIssuer('https://idp.example/')
    .setAudience('orders-api')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(edIssuer.privateKey);
  const baselineEdDSA = () =>
    cpuAsync(ITERATIONS, () => jwtVerify(edToken, edIssuer.publicKey, { algorithms: ['EdDSA'], issuer: 'https://idp.example/', audience: 'orders-api' }));
  return { accessToken, baseline, baselineEdDSA };
}

/**
 * Server CPU per proof check. Proofs are signed before each timed loop, one per iteration (a fresh `jti`
 * each, as a client sends), so the loop times the verifier alone; the verifier's key cache is warmed by
 * one proof of the same key first, so every timed proof is a cache hit.
 */
async function serverCosts() {
  const { accessToken, baseline, baselineEdDSA } = await accessTokenAndBaseline();
  const es256 = await client.createDpopKey({ alg: 'ES256' });
  const eddsa = await client.createDpopKey({ alg: 'EdDSA' });
  const sign = (key: { proof(request: { htu: string; accessToken?: string }): Promise<string> }, count: number) =>
    Promise.all(Array.from({ length: count }, () => key.proof({ htu: HTU, accessToken })));
  const cachedHit = async (key: typeof es256) => {
    const verifier = proofModule.createDpopProofVerifier({ origins: [ORIGIN], algorithms: ['ES256', 'EdDSA'] });
    const [warm = '', ...proofs] = await sign(key, ITERATIONS + 1);
    await verifier.verify({ proof: warm, path: PATH, accessToken, jkt: key.thumbprint });
    return cpuEach(ITERATIONS, (i) => verifier.verify({ proof: proofs[i] as string, path: PATH, accessToken, jkt: key.thumbprint }));
  };
  // A new key per proof: fewer iterations (key generation is slow), one verifier, so the cache fills as it would.
  const missIterations = Math.max(50, Math.floor(ITERATIONS / 10));
  const cacheMiss = async () => {
    const verifier = proofModule.createDpopProofVerifier({ origins: [ORIGIN], algorithms: ['ES256', 'EdDSA'] });
    const keys = await Promise.all(Array.from({ length: missIterations }, () => client.createDpopKey({ alg: 'ES256' })));
    const proofs = await Promise.all(keys.map((key) => key.proof({ htu: HTU, accessToken })));
    return cpuEach(missIterations, (i) => verifier.verify({ proof: proofs[i] as string, path: PATH, accessToken, jkt: (keys[i] as typeof es256).thumbprint }));
  };
  const storeAdd = () => {
    const store = server.createMemoryReplayStore();
    const keys = Array.from({ length: ITERATIONS }, (_, i) => `dpop:${es256.thumbprint}:${i}-${Math.random()}`);
    return cpuEach(ITERATIONS, (i) => store.add(keys[i] as string, new Date(Date.now() + 61_000)));
  };
  // The floor: node:crypto's signature check alone over a proof-sized input (no JOSE at all).
  const input = Buffer.alloc(700, 97);
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p256Signature = cryptoSign('sha256', input, { key: p256.privateKey, dsaEncoding: 'ieee-p1363' });
  const ed25519 = generateKeyPairSync('ed25519');
  const ed25519Signature = cryptoSign(null, input, ed25519.privateKey);
  const medians = await interleavedMedians(ROUNDS, {
    baseline,
    baselineEdDSA,
    rawP256: () => cpuEach(ITERATIONS, () => cryptoVerify('sha256', input, { key: p256.publicKey, dsaEncoding: 'ieee-p1363' }, p256Signature)),
    rawEd25519: () => cpuEach(ITERATIONS, () => cryptoVerify(null, input, ed25519.publicKey, ed25519Signature)),
    es256: () => cachedHit(es256),
    eddsa: () => cachedHit(eddsa),
    miss: cacheMiss,
    store: storeAdd,
  });
  const micros = (ns: number | undefined) => (ns ?? Number.NaN) / 1000;
  const base = micros(medians.baseline);
  return {
    'baseline jose.jwtVerify ES256, CPU (µs)': base,
    'verify ES256 proof, key cached, CPU (µs)': micros(medians.es256),
    'verify EdDSA proof, key cached, CPU (µs)': micros(medians.eddsa),
    'verify ES256 proof, new key, CPU (µs)': micros(medians.miss),
    'memory replay store add, CPU (µs)': micros(medians.store),
    'verify ES256 proof, key cached (× baseline)': micros(medians.es256) / base,
    'verify EdDSA proof, key cached (× baseline)': micros(medians.eddsa) / base,
    'verify ES256 proof, new key (× baseline)': micros(medians.miss) / base,
    'node:crypto P-256 verify alone, CPU (µs)': micros(medians.rawP256),
    'node:crypto Ed25519 verify alone, CPU (µs)': micros(medians.rawEd25519),
    'jose.jwtVerify EdDSA, CPU (µs)': micros(medians.baselineEdDSA),
    'verify EdDSA proof, key cached (× jwtVerify EdDSA)': micros(medians.eddsa) / micros(medians.baselineEdDSA),
  };
}

const result = { client: await clientCosts(), server: await serverCosts(), settings: { iterations: ITERATIONS, rounds: ROUNDS } };
process.stdout.write(JSON.stringify(result));
