/**
 * The per-call cost of certificate binding (RFC 8705) over real mutual TLS: a server in a child process
 * measures its own CPU time per call, for a certificate-bound token and for an unbound one (both cached
 * after the first call), rounds interleaved, medians reported. Also the median wall time of the certificate
 * read alone (`call.getAuthContext()` + thumbprint) inside the server. Needs openssl (certificates are made
 * for this run and deleted). Not part of `npm run bench`; run it by hand:
 *
 *   node --import tsx bench/certificate-binding.ts
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createAuthInterceptor } from '../src/index.ts';
import { createTestIssuer } from '../src/testing/index.ts';
import { thumbprintFromFingerprint256 } from '../src/verify/certificate-thumbprint.ts';
import { makeCertificates } from '../examples/support/certificates.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const CONCURRENCY = 8;
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('./bench.proto', import.meta.url)))) as any;

interface Setup {
  readonly ca: string;
  readonly server: { key: string; cert: string };
  readonly client: { key: string; cert: string };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function serve(setup: Setup): Promise<void> {
  const idp = await createTestIssuer({ alg: 'ES256' });
  const reads: number[] = [];
  let probing = false;
  // First in the chain: times the certificate read the binding check makes (only in the last run, so the
  // CPU rounds pay for no extra read).
  const probe: grpc.ServerInterceptor = (_descriptor, call) => {
    if (!probing) return new grpc.ServerInterceptingCall(call);
    const start = performance.now();
    thumbprintFromFingerprint256(call.getAuthContext().sslPeerCertificate?.fingerprint256);
    reads.push((performance.now() - start) * 1000);
    return new grpc.ServerInterceptingCall(call);
  };
  const auth = createAuthInterceptor({ keys: idp.keys, algorithms: ['ES256'], issuer: idp.issuer, audience: idp.audience });
  const server = new grpc.Server({ interceptors: [probe, auth] });
  server.addService(proto.bench.v1.Bench.service, { Call: (call: any, callback: any) => callback(null, { text: call.request.text }) });
  const credentials = grpc.ServerCredentials.createSsl(
    Buffer.from(setup.ca),
    [{ private_key: Buffer.from(setup.server.key), cert_chain: Buffer.from(setup.server.cert) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const tokens = {
    bound: await idp.sign({}, { bindTo: { certificate: setup.client.cert } }),
    unbound: await idp.sign({}),
  };
  let cpu = process.cpuUsage();
  process.on('message', (message: { type: string }) => {
    if (message.type === 'start') {
      reads.length = 0;
      probing = (message as { probe?: boolean }).probe === true;
      cpu = process.cpuUsage();
      process.send?.({ type: 'started' });
    } else if (message.type === 'stop') {
      const used = process.cpuUsage(cpu);
      process.send?.({ type: 'stopped', cpuMicros: used.user + used.system, readMicros: median(reads) });
    } else if (message.type === 'exit') {
      server.forceShutdown();
      process.exit(0);
    }
  });
  process.send?.({ type: 'ready', port, tokens });
}

async function drive(): Promise<void> {
  const certificates = makeCertificates(['bench-client']);
  const client = certificates.clients['bench-client']!;
  const setup: Setup = {
    ca: certificates.ca.toString(),
    server: { key: certificates.server.key.toString(), cert: certificates.server.cert.toString() },
    client: { key: client.key.toString(), cert: client.cert.toString() },
  };
  const child = fork(fileURLToPath(import.meta.url), ['serve'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve) => child.once('message', (message: any) => (message.type === type ? resolve(message) : undefined)));
  const ready = next<{ port: number; tokens: { bound: string; unbound: string } }>('ready');
  child.send({ type: 'setup', setup });
  const { port, tokens } = await ready;
  const stub = new proto.bench.v1.Bench(`127.0.0.1:${port}`, grpc.credentials.createSsl(certificates.ca, client.key, client.cert), {
    'grpc.ssl_target_name_override': 'localhost',
  });
  const call = (token: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      stub.Call({ text: 'x' }, metadata, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  const run = async (token: string): Promise<void> => {
    let left = CALLS;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (left-- > 0) await call(token);
      }),
    );
  };
  await run(tokens.bound);
  await run(tokens.unbound);
  const results: Record<'bound' | 'unbound', number[]> = { bound: [], unbound: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['bound', 'unbound'] as const) {
      const started = next('started');
      child.send({ type: 'start' });
      await started;
      await run(tokens[kind]);
      const stopped = next<{ cpuMicros: number; readMicros: number }>('stopped');
      child.send({ type: 'stop' });
      const { cpuMicros } = await stopped;
      results[kind].push(cpuMicros / CALLS);
    }
  }
  const probed = next('started');
  child.send({ type: 'start', probe: true });
  await probed;
  await run(tokens.unbound);
  const read = next<{ readMicros: number }>('stopped');
  child.send({ type: 'stop' });
  const { readMicros } = await read;
  child.send({ type: 'exit' });
  stub.close();
  const bound = median(results.bound);
  const unbound = median(results.unbound);
  console.log(
    `server CPU µs/call over mTLS (${ROUNDS} rounds × ${CALLS} calls, medians): bound ${bound.toFixed(1)}, unbound ${unbound.toFixed(1)}, difference ${(bound - unbound).toFixed(1)}`,
  );
  console.log(`certificate read alone (getAuthContext + thumbprint), median wall µs over ${CALLS} calls: ${readMicros.toFixed(1)}`);
}

if (process.argv[2] === 'serve') {
  process.once('message', (message: { type: string; setup: Setup }) => void serve(message.setup));
} else {
  await drive();
}
