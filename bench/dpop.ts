/**
 * The client's cost of DPoP (RFC 9449): CPU per proof (`DpopKey.proof`, ES256 and EdDSA, with an access
 * token so `ath` is hashed too), against a baseline measured in the same run: `jose.jwtVerify` of an ES256
 * token with a pre-imported key, the work a server does for a token it has not seen. Rounds interleaved,
 * medians kept. Run by `npm run bench` (as a child, for the `senderConstraint` entry of
 * bench/results/latest.json) or by hand, printing one JSON object:
 *
 *   node --import tsx bench/dpop.ts
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT, generateKeyPair, jwtVerify } from 'jose';

type ClientEntry = typeof import('../src/client/index.ts');

// The built package when the runner says where it is (what users run), else the sources.
const built = process.env.BENCH_LIBRARY;
const client: ClientEntry = built
  ? ((await import(pathToFileURL(join(dirname(built), 'client', 'index.js')).href)) as ClientEntry)
  : await import('../src/client/index.ts');

const ITERATIONS = Number(process.env.BENCH_DPOP_ITERATIONS ?? 2000);
const ROUNDS = Number(process.env.BENCH_DPOP_ROUNDS ?? 5);
const HTU = 'https://orders.example/acme.orders.v1.Orders/GetOrder';

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

const result = { client: await clientCosts(), settings: { iterations: ITERATIONS, rounds: ROUNDS } };
process.stdout.write(JSON.stringify(result));
