/**
 * Leak probes for the fault tests: timers created by library code that are still alive, event listeners
 * on a grpc-js server's HTTP/2 servers and sessions, ref'd resources of the process, and a settle loop
 * that waits (boundedly) for them to come back, so no assertion depends on timing.
 */
import { createHook } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Timers whose `setTimeout`/`setInterval` was called directly from library code (src/). */
export interface TimerProbe {
  /** One stack frame per library timer still alive (neither fired nor cleared). */
  alive(): string[];
  /** How many library timers were created since the probe started (proves the probe sees them). */
  seen(): number;
  stop(): void;
}

export function probeLibraryTimers(): TimerProbe {
  const live = new Map<number, string>();
  let seen = 0;
  const hook = createHook({
    init(asyncId, type) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 20;
      const frames = (new Error().stack ?? '').split('\n');
      Error.stackTraceLimit = limit;
      // The frame right after setTimeout/setInterval is the caller; node internals (AbortSignal.timeout,
      // undici) create their own timers without going through them and are not the library's.
      const at = frames.findIndex((frame) => /at (setTimeout|setInterval) \(node:timers/.test(frame));
      const caller = at < 0 ? undefined : frames[at + 1];
      if (!caller?.includes(SRC)) return;
      seen += 1;
      live.set(asyncId, caller.trim());
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  });
  hook.enable();
  return { alive: () => [...live.values()], seen: () => seen, stop: () => hook.disable() };
}

/** Listener counts by event on a grpc-js server's HTTP/2 servers and open sessions (grpc-js internals). */
export function serverListeners(server: grpc.Server): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (prefix: string, emitter: EventEmitter): void => {
    for (const name of emitter.eventNames()) counts[`${prefix}:${String(name)}`] = (counts[`${prefix}:${String(name)}`] ?? 0) + emitter.listenerCount(name);
  };
  const internals = server as unknown as { http2Servers: Map<EventEmitter, unknown>; sessions: Map<EventEmitter, unknown> };
  for (const http2Server of internals.http2Servers.keys()) add('http2Server', http2Server);
  for (const session of internals.sessions.keys()) add('session', session);
  return counts;
}

/** Listener counts on `process` by event. */
export function processListeners(): Record<string, number> {
  return Object.fromEntries(process.eventNames().map((name) => [String(name), process.listenerCount(name)]));
}

/** Ref'd resources of the process by type (`Timeout`, `TCPSocketWrap`, ...). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Entries of `now` above `baseline`, as readable lines. */
export function grownOver(baseline: Record<string, number>, now: Record<string, number>): string[] {
  return Object.entries(now)
    .filter(([name, count]) => count > (baseline[name] ?? 0))
    .map(([name, count]) => `${name}: ${baseline[name] ?? 0} → ${count}`);
}

/** Re-checks until `problems()` is empty or about 3 s have passed; returns what is left. */
export async function settle(problems: () => string[]): Promise<string[]> {
  let left = problems();
  for (let round = 0; round < 150 && left.length > 0; round++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = problems();
  }
  return left;
}
