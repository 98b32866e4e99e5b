/**
 * One server replica in its own process, as a deployment runs them: a grpc-js Echo server whose auth
 * interceptor shares revocations (`createRedisRevocationStore`) and DPoP replay state
 * (`createRedisReplayStore`) through one Redis. The parent starts it with {@link startReplica}, talks to
 * it over IPC (its port, its revocation events with their instants, `status()`, `revoke`/`unrevoke` on
 * its own store) and calls it over gRPC like any client.
 *
 * The child stops itself when the parent asks, when the IPC channel closes (the parent died, a test
 * timed out) and after `maxLifetime`: a failing test never leaks a server.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { Revocation, RevocationEvent, RevocationTarget, RevocationsStatus } from '../../src/index.ts';
import { EchoClient } from './echo-server.ts';

const CHILD = fileURLToPath(new URL('./replica-child.ts', import.meta.url));

/** What a replica is started with (plain data: it crosses the IPC channel). */
export interface ReplicaConfig {
  /** A name for messages (`replica-1`). */
  readonly name: string;
  readonly redisUrl: string;
  /** The key prefix of both stores; default the library's. */
  readonly prefix?: string;
  /** The issuer's public key set, the `iss` and `aud` tokens must have. */
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] };
  readonly issuer: string;
  readonly audience: string;
  /** The logical origin DPoP proofs name (`htu`). */
  readonly dpopOrigin: string;
  /** Revocation store options (seconds). */
  readonly heartbeat?: number;
  readonly staleIfError?: number;
  readonly timeout?: number;
  /** The replay store's deadline (seconds); default the store's 0.5. */
  readonly replayTimeout?: number;
  /** The child exits by itself after this many seconds (default 300). */
  readonly maxLifetime?: number;
}

/** An event of the replica's revocation store, with the instant it saw it (ms, sub-millisecond). */
export interface ReplicaEvent {
  readonly at: number;
  readonly event: RevocationEvent;
}

/** Messages from the child. */
export type FromReplica =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'event'; readonly at: number; readonly event: RevocationEvent }
  | { readonly type: 'reply'; readonly id: number; readonly value?: unknown; readonly error?: string };

/** Messages to the child. */
export type ToReplica =
  | { readonly type: 'start'; readonly config: ReplicaConfig }
  | { readonly type: 'status'; readonly id: number }
  | { readonly type: 'revoke'; readonly id: number; readonly revocation: Revocation }
  | { readonly type: 'unrevoke'; readonly id: number; readonly target: RevocationTarget }
  | { readonly type: 'stop' };

/** The timing of a `revoke` on the replica's own store: instants (ms, sub-millisecond) in the child. */
export interface RevokeTiming {
  readonly startedAt: number;
  readonly resolvedAt: number;
}

export interface Replica {
  readonly name: string;
  readonly port: number;
  /** An Echo client on an insecure loopback channel to this replica. */
  readonly client: grpc.Client & Record<string, any>;
  /** Every event so far, in order. */
  readonly events: readonly ReplicaEvent[];
  /** Resolves with the first event (already seen or later) matching `predicate`; rejects after `timeoutMs`. */
  waitForEvent(predicate: (event: RevocationEvent) => boolean, timeoutMs: number, since?: number): Promise<ReplicaEvent>;
  /** `auth.status().revocations` in the child. */
  status(): Promise<RevocationsStatus | undefined>;
  /** `revocations.revoke(...)` in the child (the API, on this replica). */
  revoke(revocation: Revocation): Promise<RevokeTiming>;
  unrevoke(target: RevocationTarget): Promise<boolean>;
  /** How the child ended when it exited by itself (a crash): its exit code or signal; undefined while it runs or after {@link Replica.stop}. */
  readonly exitCode: number | string | undefined;
  /** Asks the child to stop and waits for it (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/** The same clock in every process: wall-clock milliseconds with sub-millisecond resolution. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a replica and waits until it serves (its revocation list loaded); stopped after the test file. */
export async function startReplica(config: ReplicaConfig, startTimeoutMs = 30_000): Promise<Replica> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced', // Dates (in revocations and events) cross as Dates
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const events: ReplicaEvent[] = [];
  const eventListeners = new Set<() => void>();
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let stopping = false;

  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${config.name} did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    child.on('message', (message: FromReplica) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${config.name} failed to start: ${message.error}`));
      } else if (message.type === 'event') {
        events.push({ at: message.at, event: message.event });
        for (const listener of eventListeners) listener();
      } else if (message.type === 'reply') {
        const waiting = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) waiting?.reject(new Error(`${config.name}: ${message.error}`));
        else waiting?.resolve(message.value);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${config.name} exited with ${code} before serving`));
      for (const waiting of pending.values()) waiting.reject(new Error(`${config.name} exited with ${code}`));
      pending.clear();
    });
  });

  const send = (message: ToReplica): void => {
    if (child.connected) child.send(message);
  };
  const ask = <T>(message: (id: number) => ToReplica, timeoutMs = 10_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${config.name} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      send(message(id));
    });

  async function stop(): Promise<void> {
    if (!stopping) {
      stopping = true;
      client.close();
      send({ type: 'stop' });
    }
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited(child);
    clearTimeout(killer);
  }

  // Registered before the start completes: a start that fails or times out still kills the child.
  let client: grpc.Client & Record<string, any> = { close: () => undefined } as grpc.Client & Record<string, any>;
  after(() => stop());
  send({ type: 'start', config });
  let port: number;
  try {
    port = await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;

  return {
    name: config.name,
    port,
    client,
    events,
    get exitCode() {
      return stopping ? undefined : (child.exitCode ?? child.signalCode ?? undefined);
    },
    waitForEvent(predicate, timeoutMs, since = 0) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events.find((entry) => entry.at >= since && predicate(entry.event));
          if (found === undefined) return false;
          eventListeners.delete(listener);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const listener = (): void => void check();
        const timer = setTimeout(() => {
          eventListeners.delete(listener);
          reject(new Error(`${config.name}: no matching event within ${timeoutMs} ms`));
        }, timeoutMs);
        eventListeners.add(listener);
        check();
      });
    },
    status: () => ask((id) => ({ type: 'status', id })),
    revoke: (revocation) => ask((id) => ({ type: 'revoke', id, revocation })),
    unrevoke: (target) => ask((id) => ({ type: 'unrevoke', id, target })),
    stop,
  };
}
