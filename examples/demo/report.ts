/**
 * How the demo prints: numbered steps with a short explanation, indented results, and a verdict per step
 * that decides the exit code.
 */

const INDENT = '   ';

/** What one step shows and checks. */
export class StepReport {
  readonly #started = Date.now();
  readonly #unmet: string[] = [];

  /** Prints one result line under the step. */
  show(text: string): void {
    console.log(`${INDENT}${text}`);
  }

  /** Prints a line prefixed with the time since the step started, e.g. `+1.8 s`. */
  at(text: string): void {
    this.show(`${this.elapsed().padStart(7)}  ${text}`);
  }

  /** Records an expectation; an unmet one fails the step (and the demo's exit code). */
  expect(condition: boolean, expectation: string): void {
    if (!condition) this.#unmet.push(expectation);
  }

  /** Time since the step started, e.g. `+1.8 s`. */
  elapsed(): string {
    return `+${((Date.now() - this.#started) / 1000).toFixed(1)} s`;
  }

  get unmet(): readonly string[] {
    return this.#unmet;
  }
}

/**
 * Prints a step's heading and explanation.
 *
 * @example
 * ```ts
 * printStep(1, 'An authenticated unary call', ['The client sends its token; the server verifies it.']);
 * ```
 */
export function printStep(number: number, title: string, explanation: readonly string[]): void {
  console.log(`\n${number}. ${title}`);
  for (const line of explanation) console.log(`${INDENT}${line}`);
}

/** Prints the step's verdict; returns whether it behaved as expected. */
export function printVerdict(report: StepReport): boolean {
  if (report.unmet.length === 0) {
    console.log(`${INDENT}✔ as expected`);
    return true;
  }
  for (const expectation of report.unmet) console.log(`${INDENT}✘ expected: ${expectation}`);
  return false;
}

/** Seconds from now until `epochMs`, e.g. `2.4 s`. */
export function secondsUntil(epochMs: number): string {
  return `${((epochMs - Date.now()) / 1000).toFixed(1)} s`;
}
