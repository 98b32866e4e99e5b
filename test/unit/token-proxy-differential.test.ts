/**
 * The token interceptor's proxy guard against grpc-js itself: for a matrix of proxy variables and
 * loopback targets, grpc-js's own `mapProxyName` (the function a channel calls, reading process.env)
 * decides whether the channel is proxied and which target the interceptor then sees. The guard must
 * refuse every call grpc-js would tunnel through a proxy; refusing a direct call is allowed (it fails
 * closed where grpc-js versions differ) and only counted. Hostile spellings included: upper-case
 * variable names, whitespace, ports in no_proxy entries, bracketed IPv6, localhost against 127.0.0.1,
 * empty values, and proxies given as IPv6, upper-case or shorthand IPv4 URLs.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';
import { TransportGuard } from '../../src/client/transport-guard.ts';

interface GrpcUri {
  readonly scheme?: string;
  readonly authority?: string;
  readonly path: string;
}
const require = createRequire(import.meta.url);
const grpcProxy = require('@grpc/grpc-js/build/src/http_proxy.js') as { mapProxyName(target: GrpcUri, options: object): { target: GrpcUri } };
const uri = require('@grpc/grpc-js/build/src/uri-parser.js') as { parseUri(text: string): GrpcUri | null; uriToString(target: GrpcUri): string };

const VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy', 'no_grpc_proxy', 'no_proxy', 'GRPC_PROXY', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'];

/** What grpc-js does with `target` under `env`: the target its channel reports, and whether it is proxied. */
function grpcJsChannel(target: string, env: Record<string, string>): { seen: string; proxied: boolean } {
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  try {
    for (const name of VARIABLES) delete process.env[name];
    Object.assign(process.env, env);
    const parsed = uri.parseUri(target);
    assert.ok(parsed, target);
    const mapped = grpcProxy.mapProxyName(parsed, {}).target;
    const seen = uri.uriToString(mapped);
    return { seen, proxied: seen !== target };
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const PROXIES: Array<Record<string, string>> = [
  {},
  { http_proxy: 'http://proxy.corp:3128' },
  { https_proxy: 'http://proxy.corp:3128' },
  { grpc_proxy: 'http://proxy.corp:3128' },
  { grpc_proxy: '', http_proxy: 'http://proxy.corp:3128' },
  { HTTP_PROXY: 'http://proxy.corp:3128' },
  { http_proxy: 'http://127.0.0.1:3128' },
  { http_proxy: 'http://127.1:3128' },
  { http_proxy: 'http://LOCALHOST:3128' },
  { http_proxy: 'http://[::1]:3128' },
  { http_proxy: 'http://user:pass@127.0.0.1' },
  { https_proxy: 'https://proxy.corp:3128' },
  { http_proxy: 'proxy.corp:3128' },
];

const NO_PROXIES: Array<Record<string, string>> = [
  {},
  { no_proxy: '127.0.0.1' },
  { no_proxy: '127.0.0.1,localhost,::1' },
  { no_proxy: ' 127.0.0.1' },
  { no_proxy: '127.0.0.1:50051' },
  { no_proxy: '[::1]' },
  { no_proxy: 'LOCALHOST' },
  { no_proxy: '127.0.0.0/8' },
  { no_proxy: '.0.0.1' },
  { no_proxy: '127.0.0.1,' },
  { no_proxy: '*' },
  { NO_PROXY: '127.0.0.1,localhost,::1' },
  { no_grpc_proxy: 'localhost', no_proxy: '127.0.0.1' },
  { no_grpc_proxy: '', no_proxy: '127.0.0.1,::1' },
];

const TARGETS = [
  'dns:127.0.0.1:50051',
  'dns:///127.0.0.1:50051',
  'dns:localhost:50051',
  'dns:LOCALHOST:50051',
  'dns:[::1]:50051',
  'ipv4:127.0.0.1:50051',
  'ipv6:[::1]:50051',
  'dns:127.0.0.2:50051',
  'unix:/run/app.sock',
  'unix-abstract:app',
  'dns:127.0.0.1:3128',
  'dns:[::1]:3128',
  'dns:localhost:3128',
  'dns:127.0.0.1:80',
];

describe('token interceptor: the proxy guard against grpc-js 1.14 mapProxyName', () => {
  // grpc-js logs every proxy value it cannot use; the matrix has hundreds.
  before(() => setLogVerbosity(logVerbosity.NONE));
  after(() => setLogVerbosity(logVerbosity.ERROR));

  it(`${PROXIES.length} proxy settings × ${NO_PROXIES.length} no-proxy lists × ${TARGETS.length} targets: every call grpc-js would proxy is refused`, (t) => {
    const leaks: string[] = [];
    let direct = 0;
    let refusedDirect = 0;
    for (const proxy of PROXIES) {
      for (const noProxy of NO_PROXIES) {
        const env = { ...proxy, ...noProxy };
        for (const target of TARGETS) {
          const channel = grpcJsChannel(target, env);
          const refusal = new TransportGuard(undefined, env).refusal(channel.seen);
          if (channel.proxied && refusal === undefined) leaks.push(`${JSON.stringify(env)} ${target} → grpc-js dials ${channel.seen}`);
          if (!channel.proxied) {
            direct += 1;
            if (refusal !== undefined) refusedDirect += 1;
          }
        }
      }
    }
    t.diagnostic(`${direct} direct loopback calls, ${refusedDirect} of them refused (fail closed where grpc-js versions differ)`);
    assert.deepEqual(leaks, []);
  });

  it(
    'the upper-case names are not read on this platform, by grpc-js or the guard: HTTP_PROXY alone → direct, and sent',
    { skip: process.platform === 'win32' },
    () => {
      const env = { HTTP_PROXY: 'http://proxy.corp:3128' };
      assert.equal(grpcJsChannel('dns:127.0.0.1:50051', env).proxied, false);
      assert.equal(new TransportGuard(undefined, env).refusal('dns:127.0.0.1:50051'), undefined);
    },
  );
});
