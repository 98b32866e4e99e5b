/**
 * How grpc-js reads a channel target (`dns:127.0.0.1:50051`, `ipv6:[::1]:50051`, `unix:/run/app.sock`),
 * replayed once for the token leak guard: whether a target stays on this machine, and which host an HTTP
 * proxy would be asked for. Both read a target exactly as grpc-js (1.10 to 1.14, `uri-parser.ts`) does,
 * so the guard never judges a different host than the one grpc-js dials. Anything unparsable fails closed.
 */
import { isIP } from 'node:net';
import { isLoopbackHost } from '../util/loopback.ts';

/**
 * A channel target split as grpc-js splits it: `scheme:[//authority/]path`.
 *
 * @example
 * ```ts
 * import type { ChannelTarget } from './channel-target.ts';
 * const target: ChannelTarget = { scheme: 'dns', path: '127.0.0.1:50051' };
 * ```
 */
export interface ChannelTarget {
  /** `dns`, `ipv4`, `ipv6`, `unix`, ...; undefined when the target names none. */
  readonly scheme: string | undefined;
  /** Between `//` and the next `/`: for `dns`, the DNS server to ask; undefined (or empty) for the system's resolver. */
  readonly authority?: string;
  /** What the scheme's resolver reads: `host:port`, a list of addresses, a socket path. */
  readonly path: string;
}

/**
 * Splits a channel target with grpc-js's own pattern, or undefined when it does not match (an empty string).
 *
 * @example
 * ```ts
 * parseTarget('dns:///localhost:50051'); // { scheme: 'dns', authority: '', path: 'localhost:50051' }
 * ```
 */
export function parseTarget(target: string): ChannelTarget | undefined {
  const match = /^(?:([A-Za-z0-9+.-]+):)?(?:\/\/([^/]*)\/)?(.+)$/.exec(target);
  if (match === null) return undefined;
  return match[2] === undefined ? { scheme: match[1], path: match[3] ?? '' } : { scheme: match[1], authority: match[2], path: match[3] ?? '' };
}

/**
 * grpc-js's reading of `host:port`, `[v6]:port`, a bare host or a bare IPv6 address; undefined for
 * what it cannot read (a port that is not a number, an unclosed bracket).
 *
 * @example
 * ```ts
 * splitHostPort('[::1]:50051'); // { host: '::1', port: '50051' }
 * splitHostPort('localhost:http'); // undefined
 * ```
 */
export function splitHostPort(path: string): { readonly host: string; readonly port: string | undefined } | undefined {
  if (path.startsWith('[')) {
    const end = path.indexOf(']');
    if (end === -1) return undefined;
    const rest = path.slice(end + 1);
    if (rest !== '' && !/^:\d+$/.test(rest)) return undefined;
    return { host: path.slice(1, end), port: rest === '' ? undefined : rest.slice(1) };
  }
  const parts = path.split(':');
  if (parts.length === 2) return /^\d+$/.test(parts[1] ?? '') ? { host: parts[0] ?? '', port: parts[1] } : undefined;
  return { host: path, port: undefined };
}

/**
 * True when a channel target only reaches this machine: a unix socket, or loopback addresses only.
 * grpc-js normalizes every target to this URI form. Other schemes and anything unparsable are not
 * loopback: the guard fails closed.
 *
 * @example
 * ```ts
 * isLoopbackTarget('dns:localhost:50051'); // true
 * isLoopbackTarget('dns:orders.example:443'); // false
 * ```
 */
export function isLoopbackTarget(target: string): boolean {
  const parsed = parseTarget(target);
  const scheme = parsed?.scheme?.toLowerCase();
  if (scheme === 'unix' || scheme === 'unix-abstract') return true;
  if (parsed === undefined || (scheme !== 'dns' && scheme !== 'ipv4' && scheme !== 'ipv6')) return false;
  // dns://10.0.0.53/localhost: grpc-js may ask that server (GRPC_NODE_USE_ALTERNATIVE_RESOLVER), and its
  // answer, not this machine's hosts file, says where "localhost" is. Only an address is local there.
  const namesAreLocal = !parsed.authority;
  // ipv4: and ipv6: targets may list several addresses: every one must be local.
  return parsed.path.split(',').every((address) => {
    const hostPort = splitHostPort(address);
    if (hostPort === undefined || hostPort.host.length === 0) return false;
    return (namesAreLocal || isIP(hostPort.host) !== 0) && isLoopbackHost(hostPort.host);
  });
}
