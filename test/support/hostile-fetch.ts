/**
 * Pieces for fetch functions that misbehave: bodies that record being cancelled, stall or never end,
 * and a recorder of unhandled rejections. What a proxy wrapper, an instrumentation library or plain
 * bad code could hand the library in place of `fetch`.
 */

/** A body stream and what happened to it. */
export interface TrackedBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** True once someone cancelled the stream. */
  readonly cancelled: () => boolean;
  /** Bytes handed out so far. */
  readonly sent: () => number;
}

export interface TrackedBodyOptions {
  /** What the stream hands out, one chunk per pull. */
  readonly chunks?: readonly Uint8Array[];
  /** After the chunks: `'end'` (default), `'stall'` (never another chunk, never the end) or `'endless'` (64 KiB chunks forever). */
  readonly then?: 'end' | 'stall' | 'endless';
  /** How `cancel()` ends: normally (default), or by throwing. */
  readonly cancel?: 'ok' | 'throws';
}

/** A real web stream that records whether it was cancelled and how much was read from it. */
export function trackedBody(options: TrackedBodyOptions = {}): TrackedBody {
  const chunks = options.chunks ?? [];
  let cancelled = false;
  let sent = 0;
  let index = 0;
  const filler = new Uint8Array(64 * 1024).fill(0x20);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++];
        if (chunk !== undefined) {
          sent += chunk.byteLength;
          controller.enqueue(chunk);
          return undefined;
        }
        if (options.then === 'endless') {
          sent += filler.byteLength;
          controller.enqueue(filler);
          return undefined;
        }
        if (options.then === 'stall') return new Promise<void>(() => undefined);
        controller.close();
        return undefined;
      },
      cancel() {
        cancelled = true;
        if (options.cancel === 'throws') throw new Error('socket already gone');
      },
      // Pulled only when read: `sent` counts what a reader took, not what the stream queued ahead.
    },
    { highWaterMark: 0 },
  );
  return { stream, cancelled: () => cancelled, sent: () => sent };
}

/** UTF-8 bytes of `text`. */
export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Records unhandled rejections while installed: a hostile fetch must never cause one. */
export interface RejectionRecorder {
  readonly reasons: unknown[];
  uninstall(): void;
}

export function recordUnhandledRejections(): RejectionRecorder {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => void reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, uninstall: () => void process.off('unhandledRejection', listener) };
}

/** Resolves after `ms` (for fetch functions that answer late). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The number of timers alive in this process. */
export function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}
