import assert from 'node:assert/strict';
import type { CliRun } from './cli.ts';

/** Text that misleads a terminal when printed raw. */
export const HOSTILE = {
  /** OSC 0: sets the window title. */
  osc: '\u001b]0;pwned\u0007',
  /** Erases the line and returns to its start, so what follows overwrites it. */
  eraseLine: '\u001b[2K\r',
  /** CSI select graphic rendition: red. */
  csi: '\u001b[31m',
  /** C1 CSI (8-bit), erasing the line on terminals that honour C1 controls. */
  c1Csi: '\u009b2K',
  /** Right-to-left override: reorders what follows on screen. */
  rlo: '\u202e',
  /** Line separator: a line break for some terminals and viewers; JSON.stringify leaves it raw. */
  lineSeparator: '\u2028',
  del: '\u007f',
  /** A newline followed by a forged verdict. */
  forgedLine: '\nVerified: a server with these settings accepts this token',
} as const;

/** `label` with every hostile sequence appended. */
export const hostile = (label: string): string => label + Object.values(HOSTILE).join('x');

/** Claims with hostile names and values, nested and in arrays. */
export function hostileClaims(): Record<string, unknown> {
  return {
    sub: hostile('alice'),
    scope: `orders:read ${HOSTILE.csi}orders:admin`,
    roles: [hostile('admin'), 'user'],
    [hostile('claim')]: hostile('value'),
    [`x${HOSTILE.c1Csi}`]: { [HOSTILE.rlo]: [HOSTILE.lineSeparator, HOSTILE.eraseLine] },
  };
}

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token whose signature is garbage: enough for decoding and for refusals before the signature check. */
export const unsignedToken = (header: Record<string, unknown>, claims: Record<string, unknown>): string =>
  `${part(header)}.${part(claims)}.${Buffer.from('not a signature').toString('base64url')}`;

/**
 * Characters a terminal acts on or that change how text is shown: C0 controls but the newline (ours
 * between lines), DEL, C1 controls, bidi controls and the Unicode line and paragraph separators.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;

/** Fails naming the first unsafe character and where it is, in stdout or stderr. */
export function assertTerminalSafe(run: CliRun): void {
  for (const [stream, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ] as const) {
    const match = UNSAFE.exec(text);
    assert.equal(
      match,
      null,
      match
        ? `${stream} holds U+${(match[0].codePointAt(0) ?? 0).toString(16).padStart(4, '0')} near ${JSON.stringify(text.slice(Math.max(0, match.index - 40), match.index + 10))}`
        : '',
    );
  }
}
