import { Metadata, status, type InterceptingListener, type InterceptorOptions, type NextCall, type StatusObject } from '@grpc/grpc-js';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, decodeErrorInfo } from '../errors/error-info.ts';
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
}

/** True when the server refused the call because its token expired (our server's ErrorInfo says so). */
function isTokenExpired(result: StatusObject): boolean {
  if (result.code !== status.UNAUTHENTICATED) return false;
  const details = result.metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!(details instanceof Uint8Array)) return false;
  const info = decodeErrorInfo(details);
  return info?.reason === 'TOKEN_EXPIRED' && info.domain === ERROR_DOMAIN;
}

/** The status details of a call whose client was closed while its token was being fetched. */
const CHANNEL_CLOSED = 'grpc-jwt-auth: channel closed';
/** The status details of a call ended by an unexpected error in this interceptor. */
const INTERNAL_ERROR = 'grpc-jwt-auth: internal error in the token interceptor';

/** What the first attempt of a unary call answered, held back until we know whether to retry. */
interface HeldAnswer {
  metadata?: Metadata;
  message?: { value: unknown };
}

/**
 * One client call that carries `authorization: Bearer <token>`.
 *
 * The real call (`nextCall(options)`) is created only once the token is known. Created earlier, grpc-js
 * would run its deadline on a call without a listener and the status would be lost; so while waiting for
 * the token this call runs the deadline itself and buffers what the application sends.
 *
 * A unary call is retried once, with a forced token refresh, when the server answers UNAUTHENTICATED with
 * reason TOKEN_EXPIRED. That is safe even for methods that are not idempotent: the server's interceptor
 * refused the call before its handler ran. Streaming calls are never replayed: their messages may already
 * have been acted on, and replaying a stream would need to buffer it without bound; the application sees
 * the status and decides.
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
    else this.finish(localStatus(code, details));
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

  /** Starts an attempt carrying `token`, replaying what the application already sent. */
  private open(token: string): void {
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
    this.attempt = attempt;
    const metadata = this.metadata.clone();
    metadata.set('authorization', `Bearer ${token}`);
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
        this.listener?.onReceiveMetadata(metadata);
      },
      onReceiveMessage: (message) => this.listener?.onReceiveMessage(message),
      onReceiveStatus: (result) => {
        this.observeTransport(attempt);
        this.finish(result);
      },
    };
  }

  /** For the first attempt of a unary call: holds the answer back until the status says whether to retry. */
  private holdingListener(attempt: CallInterface, token: string): InterceptingListener {
    const held: HeldAnswer = {};
    return {
      onReceiveMetadata: (metadata) => {
        this.observeTransport(attempt);
        held.metadata = metadata;
      },
      onReceiveMessage: (message) => {
        held.message = { value: message };
      },
      onReceiveStatus: (result) => {
        this.observeTransport(attempt);
        if (!this.ended && isTokenExpired(result)) this.retry(token, held, result);
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

  private deliver(held: HeldAnswer, result: StatusObject): void {
    if (this.ended) return;
    if (held.metadata) this.listener?.onReceiveMetadata(held.metadata);
    if (held.message) this.listener?.onReceiveMessage(held.message.value);
    this.finish(result);
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
