/**
 * How grpc-js routes a channel through an HTTP CONNECT proxy named in the environment, replayed so the
 * token interceptor can tell whether a plaintext call to a loopback target really stays on this machine.
 *
 * grpc-js (1.10 to 1.14, `http_proxy.ts`) reads the variables once, when a channel is created:
 * - the proxy is the first non-empty of `grpc_proxy`, `https_proxy`, `http_proxy` (lower case only);
 * - it is skipped for `unix:` targets, with the channel option `grpc.enable_http_proxy: 0`, and for a
 *   target host that the no-proxy list matches: `no_grpc_proxy` when non-empty, else `no_proxy`, split
 *   on commas without trimming;
 * - a proxied channel's target becomes the proxy's `host:port`, and grpc-js tunnels the real target
 *   through it with HTTP CONNECT. The interceptor sees only that target, never the channel options.
 *
 * What counts as a match changed across the versions the package supports: 1.10 to 1.12 skip the proxy
 * only for an entry equal to the host; 1.13 and later also for CIDR ranges and suffixes (so `.0.0.1`,
 * or an empty entry from a trailing comma, matches `127.0.0.1`). The guard accepts only what every
 * version agrees on, an entry equal to the host: where the versions differ, assuming the lenient one
 * would let a token through a proxy that an older grpc-js uses.
 */

import { parseTarget, splitHostPort } from './channel-target.ts';

/**
 * When the proxy variables were read: when the interceptor was created, or at a call.
 *
 * @example
 * ```ts
 * import type { ReadAt } from './proxy-variables.ts';
 * const readAt: ReadAt = 'creation';
 * ```
 */
export type ReadAt = 'creation' | 'call';

/** The proxy variables grpc-js reads, in its order of precedence. */
const PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy'] as const;

/** A proxy variable that is set, and the `host:port` grpc-js would dial for it (none if unparsable). */
interface NamedProxy {
  readonly variable: string;
  readonly host: string | undefined;
  readonly port: string | undefined;
}

/**
 * The proxy variables as read at one moment.
 *
 * @example
 * ```ts
 * import type { ProxyVariables } from './proxy-variables.ts';
 * const reading: ProxyVariables = readProxyVariables(process.env, 'call');
 * ```
 */
export interface ProxyVariables {
  /** Every non-empty proxy variable, in grpc-js's order of precedence. */
  readonly proxies: readonly NamedProxy[];
  /** The no-proxy list grpc-js consults and the variable it came from. */
  readonly noProxy: { readonly variable: 'no_grpc_proxy' | 'no_proxy'; readonly entries: readonly string[] } | undefined;
  /** When this reading was taken: when the interceptor was created, or at a call. */
  readonly readAt: ReadAt;
}

/**
 * Why a proxy may carry a call to a loopback target:
 * - `proxy-target`: the target is itself a proxy's address, so the channel is proxied and the real
 *   target, somewhere else, is hidden from the interceptor;
 * - `proxied`: a proxy is named and no-proxy does not list the target's host.
 *
 * @example
 * ```ts
 * import type { ProxyRisk } from './proxy-variables.ts';
 * const risk: ProxyRisk = { kind: 'proxied', variable: 'https_proxy', host: '127.0.0.1', noProxyVariable: 'no_grpc_proxy', readAt: 'call' };
 * ```
 */
export type ProxyRisk =
  | { readonly kind: 'proxy-target'; readonly variable: string; readonly readAt: ReadAt }
  | { readonly kind: 'proxied'; readonly variable: string; readonly host: string; readonly noProxyVariable: string; readonly readAt: ReadAt };

function bare(host: string): string {
  return (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
}

function namedProxy(variable: string, value: string): NamedProxy {
  // As grpc-js: a WHATWG URL; its hostname and port, 80 when none is given.
  const url = URL.parse(value);
  if (url === null) return { variable, host: undefined, port: undefined };
  return { variable, host: bare(url.hostname), port: url.port === '' ? '80' : url.port };
}

/**
 * Reads the proxy variables grpc-js reads, as they are in `env` now.
 *
 * @example
 * ```ts
 * const atCreation = readProxyVariables(process.env, 'creation');
 * ```
 */
export function readProxyVariables(env: NodeJS.ProcessEnv, readAt: ReadAt): ProxyVariables {
  const proxies: NamedProxy[] = [];
  for (const variable of PROXY_VARIABLES) {
    const value = env[variable];
    if (value) proxies.push(namedProxy(variable, value));
  }
  // grpc-js consults no_grpc_proxy when it is non-empty, and only otherwise no_proxy.
  const variable = env.no_grpc_proxy ? 'no_grpc_proxy' : 'no_proxy';
  const list = env[variable];
  return { proxies, noProxy: list ? { variable, entries: list.split(',') } : undefined, readAt };
}

/**
 * Whether a proxy named in `reading` may carry a plaintext call to the channel target `target`
 * (`dns:127.0.0.1:50051`, as grpc-js reports it), or undefined when it cannot: no proxy is named, the
 * target is a `unix:` socket, or no-proxy lists its host exactly. Anything the guard cannot parse is a
 * risk: it fails closed.
 *
 * @example
 * ```ts
 * proxyRisk('dns:127.0.0.1:50051', readProxyVariables({ https_proxy: 'http://proxy.corp:3128' }, 'call')); // { kind: 'proxied', ... }
 * proxyRisk('unix:/run/app.sock', readProxyVariables({ https_proxy: 'http://proxy.corp:3128' }, 'call')); // undefined
 * ```
 */
export function proxyRisk(target: string, reading: ProxyVariables): ProxyRisk | undefined {
  const first = reading.proxies[0];
  if (first === undefined) return undefined;
  const parsed = parseTarget(target);
  // The one case grpc-js never proxies, whatever the environment: a unix domain socket.
  if (parsed?.scheme === 'unix') return undefined;
  const hostPort = parsed === undefined ? undefined : splitHostPort(parsed.path);
  const noProxyVariable = reading.noProxy?.variable ?? 'no_grpc_proxy';
  if (hostPort === undefined) return { kind: 'proxied', variable: first.variable, host: target, noProxyVariable, readAt: reading.readAt };
  // A proxied channel's target is the proxy itself: no-proxy listing the proxy's host proves nothing.
  const host = bare(hostPort.host);
  const proxy = reading.proxies.find((named) => named.host === host && (hostPort.port === undefined || named.port === hostPort.port));
  if (proxy !== undefined) return { kind: 'proxy-target', variable: proxy.variable, readAt: reading.readAt };
  if (reading.noProxy?.entries.includes(hostPort.host)) return undefined;
  return { kind: 'proxied', variable: first.variable, host: hostPort.host, noProxyVariable, readAt: reading.readAt };
}
