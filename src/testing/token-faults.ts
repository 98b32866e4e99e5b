/**
 * The misbehaviours the test issuer's token endpoint can be told to show, for tests of clients: the type
 * tests write, its check, and the queue the endpoint takes them from. A fault is checked when it is
 * injected: one the endpoint misread (the old `{ kind: 'delay', ms: 2000 }` read as no delay at all)
 * would let a test of timeouts or outages pass for the wrong reason.
 */
import { AuthConfigError } from '../errors/config-error.ts';
import { isRecord, optionalChoice, optionalInteger, optionalSeconds, optionalString, optionNames } from '../util/option-checks.ts';
import type { SignOptions, TestClaims } from './test-issuer.ts';
import { checkedSignOptions, checkTestOptionNames, optionalRecord, optionalText, optionalTime } from './test-option-checks.ts';

/**
 * A misbehaviour to test clients against.
 *
 * @example
 * ```ts
 * import { createTestIssuer, type TokenFault } from 'grpc-jwt-auth/testing';
 * const served = await (await createTestIssuer()).serve();
 * const outage: TokenFault = { kind: 'status', status: 503 };
 * served.tokenEndpoint.injectFault(outage, 1); // the next request gets 503
 * served.tokenEndpoint.injectFault({ kind: 'token', claims: { exp: undefined }, expiresIn: null }, 1); // then a token with no expiry
 * ```
 */
export type TokenFault =
  /** Answer with this status and body instead (e.g. 500, or 200 with `not json`). */
  | {
      /** Selects this fault: answer with the given status and body. */
      readonly kind: 'status';
      /** The HTTP status code of the answer, e.g. 500, 503 or 200. */
      readonly status: number;
      /** The response body. Default empty. */
      readonly body?: string;
      /** The `content-type` of the answer. Default `text/plain`. */
      readonly contentType?: string;
    }
  /** Wait `duration` seconds, then answer normally. */
  | {
      /** Selects this fault: answer late. */
      readonly kind: 'delay';
      /** How long to wait before answering, in seconds (e.g. 0.2), at most 600. */
      readonly duration: number;
    }
  /** Never answer (until the server closes). */
  | {
      /** Selects this fault: never answer. */
      readonly kind: 'hang';
    }
  /** Answer normally, but with a doctored access token: e.g. `claims: { exp: undefined }, expiresIn: null`. */
  | {
      /** Selects this fault: a normal answer with a doctored access token. */
      readonly kind: 'token';
      /** Claims merged over the usual ones; a claim set to `undefined` is removed. */
      readonly claims?: TestClaims;
      /** Sign options merged over the usual ones (`issuedAt` now, `expiresIn` the access-token lifetime). */
      readonly signOptions?: SignOptions;
      /**
       * The `expires_in` of the response, in seconds; `null` leaves it out. Default the access-token
       * lifetime. The token's own `exp` is set by `signOptions.expiresIn`.
       */
      readonly expiresIn?: number | null;
    };

type FaultOf<K extends TokenFault['kind']> = Extract<TokenFault, { kind: K }>;

/** The fields of each kind of fault, typed against it. */
const FAULT_FIELDS: { readonly [K in TokenFault['kind']]: ReadonlySet<string> } = {
  status: optionNames<FaultOf<'status'>>({ kind: true, status: true, body: true, contentType: true }),
  delay: optionNames<FaultOf<'delay'>>({ kind: true, duration: true }),
  hang: optionNames<FaultOf<'hang'>>({ kind: true }),
  token: optionNames<FaultOf<'token'>>({ kind: true, claims: true, signOptions: true, expiresIn: true }),
};
const KINDS = Object.keys(FAULT_FIELDS) as ReadonlyArray<TokenFault['kind']>;
/** Longer than any test waits: a larger delay is milliseconds given as seconds. */
const MAX_DELAY = 600;

function required<T>(value: T | undefined, option: string): T {
  if (value === undefined) throw new AuthConfigError(option, 'required');
  return value;
}

/**
 * Checks a fault as a test wrote it, naming a wrong field by its path (`fault.duration`), and returns a
 * shallow copy: a test that changes its object afterwards does not change the queued fault.
 *
 * @example
 * ```ts
 * checkFault({ kind: 'delay', duration: 0.5 }); // { kind: 'delay', duration: 0.5 }
 * checkFault({ kind: 'delay', ms: 500 }); // throws AuthConfigError('fault.ms', 'unknown option')
 * ```
 */
export function checkFault(fault: unknown): TokenFault {
  if (!isRecord(fault)) throw new AuthConfigError('fault', 'expected a fault object');
  const kind = required(optionalChoice(fault.kind, 'fault.kind', KINDS), 'fault.kind');
  checkTestOptionNames(fault, FAULT_FIELDS[kind], 'fault.');
  if (kind === 'status') {
    required(optionalInteger(fault.status, 'fault.status', 100, 599), 'fault.status');
    optionalText(fault.body, 'fault.body');
    optionalString(fault.contentType, 'fault.contentType');
  } else if (kind === 'delay') {
    required(optionalSeconds(fault.duration, 'fault.duration', 0, MAX_DELAY), 'fault.duration');
  } else if (kind === 'token') {
    optionalRecord(fault.claims, 'fault.claims');
    if (fault.signOptions !== undefined) checkedSignOptions(fault.signOptions, 'fault.signOptions.');
    // null leaves expires_in out of the answer; a negative one tests a client against an expired answer.
    if (fault.expiresIn !== null) optionalTime(fault.expiresIn, 'fault.expiresIn');
  }
  return { ...fault } as TokenFault;
}

/**
 * The faults waiting for the next requests, in order, each for a number of requests.
 *
 * @example
 * ```ts
 * const faults = new FaultQueue();
 * faults.add({ kind: 'status', status: 503 }, 2);
 * faults.next(); // the 503 fault; once more, then undefined
 * ```
 */
export class FaultQueue {
  private readonly pending: Array<{ readonly fault: TokenFault; left: number }> = [];

  /** Queues `fault` for the next `times` requests: a whole number from 1, or Infinity (the default). */
  add(fault: unknown, times: unknown = Infinity): void {
    const checked = checkFault(fault);
    const left = times === Infinity ? Infinity : required(optionalInteger(times, 'times', 1, Number.MAX_SAFE_INTEGER), 'times');
    this.pending.push({ fault: checked, left });
  }

  /** The fault the next request meets, or undefined to answer it normally. */
  next(): TokenFault | undefined {
    const head = this.pending[0];
    if (!head) return undefined;
    head.left -= 1;
    if (head.left <= 0) this.pending.shift();
    return head.fault;
  }

  clear(): void {
    this.pending.length = 0;
  }
}
