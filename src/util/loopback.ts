import { isIP } from 'node:net';

/**
 * True for a host name or address that never leaves this machine: `localhost`, 127.0.0.0/8, `::1`
 * (also IPv4-mapped). Other names are not trusted even if they resolve to loopback today: DNS can change.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('api.example.com'); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost') return true;
  if (isIP(lower) === 4) return lower.startsWith('127.');
  if (isIP(lower) === 6) return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || /^::ffff:127\.\d+\.\d+\.\d+$/.test(lower);
  return false;
}
