/**
 * The server side of the load test, run as a child process so its memory is measured alone: the Echo
 * service behind the real interceptor (ES256 keys from PEM, a scope guard on Echo). Talks to the parent
 * over IPC, each request carrying an `id` its reply repeats: `{ start: { pem } }` → `{ port }`;
 * `{ rss: { gc } }` → `{ rss, heapUsed }`; `{ stop }` → `{ stopped }`, then the process exits.
 */
import { createAuthInterceptor, fromPem, requireScopes } from '../../src/index.ts';
import { startEchoServer, type EchoServer } from '../support/echo-server.ts';
import { answerParent } from './parent-channel.ts';

export const LOAD_ISSUER = 'https://idp.load.test/';
export const LOAD_AUDIENCE = 'load-api';
export const LOAD_SCOPE = 'echo:call';

type Request = { readonly id: number } & ({ start: { pem: string } } | { rss: { gc: boolean } } | { stop: true });

let echo: EchoServer | undefined;

/** Collects garbage a few times, with turns of the event loop between, so freed memory is returned. */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function handle(request: Request): Promise<unknown> {
  if ('start' in request) {
    const auth = createAuthInterceptor({
      keys: fromPem({ 'ec-1': request.start.pem }),
      algorithms: ['ES256'],
      issuer: LOAD_ISSUER,
      audience: LOAD_AUDIENCE,
      rules: { '/test.echo.v1.Echo/*': requireScopes(LOAD_SCOPE) },
    });
    echo = await startEchoServer({ interceptors: [auth] });
    return { port: echo.port };
  }
  if ('rss' in request) {
    if (request.rss.gc) await collect();
    const { rss, heapUsed } = process.memoryUsage();
    return { rss, heapUsed };
  }
  await echo?.close();
  return { stopped: true };
}

answerParent(handle, { exitWithParent: false });
