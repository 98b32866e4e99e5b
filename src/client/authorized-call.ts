import { Metadata, status, type InterceptingListener, type InterceptorOptions, type NextCall, type StatusObject } from '@grpc/grpc-js';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, decodeErrorInfo } from '../errors/error-info.ts';
import { isDpopNonceChallenge } from './dpop-challenge.ts';
import type { CallProofs } from './dpop-target.ts';
import type { TokenSupplier } from './token-source.ts';
import { localStatus, tokenFailureStatus } from './token-status.ts';
import type { TransportGuard } from './transport-guard.ts';

type CallInterface = ReturnType<NextCall>;
type MessageContext = Parameters<CallInterface['sendMessageWithContext']>[0];

/**
 * What every call of one interceptor shares.
 *
 * @example
 * ```ts
 * import type { CallPolicy } from './authorized-call.ts';
 * import { toTokenSupplier } from './token-source.ts';
 * import { TransportGuard } from './transport-guard.ts';
 * const policy: CallPolicy = { tokens: toTokenSupplier('abc.def.ghi', 'token'), guard: new TransportGuard(undefined) };
 * ```
 */
export interface CallPolicy {
  readonly tokens: TokenSupplier;
  readonly guard: TransportGuard;
  /** Set when tokens are DPoP-bound: each attempt carries `authorization: DPoP <token>` and a fresh proof. */
  readonly dpop?: CallProofs;
}

/** Why our server refused the call as UNAUTHENTICATED (its ErrorInfo reason), if it did. */
function refusalReason(result: StatusObject): string | undefined {
  if (result.code !== status.UNAUTHENTICATED) return undefined;
  const details = result.metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!(details instanceof Uint8Array)) return undefined;
  const info = decodeErrorInfo(details);
  return info?.domain === ERROR_DOMAIN ? info.reason : undefined;
}

/**
 * True when the server refused the call for want of a DPoP nonce: our ErrorInfo reason
 * `DPOP_NONCE_REQUIRED`, or, from a server without our ErrorInfo, a `www-authenticate` whose one challenge
 * is `DPoP error="use_dpop_nonce"` (RFC 9449 §9, as oauth4webapi's isDPoPNonceError). Our reason, when
 * there is one, decides: a TOKEN_EXPIRED refusal stays that.
 */
function wantsNonce(result: StatusObject, reason: string | undefined): boolean {
  if (reason !== undefined) return reason === 'DPOP_NONCE_REQUIRED';
  return result.code === status.UNAUTHENTICATED && isDpopNonceChallenge(result.metadata?.get('www-authenticate') ?? []);
}

/** The status details of a call whose client was closed while its token was being fetched. */
const CHANNEL_CLOSED = 'grpc-jwt-auth: channel closed';
/** The status details of a call ended by an unexpected error in this interceptor. */
const INTERNAL_ERROR = 'grpc-jwt-auth: internal error in the token interceptor';
/** The status details of a call whose DPoP proof could not be made (a custom key that throws, no origin for the target). */
const NO_PROOF = 'grpc-jwt-auth: no DPoP proof could be made for this call (set dpop.origin if the channel target names no host)';

/** What the first attempt of a unary call answered, held back until we know whether to retry. */
interface HeldAnswer {
  metadata?: Metadata;
  message?: { value: unknown };
}

/**
 * One client call that carries `authorization: Bearer <token>`, or `DPoP <token>` and a `dpop` proof.
 *
 * The real call (`nextCall(options)`) is created only once the token is known. Created earlier, grpc-js
 * would run its deadline on a call without a listener and the status would be lost; so while waiting for
 * the token this call runs the deadline itself and buffers what the application sends.
 *
 * A unary call is retried once, with a forced token refresh, when the server answers UNAUTHENTICATED with
 * reason TOKEN_EXPIRED, or with a new proof when it asks for a DPoP nonce (reason DPOP_NONCE_REQUIRED,
 * or from another server the one challenge `DPoP error="use_dpop_nonce"`) and sends a new `dpop-nonce`
 * (one retry per call in all). That is safe even for methods that are not idempotent: the
 * server's interceptor refused the call before its handler ran. Streaming calls are never replayed: their
 * messages may already have been acted on, and replaying a stream would need to buffer it without bound;
 * the application sees the status and decides.
 *
 * The DPoP proof is signed between the attempt's creation (which tells the channel target, hence the
 * `htu`) and its start; this call's own deadline timer and cancellation cover that wait as they cover the
 * token's, and drop the attempt that was never started.
 *
 * @example
 * ```ts
 * import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
 * import type { CallPolicy } from './authorized-call.ts';
 * declare const policy: CallPolicy;
 * const interceptor: Interceptor = (options, nextCall) => new InterceptingCall(new AuthorizedCall(options, nextCall, policy));
 * ```
 */
export class AuthorizedCall implements CallInterface {
  private readonly retryable: boolean;
  private attempt: CallInterface | undefined;
  /** An attempt created but not started while its DPoP proof is signed. */
  private preparing: CallInterface | undefined;
  /** The origin of the current attempt's `htu` and the nonce its proof carried (DPoP only). */
  private proofOrigin = '';
  private sentNonce: string | undefined;
  private target = '';
  private listener: InterceptingListener | undefined;
  private metadata: Metadata | undefined;
  /** Messages not yet given to an attempt; for a retryable (unary) call, every message, for the replay. */
  private readonly messages: Array<readonly [MessageContext, unknown]> = [];
  private halfClosed = false;
  private readRequested = false;
  private retried = false;
  private ended = false;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: InterceptorOptions,
    private readonly nextCall: NextCall,
    private readonly policy: CallPolicy,
  ) {
    const method = options.method_definition;
    this.retryable = !method.requestStream && !method.responseStream;
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.metadata = metadata;
    this.listener = {
      onReceiveMetadata: (value) => listener?.onReceiveMetadata?.(value),
      onReceiveMessage: (value) => listener?.onReceiveMessage?.(value),
      onReceiveStatus: (value) => listener?.onReceiveStatus?.(value),
    };
    this.runDeadline();
    this.settle(
      this.policy.tokens.get(),
      (token) => this.open(token),
      (error) => this.finish(tokenFailureStatus(error)),
    );
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (this.attempt) this.attempt.sendMessageWithContext(context, message);
    if (this.retryable || !this.attempt) this.messages.push([context, message]);
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  startRead(): void {
    this.readRequested = true;
    this.attempt?.startRead();
  }

  halfClose(): void {
    this.halfClosed = true;
    this.attempt?.halfClose();
  }

  cancelWithStatus(code: status, details: string): void {
    if (this.ended) return;
    // A running attempt reports the cancellation through its listener; otherwise end here.
    if (this.attempt) this.attempt.cancelWithStatus(code, details);
    else {
      this.dropPreparing();
      this.finish(localStatus(code, details));
    }
  }

  getPeer(): string {
    return this.attempt?.getPeer() ?? 'unknown';
  }

  getAuthContext(): ReturnType<CallInterface['getAuthContext']> {
    return this.attempt?.getAuthContext() ?? null;
  }

  private runDeadline(): void {
    const deadline = this.options.deadline instanceof Date ? this.options.deadline.getTime() : (this.options.deadline ?? Infinity);
    if (!Number.isFinite(deadline)) return;
    this.deadlineTimer = setTimeout(() => this.cancelWithStatus(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), Math.max(0, deadline - Date.now()));
  }

  /**
   * Runs `onValue` or `onError` once `promise` settles, making sure nothing they throw becomes an
   * unhandled rejection: in Node's default mode that ends the process, and the call's status would never
   * come. A failure of ours ends the call here with INTERNAL. Once the call has ended, what was thrown came
   * from the application's own listener (the status callback), and it is rethrown outside the promise,
   * as an uncaught exception, exactly as grpc-js surfaces a listener that throws; swallowing it would
   * hide the application's bug.
   */
  private settle<T>(promise: Promise<T>, onValue: (value: T) => void, onError: (error: unknown) => void): void {
    promise.then(onValue, onError).catch((error: unknown) => this.fail(error));
  }

  private fail(error: unknown): void {
    let thrown = error;
    if (!this.ended) {
      try {
        this.attempt?.cancelWithStatus(status.INTERNAL, INTERNAL_ERROR);
        this.dropPreparing();
        this.finish(localStatus(status.INTERNAL, INTERNAL_ERROR));
        return;
      } catch (listenerError) {
        thrown = listenerError;
      }
    }
    process.nextTick(() => {
      throw thrown;
    });
  }

  /**
   * The real call, or undefined when grpc-js refuses to make one. It does when the client was closed while
   * the token was being fetched ("Channel has been shut down"): the call then ends here with UNAVAILABLE,
   * as grpc-js ends calls on a closed channel, instead of an exception inside a promise handler.
   */
  private createAttempt(): CallInterface | undefined {
    try {
      return this.nextCall(this.options);
    } catch (error) {
      const closed = error instanceof Error && /shut ?down/i.test(error.message);
      this.finish(closed ? localStatus(status.UNAVAILABLE, CHANNEL_CLOSED) : localStatus(status.INTERNAL, 'grpc-jwt-auth: the call could not be started'));
      return undefined;
    }
  }

  /** Opens an attempt carrying `token` (with a DPoP proof when the policy says so, carrying `nonce` if given). */
  private open(token: string, nonce?: string): void {
    if (this.ended || !this.metadata) return;
    const attempt = this.createAttempt();
    if (attempt === undefined) return;
    // Before start, grpc-js reports the channel target as the peer: the only hint of where the token goes.
    this.target = attempt.getPeer();
    const refusal = this.policy.guard.refusal(this.target);
    if (refusal) {
      attempt.cancelWithStatus(status.CANCELLED, 'token not sent');
      this.finish(refusal);
      return;
    }
    const dpop = this.policy.dpop;
    if (dpop === undefined) {
      this.begin(attempt, token, undefined);
      return;
    }
    this.preparing = attempt;
    this.settle(
      dpop.prepare(this.target, this.options, token, nonce),
      (prepared) => {
        // Cancelled, or past its deadline, while the proof was signed: the attempt is already dropped.
        if (this.preparing !== attempt) return;
        this.preparing = undefined;
        this.proofOrigin = prepared.origin;
        this.sentNonce = prepared.nonce;
        this.begin(attempt, token, prepared.proof);
      },
      () => {
        if (this.preparing !== attempt) return;
        this.dropPreparing();
        this.finish(localStatus(status.INTERNAL, NO_PROOF));
      },
    );
  }

  /** Cancels an attempt that was never started (its proof was still being signed). */
  private dropPreparing(): void {
    const pending = this.preparing;
    this.preparing = undefined;
    pending?.cancelWithStatus(status.CANCELLED, 'token not sent');
  }

  /** Starts `attempt` with `token` (and `proof`, for DPoP), replaying what the application already sent. */
  private begin(attempt: CallInterface, token: string, proof: string | undefined): void {
    if (this.ended || !this.metadata) {
      attempt.cancelWithStatus(status.CANCELLED, 'token not sent');
      return;
    }
    this.attempt = attempt;
    const metadata = this.metadata.clone();
    if (proof === undefined) metadata.set('authorization', `Bearer ${token}`);
    else {
      metadata.set('authorization', `DPoP ${token}`);
      metadata.set('dpop', proof);
    }
    attempt.start(metadata, this.retryable && !this.retried ? this.holdingListener(attempt, token) : this.passingListener(attempt));
    for (const [context, message] of this.messages) {
      // A replay leaves out the write callback: the application must not hear of one write twice.
      attempt.sendMessageWithContext(this.retried ? (context.flags === undefined ? {} : { flags: context.flags }) : context, message);
    }
    if (!this.retryable) this.messages.length = 0;
    if (this.readRequested) attempt.startRead();
    if (this.halfClosed) attempt.halfClose();
  }

  private passingListener(attempt: CallInterface): InterceptingListener {
    return {
      onReceiveMetadata: (metadata) => {
        this.observeTransport(attempt);
        this.observeNonce(metadata);
        this.listener?.onReceiveMetadata(metadata);
      },
      onReceiveMessage: (message) => this.listener?.onReceiveMessage(message),
      onReceiveStatus: (result) => {
        this.observeTransport(attempt);
        // A stream refused for want of a nonce is not replayed, but the next call carries the nonce.
        this.observeNonce(result.metadata);
        this.finish(result);
      },
    };
  }

  /** For the first attempt of a unary call: holds the answer back until the status says whether to retry. */
  private holdingListener(attempt: CallInterface, token: string): InterceptingListener {
    const held: HeldAnswer = {};
    // A server may send the nonce in its response headers before refusing (grpc-go after SetHeader).
    let headerNonce: string | undefined;
    return {
      onReceiveMetadata: (metadata) => {
        this.observeTransport(attempt);
        headerNonce = this.observeNonce(metadata);
        held.metadata = metadata;
      },
      onReceiveMessage: (message) => {
        held.message = { value: message };
      },
      onReceiveStatus: (result) => {
        this.observeTransport(attempt);
        const nonce = this.observeNonce(result.metadata) ?? headerNonce;
        const reason = this.ended ? undefined : refusalReason(result);
        if (reason === 'TOKEN_EXPIRED') this.retry(token, held, result);
        // Only with a nonce other than the one just refused: the same proof again would be refused again.
        else if (!this.ended && wantsNonce(result, reason) && nonce !== undefined && nonce !== this.sentNonce) this.retryWithNonce(token, nonce);
        else this.deliver(held, result);
      },
    };
  }

  private retry(rejected: string, held: HeldAnswer, result: StatusObject): void {
    this.retried = true;
    this.attempt = undefined;
    this.settle(
      this.policy.tokens.refresh(rejected),
      (fresh) => {
        // No different token to try: the server's answer stands.
        if (fresh === undefined) this.deliver(held, result);
        else this.open(fresh);
      },
      () => this.deliver(held, result),
    );
  }

  /** The server wants the nonce it just sent: the same token, a new proof carrying that nonce. */
  private retryWithNonce(token: string, nonce: string): void {
    this.retried = true;
    this.attempt = undefined;
    this.open(token, nonce);
  }

  private deliver(held: HeldAnswer, result: StatusObject): void {
    if (this.ended) return;
    if (held.metadata) this.listener?.onReceiveMetadata(held.metadata);
    if (held.message) this.listener?.onReceiveMessage(held.message.value);
    this.finish(result);
  }

  /** Remembers a `dpop-nonce` the server sent for this call's origin; returns it when one was stored. */
  private observeNonce(metadata: Metadata | undefined): string | undefined {
    return this.policy.dpop?.observe(this.proofOrigin, metadata);
  }

  private observeTransport(attempt: CallInterface): void {
    // getAuthContext() exists from grpc-js 1.14; older versions skip the check.
    if (typeof attempt.getAuthContext === 'function') this.policy.guard.observe(this.target, attempt.getAuthContext());
  }

  private finish(result: StatusObject): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.deadlineTimer);
    this.listener?.onReceiveStatus(result);
  }
}
