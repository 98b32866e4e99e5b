/** Calls made in a loop, and a log of which token each reply was authorized with. */
import type { Calls, Refusal } from './client.ts';
import type { Caller } from './orders.ts';
import { secondsUntil, type StepReport } from './report.ts';

/** How a loop of calls went. */
export interface LoopResult {
  readonly calls: number;
  readonly refusals: readonly Refusal[];
}

/** Options of {@link callRepeatedly}. */
export interface LoopOptions {
  /** Milliseconds between the end of a call and the next. */
  readonly everyMs: number;
  /** Checked before each call: true stops the loop. */
  readonly until: () => boolean;
  /** The loop stops after this many milliseconds whatever `until` says, so a misbehaving step ends. */
  readonly maxMs: number;
  readonly onReply: (caller: Caller, call: number) => void;
}

/**
 * Calls GetOrder again and again, as a busy client would, and counts refusals.
 *
 * @example
 * ```ts
 * const result = await callRepeatedly(calls, { everyMs: 200, maxMs: 5000, until: () => false, onReply: () => {} });
 * ```
 */
export async function callRepeatedly(calls: Calls, options: LoopOptions): Promise<LoopResult> {
  const started = Date.now();
  const refusals: Refusal[] = [];
  let count = 0;
  while (!options.until() && Date.now() - started < options.maxMs) {
    count += 1;
    const outcome = await calls.getOrder('A-1001');
    if (outcome.ok) options.onReply(outcome.value.caller, count);
    else refusals.push(outcome.refusal);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs));
  }
  return { calls: count, refusals };
}

interface SeenToken {
  readonly number: number;
  readonly expiresAtMs: number;
  readonly keyId: string;
}

/**
 * Numbers the tokens replies were authorized with (by `jti`) and prints a line whenever a new one shows
 * up, with how long the previous one still had to live: that is the refresh happening ahead of expiry.
 */
export class TokenLog {
  readonly #report: StepReport;
  readonly #seen = new Map<string, SeenToken>();
  #current: SeenToken | undefined;

  constructor(report: StepReport) {
    this.#report = report;
  }

  observe(caller: Caller, call: number): void {
    if (this.#seen.has(caller.tokenId)) return;
    const token: SeenToken = { number: this.#seen.size + 1, expiresAtMs: caller.tokenExpiresAtMs, keyId: caller.keyId };
    this.#seen.set(caller.tokenId, token);
    const previous = this.#current;
    const overlap = previous ? `; token #${previous.number} still had ${secondsUntil(previous.expiresAtMs)} to live` : '';
    this.#report.at(
      `call ${String(call).padStart(2)} OK with token #${token.number} (key ${token.keyId}, expires in ${secondsUntil(token.expiresAtMs)})${overlap}`,
    );
    this.#current = token;
  }

  /** How many different tokens were seen. */
  get count(): number {
    return this.#seen.size;
  }

  /** Whether some reply was authorized with a token signed by `keyId`. */
  sawKey(keyId: string): boolean {
    return [...this.#seen.values()].some((token) => token.keyId === keyId);
  }
}
