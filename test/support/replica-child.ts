/**
 * The child side of test/support/replica-process.ts (run as `node --import tsx replica-child.ts` with an
 * IPC channel): one Echo server behind an auth interceptor with Redis revocations, a Redis replay store
 * and DPoP. Not a test file; the parent sends `start` with the configuration.
 */
import { createAuthInterceptor, createRedisReplayStore, createRedisRevocationStore, fromJwks, type AuthInterceptor } from '../../src/index.ts';
import type { RedisReplayStore, RevocationStore } from '../../src/index.ts';
import { startEchoServer, type EchoServer } from './echo-server.ts';
import { preciseNow, type FromReplica, type ReplicaConfig, type ToReplica } from './replica-process.ts';

let echo: EchoServer | undefined;
let auth: AuthInterceptor | undefined;
let revocations: Required<RevocationStore> | undefined;
let replayStore: RedisReplayStore | undefined;
let stopping = false;

function send(message: FromReplica): void {
  if (process.connected) process.send?.(message);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Stops serving and closes the stores, bounded: the process exits within 3 s whatever hangs. */
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref();
  if (echo !== undefined) {
    const server = echo.server;
    const forced = setTimeout(() => server.forceShutdown(), 1000);
    await echo.close();
    clearTimeout(forced);
  }
  auth?.close();
  await Promise.allSettled([revocations?.close(), replayStore?.close()]);
  process.exit(0);
}

async function start(config: ReplicaConfig): Promise<void> {
  setTimeout(() => void shutdown(), (config.maxLifetime ?? 300) * 1000).unref();
  const connection = { url: config.redisUrl, ...(config.prefix === undefined ? {} : { prefix: config.prefix }) };
  revocations = createRedisRevocationStore({
    ...connection,
    ...(config.heartbeat === undefined ? {} : { heartbeat: config.heartbeat }),
    ...(config.staleIfError === undefined ? {} : { staleIfError: config.staleIfError }),
    ...(config.timeout === undefined ? {} : { timeout: config.timeout }),
    // The instant is taken here, as the store reports it: the parent measures propagation with it.
    onEvent: (event) => send({ type: 'event', at: preciseNow(), event }),
  });
  replayStore = createRedisReplayStore({ ...connection, ...(config.replayTimeout === undefined ? {} : { timeout: config.replayTimeout }) });
  auth = createAuthInterceptor({
    keys: fromJwks(config.jwks as never),
    algorithms: ['ES256'],
    issuer: config.issuer,
    audience: config.audience,
    dpop: { origins: [config.dpopOrigin] },
    replayStore,
    revocations,
  });
  await auth.ready();
  echo = await startEchoServer({ interceptors: [auth] });
  send({ type: 'ready', port: echo.port });
}

async function answer(id: number, work: () => Promise<unknown> | unknown): Promise<void> {
  try {
    send({ type: 'reply', id, value: await work() });
  } catch (error) {
    send({ type: 'reply', id, error: errorText(error) });
  }
}

process.on('message', (message: ToReplica) => {
  if (message.type === 'start') {
    start(message.config).catch((error: unknown) => {
      send({ type: 'failed', error: errorText(error) });
      void shutdown();
    });
  } else if (message.type === 'status') void answer(message.id, () => auth?.status().revocations);
  else if (message.type === 'revoke') {
    void answer(message.id, async () => {
      const startedAt = preciseNow();
      await revocations?.revoke(message.revocation);
      return { startedAt, resolvedAt: preciseNow() };
    });
  } else if (message.type === 'unrevoke') void answer(message.id, () => revocations?.unrevoke(message.target));
  else if (message.type === 'stop') void shutdown();
});
// The parent died or closed the channel: nobody will ever stop this server otherwise.
process.on('disconnect', () => void shutdown());
