/**
 * Output of the CLI: every line leaves through {@link escapeForTerminal}, so a token cannot set the
 * window title, erase or recolour the verdict line, or forge a line such as "Verified: ...".
 */
import { escapeForTerminal } from '../util/unsafe-text.ts';
import type { CliIo, CommandIo } from './io.ts';

/**
 * The output commands get: every line goes through {@link escapeForTerminal} on its way to `io`, so no
 * output path can forget it. Only the breaks between the lines given are real newlines.
 *
 * @example
 * ```ts
 * import { processIo } from './io.ts';
 * const io = terminalSafeIo(processIo());
 * io.out('sub  admin\u202e'); // prints sub  admin\u202e, escaped: the bidi override is shown, not obeyed
 * ```
 */
export function terminalSafeIo(io: CliIo): CommandIo {
  const joined = (lines: readonly string[]): string => lines.map(escapeForTerminal).join('\n');
  return {
    out: (...lines) => io.out(joined(lines)),
    err: (...lines) => io.err(joined(lines)),
    readStdin: () => io.readStdin(),
    stopRequested: () => io.stopRequested(),
    now: () => io.now(),
  };
}
