/**
 * The token leak guard's reading of a channel target against grpc-js itself. For every target a user may
 * give a client, grpc-js's own code (parseUri, the default scheme, the dns/ipv4/ipv6/unix resolvers'
 * reading of the path) says what the channel reports to the interceptor and which hosts it dials. The
 * guard may call a target loopback only if every host grpc-js dials is a loopback address (or the name
 * `localhost`, by policy), and must call the documented local forms loopback. Hostile spellings included:
 * schemes in upper case, address lists with one remote entry, ports that are not numbers, DNS names that
 * look like loopback addresses, IPv4 in forms `isIP` does not read, zone ids, brackets left open.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import '@grpc/grpc-js'; // registers the resolvers that mapUriDefaultScheme consults
import { isLoopbackTarget } from '../../src/client/channel-target.ts';

interface GrpcUri {
  readonly scheme?: string;
  readonly authority?: string;
  readonly path: string;
}
const require = createRequire(import.meta.url);
const uri = require('@grpc/grpc-js/build/src/uri-parser.js') as {
  parseUri(text: string): GrpcUri | null;
  uriToString(target: GrpcUri): string;
  splitHostPort(path: string): { host: string; port?: number } | null;
};
const resolver = require('@grpc/grpc-js/build/src/resolver.js') as { mapUriDefaultScheme(target: GrpcUri): GrpcUri | null };

/** What grpc-js does with a client's target: the target its channel reports, and the hosts it dials (undefined: none, it fails). */
function grpcJsChannel(target: string): { readonly seen: string; readonly hosts: readonly string[] | undefined } | undefined {
  const parsed = uri.parseUri(target);
  const mapped = parsed && resolver.mapUriDefaultScheme(parsed);
  if (!mapped) return undefined; // the client constructor throws: no call is made
  const seen = uri.uriToString(mapped);
  if (mapped.scheme === 'unix' || mapped.scheme === 'unix-abstract') return { seen, hosts: [] };
  if (mapped.scheme === 'dns') {
    const hostPort = uri.splitHostPort(mapped.path);
    return { seen, hosts: hostPort ? [hostPort.host] : undefined };
  }
  if (mapped.scheme === 'ipv4' || mapped.scheme === 'ipv6') {
    const hosts: string[] = [];
    for (const entry of mapped.path.split(',')) {
      const hostPort = uri.splitHostPort(entry);
      const family = mapped.scheme === 'ipv4' ? 4 : 6;
      if (!hostPort || isIP(hostPort.host) !== family) return { seen, hosts: undefined };
      hosts.push(hostPort.host);
    }
    return { seen, hosts };
  }
  return { seen, hosts: undefined };
}

/** Loopback as the kernel routes it: 127.0.0.0/8, ::1, IPv4-mapped 127/8; `localhost` by the package's policy. */
function dialsLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return /^(0{0,4}:){2,7}0{0,3}1$/.test(host) || /^::ffff:127\./i.test(host);
  return false;
}

const LOCAL = [
  '127.0.0.1:50051',
  'localhost:50051',
  '[::1]:50051',
  'dns:127.0.0.1:50051',
  'dns:///127.0.0.1:50051',
  'dns:localhost:50051',
  'dns:///localhost:50051',
  'dns:[::1]:50051',
  'ipv4:127.0.0.1:50051',
  'ipv4:127.0.0.1:1,127.0.0.2:2',
  'ipv6:[::1]:50051',
  'ipv6:::1',
  'unix:/run/app.sock',
  'unix:///run/app.sock',
  '127.0.0.1',
  'localhost',
];

const HOSTILE = [
  'orders.example:443',
  'dns:orders.example:443',
  'dns:///orders.example:443',
  'ipv4:127.0.0.1:1,10.0.0.1:2',
  'ipv6:[::1]:1,[fd00::1]:2',
  'ipv4:10.0.0.1:1',
  '0.0.0.0:50051',
  '[::]:50051',
  'DNS:127.0.0.1:50051',
  'Dns:localhost:50051',
  'IPV4:127.0.0.1:50051',
  'UNIX:/run/app.sock',
  'dns:localhost:http',
  'localhost:http',
  'dns:127.0.0.1.nip.io:50051',
  'dns:localhost.evil.example:50051',
  'dns:evil.localhost:50051',
  'dns:localhost.:50051',
  'dns:127.1:50051',
  'dns:2130706433:50051',
  'dns:0x7f.0.0.1:50051',
  'dns:[::1%25lo]:50051',
  'dns:[fe80::1%lo]:50051',
  'dns:[::ffff:127.0.0.1]:50051',
  'dns:[::ffff:7f00:1]:50051',
  'ipv6:[::1:50051',
  'ipv4:127.0.0.1:1,',
  'dns:127.0.0.1:50051/evil',
  'dns:127.0.0.1:50051,10.0.0.1:2',
  'xds:///orders',
  // grpc-js 1.14 registers no unix-abstract resolver: the target becomes dns:unix-abstract:app, unreadable.
  'unix-abstract:app',
  'http://127.0.0.1:50051',
  '//127.0.0.1:50051',
  'dns:%31%32%37.0.0.1:50051',
  'dns:127.0.0.1 :50051',
  'dns: 127.0.0.1:50051',
  'dns:127.0.0.1:-1',
  'dns:127.0.0.1:50051:1',
  'ipv4:0177.0.0.1:1',
  'ipv6:[0:0:0:0:0:0:0:1]:1',
  'ipv6:[0000::0001]:1',
];

describe('token leak guard: channel targets as grpc-js reads them', () => {
  it('a target the guard calls loopback: grpc-js dials loopback hosts only', () => {
    const leaks: string[] = [];
    for (const target of [...LOCAL, ...HOSTILE]) {
      const channel = grpcJsChannel(target);
      if (channel === undefined || !isLoopbackTarget(channel.seen)) continue;
      const remote = channel.hosts === undefined ? ['(grpc-js cannot read it)'] : channel.hosts.filter((host) => !dialsLoopback(host));
      if (remote.length > 0) leaks.push(`${target} → ${channel.seen} dials ${remote.join(', ')}`);
    }
    assert.deepEqual(leaks, []);
  });

  it('the documented local forms (host:port, localhost, [::1], dns:, dns:///, ipv4:, ipv6:, unix:) are loopback', () => {
    const refused = LOCAL.filter((target) => {
      const channel = grpcJsChannel(target);
      return channel === undefined || !isLoopbackTarget(channel.seen);
    });
    assert.deepEqual(refused, []);
  });
});
