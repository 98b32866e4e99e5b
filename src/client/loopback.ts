import { isIP } from 'node:net';
import { isLoopbackHost } from '../util/loopback.ts';

/** The host of `host:port`, `[v6]:port` or a bare host. */
function hostOf(address: string): string {
  if (address.startsWith('[')) return address.slice(0, address.indexOf(']') + 1);
  if (isIP(address) === 6) return address;
  const colon = address.lastIndexOf(':');
  return colon === -1 ? address : address.slice(0, colon);
}

/**
 * True when a grpc-js channel target (`dns:127.0.0.1:50051`, `dns:///localhost:50051`, `ipv6:[::1]:50051`,
 * `unix:/run/app.sock`) only reaches this machine. grpc-js normalizes every target to this URI form.
 * Other schemes and anything unparsable are not loopback: the guard fails closed.
 *
 * @example
 * ```ts
 * isLoopbackTarget('dns:localhost:50051'); // true
 * isLoopbackTarget('dns:orders.example:443'); // false
 * ```
 */
export function isLoopbackTarget(target: string): boolean {
  const match = /^([a-z][a-z0-9+.-]*):(?:\/\/[^/]*\/)?(.*)$/i.exec(target);
  if (!match) return false;
  const scheme = (match[1] ?? '').toLowerCase();
  if (scheme === 'unix' || scheme === 'unix-abstract') return true;
  if (scheme !== 'dns' && scheme !== 'ipv4' && scheme !== 'ipv6') return false;
  // ipv4: and ipv6: targets may list several addresses: every one must be local.
  return (match[2] ?? '').split(',').every((address) => address.length > 0 && isLoopbackHost(hostOf(address)));
}
