/**
 * A load generator of `test/load/forged-flood.ts`, a child process (one per role, so neither steals the
 * other's event loop). Over IPC, each request carrying an `id` its reply repeats:
 *
 * - `{ admitted: { port, tokens, rate, seconds } }`: unary calls with already-cached valid tokens at a
 *   fixed rate (one every 1000/rate ms, whatever is still in flight) → `{ latencies, failures }`, the
 *   latency of every call in ms.
 * - `{ flood: { port, templates, concurrency, seconds } }`: unary calls with distinct forged tokens (a
 *   fresh `jti` in each payload, random signature bytes), as fast as `concurrency` calls in flight allow
 *   → `{ sent, statuses }`.
 * - `{ stop: true }` → `{ stopped }`, then the process exits.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { EchoClient } from '../support/echo-server.ts';
import { answerParent } from './parent-channel.ts';

/** One kind of forged token: its encoded header, the claims of its payload, its signature length. */
export interface ForgedTemplate {
  readonly header: string;
  readonly claims: Record<string, unknown>;
  readonly signatureBytes: number;
}

type Request = { readonly id: number } & (
  | { admitted: { port: number; tokens: string[]; rate: number; seconds: number } }
  | { flood: { port: number; templates: ForgedTemplate[]; concurrency: number; seconds: number } }
  | { stop: true }
);

type Client = grpc.Client & Record<string, any>;
const clients: Client[] = [];

function connect(port: number, channels: number): Client[] {
  return Array.from({ length: channels }, () => {
    const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as Client;
    clients.push(client);
    return client;
  });
}

function call(client: Client, token: string): Promise<number> {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client.Unary({ text: 'load' }, metadata, { deadline: Date.now() + 20_000 }, (error: grpc.ServiceError | null) =>
      resolve(error ? error.code : grpc.status.OK),
    );
  });
}

async function admitted(port: number, tokens: string[], rate: number, seconds: number) {
  const [client] = connect(port, 1) as [Client];
  // Every token once, so each is in the verified-token cache before the clock starts.
  for (const token of tokens) await call(client, token);
  const latencies: number[] = [];
  let failures = 0;
  const pending: Promise<void>[] = [];
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const start = performance.now();
    const tick = (): void => {
      const now = performance.now();
      // Catch up on calls a late timer missed: the rate holds however busy this process is.
      while (sent < ((now - start) * rate) / 1000 && now < end) {
        const token = tokens[sent % tokens.length] as string;
        sent += 1;
        const began = performance.now();
        pending.push(
          call(client, token).then((code) => {
            if (code === grpc.status.OK) latencies.push(performance.now() - began);
            else failures += 1;
          }),
        );
      }
      if (now >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  client.close();
  return { latencies, failures };
}

async function flood(port: number, templates: ForgedTemplate[], concurrency: number, seconds: number) {
  const channels = connect(port, 4);
  const signatures = templates.map((template) => Array.from({ length: 64 }, () => randomBytes(template.signatureBytes).toString('base64url')));
  const statuses: Record<string, number> = {};
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  const worker = async (index: number): Promise<void> => {
    const client = channels[index % channels.length] as Client;
    while (performance.now() < end) {
      const n = sent++;
      const which = n % templates.length;
      const template = templates[which] as ForgedTemplate;
      const payload = Buffer.from(JSON.stringify({ ...template.claims, jti: `forged-${process.pid}-${n}` })).toString('base64url');
      const token = `${template.header}.${payload}.${(signatures[which] as string[])[n % 64] as string}`;
      const code = await call(client, token);
      const name = grpc.status[code] ?? String(code);
      statuses[name] = (statuses[name] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  for (const client of channels) client.close();
  return { sent, statuses };
}

async function handle(request: Request): Promise<unknown> {
  if ('admitted' in request) {
    const { port, tokens, rate, seconds } = request.admitted;
    return admitted(port, tokens, rate, seconds);
  }
  if ('flood' in request) {
    const { port, templates, concurrency, seconds } = request.flood;
    return flood(port, templates, concurrency, seconds);
  }
  for (const client of clients) client.close();
  return { stopped: true };
}

answerParent(handle, { exitWithParent: true });
