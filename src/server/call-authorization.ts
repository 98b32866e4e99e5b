import { Metadata, ServerInterceptingCall, status, type ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { errorCopy } from '../util/error-copy.ts';
import { notify } from '../util/hooks.ts';
import { AuthError, toAuthError } from '../errors/auth-error.ts';
import type { Admission, SyncAuthenticator } from '../verify/authenticator.ts';
import { newProbe, type VerificationProbe } from '../verify/verification-probe.ts';
import { attachAuth } from './context.ts';
import { admit, type CallDpop, type MethodPolicy } from './admission.ts';
import type { DpopCallState, DpopCheck } from './dpop-call.ts';
import { eventMetadata, type AuthenticatedEvent, type RejectedEvent } from './events.ts';
import { rejectionStatus, type ChallengeOptions } from './rejection.ts';
import { scheduleExpiry, type StreamRevocations } from './stream-expiry.ts';
import type { CertificateSource } from './client-certificate.ts';
import type { CallRecord, InterceptorTelemetry } from '../telemetry/call-telemetry.ts';

/** grpc-js does not export its status type from the package root. */
type PartialStatusObject = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];
/** Nor its responder type (what a ServerInterceptingCall is built with). */
type ServerInterceptingCallResponder = NonNullable<ConstructorParameters<typeof ServerInterceptingCall>[1]>;

/**
 * What every call of one interceptor shares.
 *
 * @example
 * ```ts
 * import { buildAuthenticator } from '../verify/authenticator.ts';
 * import { fromSecret } from '../keys/secret.ts';
 * import type { CallSettings } from './call-authorization.ts';
 * const settings: CallSettings = {
 *   authenticator: buildAuthenticator({ keys: fromSecret('x'.repeat(32)), algorithms: ['HS256'] }),
 *   clock: Date.now,
 *   onAuthenticated: undefined,
 *   onRejected: (event) => console.warn(event.method, event.error.code),
 *   credentialMetadata: ['authorization', 'cookie'],
 *   telemetry: undefined,
 *   clientCertificate: () => undefined,
 *   dpop: undefined,
 *   streamRevocations: undefined,
 * };
 * ```
 */
export interface CallSettings {
  readonly authenticator: SyncAuthenticator;
  /** The checked clock, the authenticator's: a NaN reading refuses (INTERNAL), never admits. */
  readonly clock: () => number;
  readonly onAuthenticated: ((event: AuthenticatedEvent) => void) | undefined;
  readonly onRejected: ((event: RejectedEvent) => void) | undefined;
  /** Metadata keys that carry credentials, left out of the events' metadata (see {@link eventMetadata}). */
  readonly credentialMetadata: readonly string[];
  /** OpenTelemetry metrics and spans; undefined when off, and then calls pay nothing for them. */
  readonly telemetry: InterceptorTelemetry | undefined;
  /** The call's client certificate thumbprint, for certificate-bound tokens; read only for those. */
  readonly clientCertificate: CertificateSource;
  /** DPoP proof checks (the `dpop` option); undefined when the server accepts no DPoP. */
  readonly dpop: DpopCheck | undefined;
  /** Open streams re-checked when a token is revoked. */
  readonly streamRevocations: StreamRevocations | undefined;
}

/** The events' metadata until the call's arrives (no call is refused before it does); events copy it, never change it. */
const NO_METADATA = new Metadata();

/**
 * What one observed call learns about its token (the probe, and the token itself, only to keep it out
 * of events), and the authenticator as admit() sees it for that call: it reports into the probe and
 * remembers the token it was given, wherever the metadata carried it. One object per observed call,
 * its methods on the prototype (a spread copy of the authenticator per call cost more than the lookup).
 */
class Observation implements SyncAuthenticator {
  readonly probe: VerificationProbe = newProbe();
  presented: string | undefined = undefined;

  constructor(private readonly authenticator: SyncAuthenticator) {}

  authenticate(token: string, method: string): Admission | Promise<Admission> {
    this.presented = token;
    return this.authenticator.authenticate(token, method, this.probe);
  }

  get limit(): SyncAuthenticator['limit'] {
    return this.authenticator.limit;
  }

  get revocations(): SyncAuthenticator['revocations'] {
    return this.authenticator.revocations;
  }

  checkRevoked(admission: Admission): void {
    this.authenticator.checkRevoked(admission);
  }

  ready(): Promise<void> {
    return this.authenticator.ready();
  }

  close(): void {
    this.authenticator.close();
  }

  status(): ReturnType<SyncAuthenticator['status']> {
    return this.authenticator.status();
  }
}

/** The refusal for a token that reached its `validUntil` (during admission, or while its stream is open). */
function endOfValidity(authentication: Admission, when: string): AuthError {
  return authentication.endedBy === 'maxTokenAge'
    ? new AuthError('ERR_AUTH_TOKEN_TOO_OLD', `token became older than maxTokenAge ${when}`)
    : new AuthError('ERR_AUTH_TOKEN_EXPIRED', `token expired ${when}`);
}

// The scheme word alone: a value the reader refused says nothing else we can trust.
const DPOP_SCHEME = /^dpop(\s|$)/i;

/** Whether a call (refused before its token was read) tried DPoP: it sent a proof, or an authorization in the DPoP scheme. */
function triedDpop(metadata: Metadata): boolean {
  if (metadata.get('dpop').length > 0) return true;
  const authorization = metadata.get('authorization')[0];
  return typeof authorization === 'string' && DPOP_SCHEME.test(authorization);
}

/** The status a refusal ends the call with; INTERNAL with fixed text when it cannot be encoded. */
function statusOf(error: AuthError, challenge: ChallengeOptions | undefined): PartialStatusObject {
  try {
    return rejectionStatus(error, challenge);
  } catch {
    // Never leave a call hanging (or a rejection unhandled) because a refusal could not be encoded.
    return { code: status.INTERNAL, details: 'internal authentication error' };
  }
}

/**
 * One server call on its way through the auth interceptor: admitted (its verified caller attached for
 * the handler) or refused with one status, exactly once.
 *
 * - grpc-js holds the client's messages and half-close until the call is admitted, then delivers them in
 *   order; a refused call's handler never runs.
 * - Once the call is refused or has ended, nothing admits or refuses it any more: a verification that
 *   settles after a cancellation is dropped, and no status is ever sent twice.
 * - A token that expired (or grew older than `maxTokenAge`) while keys were fetched, a `validate` hook
 *   or a guard ran is refused at the last moment before the handler.
 * - A streaming call whose token can end is ended with UNAUTHENTICATED when it does (`endsOnExpiry`),
 *   unless the handler ended it first.
 * - A streaming call whose token is revoked while it is open is ended with UNAUTHENTICATED
 *   `TOKEN_REVOKED` (`isStream`), whatever `streamExpiry` says: revocation is not expiry.
 *
 * @example
 * ```ts
 * import type { ServerInterceptor } from '@grpc/grpc-js';
 * import type { CallSettings } from './call-authorization.ts';
 * declare const settings: CallSettings;
 * const interceptor: ServerInterceptor = (descriptor, call) =>
 *   new CallAuthorization(call, { rule: 'authenticated', info: { method: descriptor.path } }, settings, descriptor.responseStream, descriptor.responseStream).call;
 * ```
 */
export class CallAuthorization {
  /** What grpc-js drives; the interceptor returns it. */
  readonly call: ServerInterceptingCall;
  /** Set once the call was refused or has ended. */
  private finished = false;
  private cancelExpiry: (() => void) | undefined;
  private stopRevocationWatch: (() => void) | undefined;
  /** Only with a hook to tell: a call nobody observes pays for no probe. */
  private readonly observation: Observation | undefined;
  /** The call's metadata, for the events. */
  private metadata = NO_METADATA;
  /** The call's telemetry, from its metadata to its decision. */
  private record: CallRecord | undefined;
  /** On a DPoP server: the scheme the call used and the nonce its response carries. */
  private readonly dpop: CallDpop | undefined;
  /** Whether response headers went out through this interceptor (else a nonce rides in the trailers). */
  private headersSent = false;

  constructor(
    private readonly next: ServerInterceptingCallInterface,
    private readonly policy: MethodPolicy,
    private readonly settings: CallSettings,
    private readonly endsOnExpiry: boolean,
    private readonly isStream: boolean,
  ) {
    if (settings.onAuthenticated !== undefined || settings.onRejected !== undefined || settings.telemetry !== undefined)
      this.observation = new Observation(settings.authenticator);
    if (settings.dpop) this.dpop = { check: settings.dpop, state: { scheme: undefined, responseNonce: undefined } };
    // Only servers that hand out DPoP nonces add them to responses.
    const nonces = settings.dpop?.nonces === true;
    const responder: ServerInterceptingCallResponder = {
      start: (startNext) =>
        startNext({
          onReceiveMetadata: (metadata, nextMetadata) => this.receiveMetadata(metadata, nextMetadata),
          // Fires at the end of every call, successful ones too: cleanup only.
          onCancel: () => this.finish(),
        }),
    };
    // Added only when needed (no spread of an empty object per call): every other call keeps grpc-js's responders.
    if (nonces) responder.sendMetadata = (headers, sendNext) => this.sendHeaders(headers, sendNext);
    // Only calls that can outlive their token need to hear the handler's status (and nonce servers, for
    // a trailers-only answer); a unary call keeps grpc-js's default responder.
    if (endsOnExpiry || isStream || nonces) responder.sendStatus = (final, sendNext) => this.handlerEnded(final, sendNext);
    this.call = new ServerInterceptingCall(next, responder);
  }

  /** The state DPoP admission reports into (only on a DPoP server). */
  private get dpopState(): DpopCallState | undefined {
    return this.dpop?.state;
  }

  private get method(): string {
    return this.policy.info.method;
  }

  private receiveMetadata(metadata: Metadata, next: (metadata: Metadata) => void): void {
    let admitted: Admission | undefined | Promise<Admission | undefined>;
    const { authenticator } = this.settings;
    this.metadata = metadata;
    this.record = this.settings.telemetry?.begin(this.method, metadata);
    try {
      // Read per call, never cached: the verified-token cache knows the token, not the connection it came on.
      const certificate = (): string | undefined => this.settings.clientCertificate(this.next, metadata, this.method);
      admitted = admit(this.policy, this.observation ?? authenticator, metadata, certificate, this.dpop);
    } catch (error) {
      this.refuse(toAuthError(error, 'unexpected error'));
      return;
    }
    if (!(admitted instanceof Promise)) {
      this.accept(metadata, admitted, next, false);
      return;
    }
    admitted.then(
      (authentication) => {
        if (!this.finished) this.accept(metadata, authentication, next, true);
      },
      (error: unknown) => {
        if (!this.finished) this.refuse(toAuthError(error, 'unexpected error'));
      },
    );
  }

  private accept(metadata: Metadata, authentication: Admission | undefined, next: (metadata: Metadata) => void, waited: boolean): void {
    if (authentication) {
      const ended = this.endedBeforeAdmission(authentication) ?? (waited ? this.revokedBeforeAdmission(authentication) : undefined);
      if (ended) {
        this.refuse(ended);
        return;
      }
      const { context } = authentication;
      attachAuth(metadata, context);
      this.watchExpiry(authentication);
      this.watchRevocation(authentication);
      notify(this.settings.onAuthenticated, () => this.authenticatedEvent(authentication));
    }
    this.record?.admitted(this.observation?.probe, authentication?.facts);
    next(metadata);
  }

  private authenticatedEvent({ context, facts }: Admission): AuthenticatedEvent {
    const probe = this.observation?.probe;
    return {
      ...this.callEvent(),
      ...facts,
      scopes: context.scopes,
      cacheHit: probe?.cacheHit ?? false,
      verificationTime: probe?.verificationTime ?? 0,
      certificateThumbprint: context.confirmation?.x5tS256,
      dpopThumbprint: context.confirmation?.jkt,
    };
  }

  private rejectedEvent(error: AuthError): RejectedEvent {
    const probe = this.observation?.probe;
    // A copy: calls that joined one verification share its refusal, and a hook that edits its event's error
    // must not change the status (or the event) of the calls refused after it.
    return { ...this.callEvent(), error: errorCopy(error), verified: probe?.facts, cacheHit: probe?.cacheHit, verificationTime: probe?.verificationTime };
  }

  private callEvent(): { method: string; peer: string; metadata: Metadata } {
    const metadata = eventMetadata(this.metadata, this.settings.credentialMetadata, this.observation?.presented);
    return { method: this.method, peer: this.next.getPeer(), metadata };
  }

  /**
   * The last moment before the handler: a token that expired or grew too old while keys were fetched, a
   * `validate` hook or a guard ran is refused here, at the instant its stream would end.
   */
  private endedBeforeAdmission(authentication: Admission): AuthError | undefined {
    if (authentication.validUntil === undefined) return undefined;
    let now: number;
    try {
      now = this.settings.clock();
    } catch (error) {
      return toAuthError(error, 'clock failed');
    }
    return now >= authentication.validUntil ? endOfValidity(authentication, `before ${this.method} was admitted`) : undefined;
  }

  /**
   * After an admission that waited (a verification, an async guard, `validate` hook or DPoP replay
   * write), the revocation check again: a revocation made meanwhile would otherwise admit a unary call
   * after `revoke()` resolved, and leave a stream open with a revoked token (its watch starts only now).
   * A synchronous admission (a cache hit) needs no second look: nothing could revoke in between.
   */
  private revokedBeforeAdmission(authentication: Admission): AuthError | undefined {
    try {
      this.settings.authenticator.checkRevoked(authentication);
      return undefined;
    } catch (error) {
      return toAuthError(error, 'revocation check failed');
    }
  }

  private watchExpiry(authentication: Admission): void {
    if (!this.endsOnExpiry || authentication.validUntil === undefined) return;
    this.cancelExpiry = scheduleExpiry(authentication.validUntil, this.settings.clock, (clockError) => {
      this.cancelExpiry = undefined;
      if (!this.finished) this.refuse(clockError ?? endOfValidity(authentication, `during the ${this.method} stream`));
    });
  }

  /** An open stream is re-checked when the revocation list grows, and ended once its token is revoked. */
  private watchRevocation(authentication: Admission): void {
    const streams = this.settings.streamRevocations;
    if (!this.isStream || streams === undefined) return;
    this.stopRevocationWatch = streams.watch(() => {
      if (this.finished) return;
      try {
        this.settings.authenticator.checkRevoked(authentication);
      } catch (error) {
        // Only a revocation ends an admitted stream: a store that cannot answer now is no news about this
        // token (keys that expire do not end streams either); new calls are refused meanwhile.
        const refusal = toAuthError(error, 'revocation check failed');
        if (refusal.code === 'ERR_AUTH_TOKEN_REVOKED') this.refuse(refusal);
      }
    });
  }

  private refuse(error: AuthError): void {
    // Before finish(), which counts an undecided call as abandoned.
    this.record?.refused(error, this.observation?.probe);
    this.finish();
    // The decision first: building the event copies the metadata, and a `'deny'` rule reads none of it to decide.
    this.call.sendStatus(statusOf(error, this.challenge(error)));
    notify(this.settings.onRejected, () => this.rejectedEvent(error));
  }

  /**
   * How a refusal challenges on a DPoP server (RFC 9449 §7.1): in the scheme the call used, naming the
   * accepted algorithms. A call refused before its token was read (`Bearer` with a proof, a malformed
   * `DPoP` value) used DPoP if it tried to: its error challenge is DPoP too (oidc-provider, Spring), so a
   * DPoP client is not told to fix a Bearer request it never sent.
   */
  private challenge(error: AuthError): ChallengeOptions | undefined {
    const check = this.settings.dpop;
    if (check === undefined) return undefined;
    const scheme = this.dpopState?.scheme;
    const dpop = scheme === 'dpop' || error.code === 'ERR_AUTH_DPOP_SCHEME_REQUIRED' || (scheme === undefined && triedDpop(this.metadata));
    return { scheme: dpop ? 'DPoP' : 'Bearer', dpopAlgorithms: [...check.verifier.options.algorithms] };
  }

  /** An admitted call whose proof used a stale nonce tells the client the current one (RFC 9449 §8.2). */
  private sendHeaders(headers: Metadata, next: (headers: Metadata) => void): void {
    this.headersSent = true;
    const nonce = this.dpopState?.responseNonce;
    if (nonce !== undefined) headers.set('dpop-nonce', nonce);
    next(headers);
  }

  /** The handler ended the call: its token can no longer outlive it. */
  private handlerEnded(final: PartialStatusObject, next: (final: PartialStatusObject) => void): void {
    this.stopWatching();
    const nonce = this.dpopState?.responseNonce;
    // A trailers-only answer (the handler failed before any message) has no headers: the nonce rides in the trailers.
    if (nonce !== undefined && !this.headersSent) {
      const trailers = final.metadata?.clone() ?? new Metadata();
      trailers.set('dpop-nonce', nonce);
      next({ ...final, metadata: trailers });
      return;
    }
    next(final);
  }

  private finish(): void {
    this.finished = true;
    this.record?.abandoned();
    this.stopWatching();
  }

  private stopWatching(): void {
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
    this.stopRevocationWatch?.();
    this.stopRevocationWatch = undefined;
  }
}
