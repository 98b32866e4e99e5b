/**
 * Benchmark load generator process: keeps a fixed number of unary calls in flight against one port for
 * a fixed time, rotating through the scenario's tokens, and reports completed calls and latencies.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const proto = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('./bench.proto', import.meta.url)))) as any;
const clients = new Map<number, any>();
// Where each port's rotation through its tokens stands: a run continues where the previous one stopped,
// so a pool larger than all the calls of a scenario gives each call a token never sent before.
const cursors = new Map<number, number>();

interface RunRequest {
  readonly type: 'run';
  readonly id: number;
  readonly port: number;
  readonly tokens: string[];
  readonly durationMs: number;
  readonly concurrency: number;
}

async function run({ port, tokens, durationMs, concurrency }: RunRequest) {
  let client = clients.get(port);
  if (!client) {
    client = new proto.bench.v1.Bench(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    clients.set(port, client);
  }
  const latencies: number[] = [];
  let errors = 0;
  let next = cursors.get(port) ?? 0;
  const deadline = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${tokens[next++ % tokens.length]}`);
      const started = performance.now();
      await new Promise<void>((resolve) =>
        client.Call({ text: 'x' }, metadata, (error: grpc.ServiceError | null) => {
          if (error) errors += 1;
          latencies.push(performance.now() - started);
          resolve();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  cursors.set(port, next);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { calls: latencies.length, errors, p50: at(0.5), p99: at(0.99), tokensReused: next > tokens.length };
}

process.on('message', (message: RunRequest | { type: 'exit' }) => {
  if (message.type === 'exit') process.exit(0);
  else void run(message).then((result) => process.send?.({ type: 'result', id: message.id, ...result }));
});
process.send?.({ type: 'ready' });
