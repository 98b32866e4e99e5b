import { ERROR_DOMAIN, STATUS_DETAILS_KEY, decodeErrorInfo } from '../errors/error-info.ts';
import { readSafely } from '../errors/log-text.ts';
import { STEP_UP_METADATA, copyStepUpChallenge, type StepUpChallenge } from '../errors/step-up.ts';
import { reasonOf } from '../errors/codes.ts';

const UNAUTHENTICATED = 16;
const STEP_UP_REASON = reasonOf('ERR_AUTH_INSUFFICIENT_USER_AUTHENTICATION');
// A decimal number of seconds as the server writes it; anything else is not trusted as a max age.
const DECIMAL = /^[1-9][0-9]{0,9}$/;

/** The ErrorInfo of a refused call's `grpc-status-details-bin` trailer; undefined when there is none. */
function errorInfoOf(error: unknown): ReturnType<typeof decodeErrorInfo> {
  const { code, metadata } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; metadata?: { get?: unknown } };
  if (code !== UNAUTHENTICATED || typeof metadata?.get !== 'function') return undefined;
  const [details] = (metadata.get as (key: string) => unknown[]).call(metadata, STATUS_DETAILS_KEY);
  return details instanceof Uint8Array ? decodeErrorInfo(details) : undefined;
}

/**
 * Reads a step-up refusal (RFC 9470) from a failed call: the `acrValues` and `maxAge` the user's next
 * login must satisfy, or undefined when the error is anything else. Takes the `ServiceError` of a
 * callback or stream (or a grpc-js `StatusObject`): UNAUTHENTICATED with an ErrorInfo of domain
 * `grpc-jwt-auth` and reason `INSUFFICIENT_USER_AUTHENTICATION`. Values that could not have come from
 * this library's server (quotes, spaces, a non-decimal age) are dropped. Never throws.
 *
 * The token interceptor never retries such a call: only a new login helps. Ask your identity provider
 * for one with `acr_values` and `max_age` (OpenID Connect authorization request parameters), then call
 * again with the new token.
 *
 * @example
 * ```ts
 * import type { ServiceError } from '@grpc/grpc-js';
 * import { stepUpChallenge } from 'grpc-jwt-auth/client';
 * declare const payments: { transfer(request: { amount: number }, callback: (error: ServiceError | null) => void): void };
 * declare function logInAgain(params: { acr_values: string | undefined; max_age: number | undefined }): Promise<void>;
 * payments.transfer({ amount: 5000 }, (error) => {
 *   const challenge = stepUpChallenge(error);
 *   if (challenge) void logInAgain({ acr_values: challenge.acrValues?.join(' '), max_age: challenge.maxAge });
 * });
 * ```
 */
export function stepUpChallenge(error: unknown): StepUpChallenge | undefined {
  // A getter or Proxy trap that throws on the error object is not a step-up, and asking must not throw.
  const info = readSafely(() => errorInfoOf(error));
  if (info === undefined || info.domain !== ERROR_DOMAIN || info.reason !== STEP_UP_REASON) return undefined;
  const acrValues = info.metadata[STEP_UP_METADATA.acrValues];
  const maxAge = info.metadata[STEP_UP_METADATA.maxAge];
  return copyStepUpChallenge({
    acrValues: acrValues === undefined ? [] : acrValues.split(' '),
    ...(maxAge !== undefined && DECIMAL.test(maxAge) ? { maxAge: Number(maxAge) } : {}),
  });
}
