import type { Metadata } from '@grpc/grpc-js';
import { AuthError, toAuthError } from '../errors/auth-error.ts';
import { isThenable } from '../util/thenable.ts';
import { DEFAULT_MAX_TOKEN_BYTES } from '../verify/compact.ts';
import { checkOneToken, readAuthorization, tooLarge, type PresentedToken } from './metadata.ts';

/**
 * Where the interceptor reads each call's token: the `tokenFrom` option, compiled once. Every reader
 * applies the same checks before the authenticator sees the token: exactly one value, no binary, the
 * size cap before anything reads the value, one token and nothing else; the authenticator then checks
 * the compact form. Refusals name the configured place (configuration, never token content).
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * import type { TokenReader } from './token-reader.ts';
 * declare const reader: TokenReader;
 * const presented = reader.read(new Metadata(), '/acme.orders.v1.Orders/GetOrder');
 * if (presented === undefined) throw reader.missing(); // ERR_AUTH_TOKEN_MISSING, naming where a token was expected
 * ```
 */
export interface TokenReader {
  /** Where tokens are read, for logs: `authorization metadata`, `x-api-token metadata`, `cookie session`, `the tokenFrom function`. */
  readonly description: string;
  /**
   * The call's token and its scheme, or undefined when the call carries none. Throws an AuthError:
   * `AUTHORIZATION_MALFORMED`, `TOKEN_TOO_LARGE`, or whatever a `tokenFrom` function threw.
   */
  read(metadata: Metadata, method: string): PresentedToken | undefined;
  /** The refusal of a call that carries no token (`ERR_AUTH_TOKEN_MISSING`). */
  missing(): AuthError;
}

/**
 * `authorization: Bearer <token>`, the default (RFC 6750 §2.1), and `authorization: DPoP <token>` when
 * the server verifies DPoP proofs (`dpop`, RFC 9449 §7.1). A `Bearer` call that also sends a `dpop` proof
 * is malformed on such a server (RFC 9449 §7.2: the scheme must be DPoP when DPoP is used). The wire
 * texts are the codes' own.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const metadata = new Metadata();
 * metadata.set('authorization', 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln');
 * new BearerTokenReader(8192).read(metadata); // { token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', scheme: 'bearer' }
 * ```
 */
export class BearerTokenReader implements TokenReader {
  readonly description = 'authorization metadata';

  constructor(
    private readonly maxTokenBytes: number,
    /** Whether `DPoP <token>` is accepted (the server verifies proofs). */
    readonly dpop = false,
  ) {}

  read(metadata: Metadata): PresentedToken | undefined {
    const presented = readAuthorization(metadata, this.maxTokenBytes, this.dpop);
    if (this.dpop && presented?.scheme === 'bearer' && metadata.get('dpop').length > 0) {
      // A proof next to a bearer token: a client that meant DPoP, or a downgrade; either way not a bearer call.
      throw new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', 'authorization uses the Bearer scheme but the call carries a dpop proof; use the DPoP scheme', {
        wireMessage: 'authorization scheme must be DPoP when a DPoP proof is sent',
      });
    }
    return presented;
  }

  missing(): AuthError {
    return new AuthError('ERR_AUTH_TOKEN_MISSING', 'call has no authorization metadata');
  }
}

/**
 * The reader of a {@link MethodPolicy} that names none: `authorization`, with the default size cap.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * DEFAULT_TOKEN_READER.read(new Metadata(), '/acme.orders.v1.Orders/GetOrder'); // undefined: no authorization metadata
 * ```
 */
export const DEFAULT_TOKEN_READER: TokenReader = new BearerTokenReader(DEFAULT_MAX_TOKEN_BYTES);

/**
 * What the readers of a carrier other than `authorization` share: refusals that name the configured
 * place, with a fixed wire text (configuration, never token content).
 *
 * @example
 * ```ts
 * class HeaderReader extends CarrierReader {
 *   read(): undefined {
 *     throw this.malformed('x-token metadata is binary');
 *   }
 * }
 * new HeaderReader('x-token metadata', 'x-token metadata must be a single token value').missing().code; // 'ERR_AUTH_TOKEN_MISSING'
 * ```
 */
export abstract class CarrierReader implements TokenReader {
  constructor(
    readonly description: string,
    /** The fixed wire text of a malformed carrier. */
    protected readonly wireText: string,
  ) {}

  abstract read(metadata: Metadata, method: string): PresentedToken | undefined;

  missing(): AuthError {
    return new AuthError('ERR_AUTH_TOKEN_MISSING', `call has no ${this.description}`, { wireMessage: `missing token in ${this.description}` });
  }

  protected malformed(message: string): AuthError {
    return new AuthError('ERR_AUTH_AUTHORIZATION_MALFORMED', message, { wireMessage: this.wireText });
  }
}

/**
 * The whole value of one metadata key is the token (`x-api-token: <token>`). Node's HTTP/2 server
 * joins repeated fields of a custom header into one value with `, `: the comma is refused as several
 * values, as two values in the Metadata are.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const metadata = new Metadata();
 * metadata.set('x-api-token', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln');
 * new MetadataTokenReader('x-api-token', 8192).read(metadata); // { token: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', scheme: 'bearer' }
 * ```
 */
export class MetadataTokenReader extends CarrierReader {
  constructor(
    readonly key: string,
    private readonly maxTokenBytes: number,
  ) {
    super(`${key} metadata`, `${key} metadata must be a single token value`);
  }

  read(metadata: Metadata): PresentedToken | undefined {
    const values = metadata.get(this.key);
    if (values.length === 0) return undefined;
    if (values.length > 1) throw this.malformed(`${this.description} has ${values.length} values; exactly one is allowed`);
    const value = values[0];
    // Binary (`-bin`) keys are refused when the option is read; this narrows the type.
    if (typeof value !== 'string') throw this.malformed(`${this.description} is binary`);
    if (value.length > this.maxTokenBytes) throw tooLarge(this.description, value.length, this.maxTokenBytes);
    return { token: checkOneToken(value, this.description, this.wireText), scheme: 'bearer' };
  }
}

function ignore(): void {
  // The promise a tokenFrom function wrongly returned: refused already, its outcome is nobody's business.
}

const EXTRACTED = 'the token the tokenFrom function returned';
const EXTRACTED_WIRE_MESSAGE = 'the call credential must be a single token';

/** What a tokenFrom function returned, for the log: its type, never its content. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A `tokenFrom` function `(metadata, method) => string | undefined`, called synchronously. What it
 * returns gets the same checks as any other source (size cap, one token, then the compact form).
 * Synchronous on purpose: reading a token is a lookup in the call's metadata, and a promise would put
 * I/O ahead of every check on every call. A promise, or anything but a string or undefined, is a
 * server-side mistake: INTERNAL (logged at error), never an admission. A thrown {@link AuthError} is
 * the refusal; any other throw is INTERNAL.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * const reader = new ExtractorTokenReader((metadata) => metadata.get('x-token')[0] as string | undefined, 8192);
 * reader.read(new Metadata(), '/acme.orders.v1.Orders/GetOrder'); // undefined
 * ```
 */
export class ExtractorTokenReader implements TokenReader {
  readonly description = 'the tokenFrom function';

  constructor(
    private readonly extract: (metadata: Metadata, method: string) => unknown,
    private readonly maxTokenBytes: number,
  ) {}

  read(metadata: Metadata, method: string): PresentedToken | undefined {
    let returned: unknown;
    let promised = false;
    try {
      returned = this.extract(metadata, method);
      // Inside the try: reading `then` (a getter) is the function's code too.
      if (typeof returned !== 'string' && isThenable(returned)) {
        promised = true;
        // Handled here: an unhandled rejection would take a Node server down.
        Promise.resolve(returned).then(undefined, ignore);
      }
    } catch (error) {
      throw toAuthError(error, 'tokenFrom function threw');
    }
    if (returned === undefined) return undefined;
    if (typeof returned !== 'string') {
      const what = promised ? 'a promise' : kindOf(returned);
      throw new AuthError('ERR_AUTH_INTERNAL', `tokenFrom function returned ${what}; it must return the token (a string) or undefined, synchronously`);
    }
    if (returned.length > this.maxTokenBytes) throw tooLarge(EXTRACTED, returned.length, this.maxTokenBytes);
    return { token: checkOneToken(returned, EXTRACTED, EXTRACTED_WIRE_MESSAGE), scheme: 'bearer' };
  }

  missing(): AuthError {
    return new AuthError('ERR_AUTH_TOKEN_MISSING', 'the tokenFrom function found no token', { wireMessage: 'missing token' });
  }
}
