/**
 * The `grpc-status-details-bin` trailer: a protobuf `google.rpc.Status` whose details hold one
 * `google.rpc.ErrorInfo`. Encoded and decoded by hand (three tiny messages) so neither side needs a
 * protobuf runtime; the decoder is strict and bounded because the bytes come from the network.
 */

/**
 * The parts of a `google.rpc.ErrorInfo` (https://cloud.google.com/apis/design/errors): what a refused
 * call tells the client in machine-readable form.
 *
 * @example
 * ```ts
 * import { decodeErrorInfo } from 'grpc-jwt-auth/client';
 * declare const details: Buffer; // the grpc-status-details-bin trailer of a refused call
 * const info = decodeErrorInfo(details);
 * // { reason: 'INSUFFICIENT_SCOPE', domain: 'grpc-jwt-auth', metadata: { requiredScopes: 'orders:write' } }
 * if (info?.reason === 'INSUFFICIENT_SCOPE') console.warn(`ask for ${info.metadata.requiredScopes}`);
 * ```
 */
export interface ErrorInfo {
  /** Machine-readable reason: the server's error code without `ERR_AUTH_`, e.g. `TOKEN_EXPIRED`. */
  readonly reason: string;
  /** The domain, {@link ERROR_DOMAIN} (`grpc-jwt-auth`) for this library's errors. */
  readonly domain: string;
  /** Extra facts, e.g. `{ requiredScopes: 'orders:read' }` (scopes space-separated); empty when there are none. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * The domain of every `google.rpc.ErrorInfo` this library sends: tells its refusals apart from other
 * errors that carry an ErrorInfo.
 *
 * @example
 * ```ts
 * import { ERROR_DOMAIN, decodeErrorInfo } from 'grpc-jwt-auth/client';
 * declare const details: Buffer; // the grpc-status-details-bin trailer of a refused call
 * const info = decodeErrorInfo(details);
 * if (info?.domain === ERROR_DOMAIN) console.warn(`refused by grpc-jwt-auth: ${info.reason}`);
 * ```
 */
export const ERROR_DOMAIN = 'grpc-jwt-auth';

/**
 * The metadata key of the status details trailer.
 *
 * @example
 * ```ts
 * declare const trailers: import('@grpc/grpc-js').Metadata;
 * const [details] = trailers.get(STATUS_DETAILS_KEY);
 * ```
 */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
}

function lengthDelimited(field: number, payload: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
}

const encoder = new TextEncoder();
const text = (value: string): Uint8Array => encoder.encode(value);

/**
 * Encodes `google.rpc.Status { code, message, details: [Any(ErrorInfo)] }`: the value of the
 * `grpc-status-details-bin` trailer of a refusal.
 *
 * @example
 * ```ts
 * const details = encodeStatusDetails(7, 'token does not grant access to this method', {
 *   reason: 'INSUFFICIENT_SCOPE',
 *   domain: ERROR_DOMAIN,
 *   metadata: { requiredScopes: 'orders:write' },
 * });
 * ```
 */
export function encodeStatusDetails(code: number, message: string, info: ErrorInfo): Buffer {
  const errorInfo: number[] = [...lengthDelimited(1, text(info.reason)), ...lengthDelimited(2, text(info.domain))];
  for (const [key, value] of Object.entries(info.metadata)) {
    errorInfo.push(...lengthDelimited(3, Uint8Array.from([...lengthDelimited(1, text(key)), ...lengthDelimited(2, text(value))])));
  }
  const any = [...lengthDelimited(1, text(ERROR_INFO_TYPE_URL)), ...lengthDelimited(2, Uint8Array.from(errorInfo))];
  return Buffer.from([...varint(1 << 3), ...varint(code), ...lengthDelimited(2, text(message)), ...lengthDelimited(3, Uint8Array.from(any))]);
}

/** Reads the fields of one protobuf message; undefined when malformed. Only varint and length-delimited. */
function readFields(bytes: Uint8Array): Array<[number, number | Uint8Array]> | undefined {
  const fields: Array<[number, number | Uint8Array]> = [];
  let at = 0;
  const readVarint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= bytes.length) return undefined;
      const byte = bytes[at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    return undefined;
  };
  while (at < bytes.length) {
    const tag = readVarint();
    if (tag === undefined) return undefined;
    const value = readVarint();
    if (value === undefined) return undefined;
    if ((tag & 7) === 0) fields.push([tag >>> 3, value]);
    else if ((tag & 7) === 2) {
      if (at + value > bytes.length) return undefined;
      fields.push([tag >>> 3, bytes.subarray(at, at + value)]);
      at += value;
    } else return undefined;
  }
  return fields;
}

const decodeText = (value: number | Uint8Array | undefined): string => (value instanceof Uint8Array ? new TextDecoder().decode(value) : '');

/**
 * Finds the first `google.rpc.ErrorInfo` in a `grpc-status-details-bin` value, so a client can act on
 * the reason of a refusal without parsing text. Returns undefined for anything else, including
 * malformed bytes: a client must never crash on a server's trailer.
 *
 * @example
 * ```ts
 * import { decodeErrorInfo } from 'grpc-jwt-auth/client';
 * import type { ServiceError } from '@grpc/grpc-js';
 * declare const orders: { getOrder(request: { id: string }, callback: (error: ServiceError | null) => void): void };
 * declare function retryWithFreshToken(): void;
 * orders.getOrder({ id: '1' }, (error) => {
 *   const [details] = error?.metadata.get('grpc-status-details-bin') ?? [];
 *   const info = details instanceof Buffer ? decodeErrorInfo(details) : undefined;
 *   if (info?.reason === 'TOKEN_EXPIRED') retryWithFreshToken();
 *   if (info?.reason === 'INSUFFICIENT_SCOPE') console.warn(`needs ${info.metadata.requiredScopes}`);
 * });
 * ```
 */
export function decodeErrorInfo(statusDetails: Uint8Array): ErrorInfo | undefined {
  const status = readFields(statusDetails);
  for (const [field, any] of status ?? []) {
    if (field !== 3 || !(any instanceof Uint8Array)) continue;
    const anyFields = readFields(any);
    if (!anyFields) continue;
    const typeUrl = decodeText(anyFields.find(([f]) => f === 1)?.[1]);
    const value = anyFields.find(([f]) => f === 2)?.[1];
    if (typeUrl !== ERROR_INFO_TYPE_URL || !(value instanceof Uint8Array)) continue;
    const infoFields = readFields(value);
    if (!infoFields) continue;
    const metadata: Record<string, string> = Object.create(null);
    for (const [f, entry] of infoFields) {
      if (f !== 3 || !(entry instanceof Uint8Array)) continue;
      const pair = readFields(entry) ?? [];
      metadata[decodeText(pair.find(([n]) => n === 1)?.[1])] = decodeText(pair.find(([n]) => n === 2)?.[1]);
    }
    return {
      reason: decodeText(infoFields.find(([f]) => f === 1)?.[1]),
      domain: decodeText(infoFields.find(([f]) => f === 2)?.[1]),
      metadata,
    };
  }
  return undefined;
}
