/** `inspect` output for people. */
import { lines, printable } from './format.ts';
import type { InspectReport } from './inspect-report.ts';
import { KEY_FLAGS } from './key-source.ts';

function section(title: string, record: Readonly<Record<string, unknown>>, report: InspectReport): string[] {
  const rows = Object.entries(record).map(([name, value]): [string, string] => {
    const time = record === report.claims ? report.times[name] : undefined;
    return [printable(name), time ? `${time.iso} (${time.summary})` : printable(value)];
  });
  return [title, ...(rows.length > 0 ? lines(rows) : ['  (empty)'])];
}

function verdict(report: InspectReport): string[] {
  const { failure, verifiedWith } = report;
  if (failure) {
    return [
      `${report.header === null ? 'Cannot decode the token' : 'Verification FAILED'}: ${failure.kindDescription}`,
      ...lines([
        ['check', failure.check],
        ['problem', failure.problem],
        ['fix', failure.fix],
        ['code', `${failure.code}; a server answers ${failure.grpcStatus} with reason ${failure.reason}`],
      ]),
    ];
  }
  if (!verifiedWith) {
    return [
      'Not verified: this is only what the token says about itself. To check it as your server would, add its keys',
      `(${KEY_FLAGS.map((flag) => `--${flag}`).join(', ')}), the allowed algorithms (--alg) and, ideally, --iss and --aud.`,
    ];
  }
  const exp = report.times.exp;
  const rows: Array<[string, string]> = [
    ['signature', `verified with ${verifiedWith.kid === null ? 'the key' : `key ${JSON.stringify(verifiedWith.kid)}`} of ${verifiedWith.keys}`],
    ['algorithm', `${printable(report.header?.alg)}, allowed by [${verifiedWith.algorithms.join(', ')}]`],
    ['issuer', verifiedWith.issuers.length > 0 ? `${printable(report.claims?.iss)}, accepted` : 'not checked: add --iss (a server should check it)'],
    ['audience', verifiedWith.audiences.length > 0 ? `${printable(report.claims?.aud)}, accepted` : 'not checked: add --aud (a server should check it)'],
    ['expiry', exp ? exp.summary : 'no exp claim'],
  ];
  return ['Verified: a server with these settings accepts this token', ...lines(rows)];
}

/**
 * The report as lines of text. Token values are quoted and escaped by {@link printable}; the lines are
 * escaped once more on their way out, so a newline inside a value can never start a line of its own.
 *
 * @example
 * ```ts
 * import { inspectToken } from './inspect-report.ts';
 * const report = await inspectToken(token, undefined, Date.now); // decode only: no keys given
 * console.log(renderInspectReport(report).join('\n')); // Header ..., Claims ..., Not verified: ...
 * ```
 */
export function renderInspectReport(report: InspectReport): string[] {
  const parts: string[][] = [];
  if (report.header) parts.push(section('Header', report.header, report));
  if (report.claims) parts.push(section('Claims', report.claims, report));
  parts.push(verdict(report));
  return parts.flatMap((part, index) => (index === 0 ? part : ['', ...part]));
}
