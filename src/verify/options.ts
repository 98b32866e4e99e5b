import type { JwtClaims, JwtHeader } from './auth-context.ts';
import { DEFAULT_ROLE_CLAIMS, DEFAULT_SCOPE_CLAIMS, checkClaimPaths, type ClaimPath } from '../util/claim-paths.ts';
import { AuthConfigError } from '../errors/config-error.ts';
import { optionNames, optionalBoolean, optionalChoice, optionalFunction, optionalInteger, optionalSeconds, optionalString } from '../util/option-checks.ts';
import { isSupportedAlgorithm, type Algorithm } from '../keys/key-algorithms.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import type { ClaimPolicy } from './claims.ts';
import { DEFAULT_MAX_TOKEN_BYTES } from './compact.ts';
import { isMediaTypeName, normalizeTyp, type HeaderPolicy } from './header.ts';
import { CERTIFICATE_BINDINGS, DPOP_BINDINGS, type CertificateBinding, type DpopBinding } from './confirmation.ts';

/**
 * What a `validate` hook is told besides the claims.
 *
 * @example
 * ```ts
 * import type { JwtClaims, ValidateContext } from 'grpc-jwt-auth';
 * // Tokens signed with the retired key may still read, but no longer pay.
 * function notRetiredForPayments(claims: JwtClaims, { header, method }: ValidateContext): boolean {
 *   return header.kid !== 'legacy-2025' || !method.startsWith('/acme.payments.');
 * }
 * ```
 */
export interface ValidateContext {
  /** The verified protected header. */
  readonly header: JwtHeader;
  /** The full gRPC method path, e.g. `/acme.orders.v1.Orders/GetOrder`. */
  readonly method: string;
  /**
   * The token's identity (`AuthContext.tokenId`): the same for every spelling of one signed token
   * (ECDSA signatures are malleable), so a denylist keyed on it cannot be dodged by respelling the token.
   */
  readonly tokenId: string;
}

/**
 * A custom check run after every other check, on every call (also when the token came from the
 * verified-token cache, so a denylist takes effect at once). It fails closed, like a guard: only `true`
 * (or a promise of `true`) admits the call. Anything else refuses it with UNAUTHENTICATED
 * `TOKEN_REJECTED`: `false`, but also `undefined` (a hook that forgets to `return`), `null`, `0`, `''`
 * or any other value. A thrown {@link AuthError} is answered as it is; any other throw is INTERNAL.
 *
 * `C` types your own claims, as in {@link AuthContext} and `getAuth<C>()`: the hook sees `C` together
 * with the registered claims of {@link JwtClaims}, and an interface without an index signature will do.
 * Verification does not check your claims' types: a hook that reads them is where to check them.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, getAuth, type ValidateHook } from 'grpc-jwt-auth';
 * // Revoked tokens by tokenId: the same for every spelling of a token, which its text is not.
 * const revoked = new Set<string>();
 * const notRevoked: ValidateHook = (_claims, { tokenId }) => !revoked.has(tokenId);
 * // Your own claims: `tenant` is yours, `sub` is still the registered claim.
 * interface TenantClaims { readonly tenant: string }
 * const knownTenant: ValidateHook<TenantClaims> = (claims) => typeof claims.tenant === 'string' && claims.sub !== undefined;
 * const auth = createAuthInterceptor({ keys, algorithms: ['ES256'], validate: async (claims, context) => (await knownTenant(claims, context)) && notRevoked(claims, context) });
 * // later, in a handler: revoked.add(getAuth(call).tokenId);
 * ```
 */
export type ValidateHook<C extends object = object> = (claims: C & JwtClaims, context: ValidateContext) => boolean | Promise<boolean>;

/**
 * How tokens of one issuer are verified: the keys and algorithms (required), then the claim checks.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromIssuer, type VerifyOptions } from 'grpc-jwt-auth';
 * const verify: VerifyOptions = {
 *   keys: fromIssuer('https://idp.example/'),
 *   algorithms: ['RS256'],
 *   issuer: 'https://idp.example/',
 *   audience: 'orders-api',
 *   typ: 'at+jwt',
 *   clockTolerance: 30,
 * };
 * const auth = createAuthInterceptor({ ...verify, defaultRule: 'authenticated' });
 * ```
 */
export interface VerifyOptions {
  /** Where verification keys come from: {@link fromSecret}, {@link fromPem}, {@link fromJwks}, {@link fromIssuer}. */
  readonly keys: KeyResolver;
  /** The algorithms tokens may use. Required: never taken from the token. */
  readonly algorithms: readonly Algorithm[];
  /** Accepted `iss` value(s), compared exactly. */
  readonly issuer?: string | readonly string[];
  /** Accepted `aud` value(s): the token's `aud` must contain one of them, compared exactly. */
  readonly audience?: string | readonly string[];
  /** Required `sub` value. */
  readonly subject?: string;
  /**
   * Required `typ` header, e.g. `at+jwt` (RFC 9068). Compared case-insensitively (in ASCII only), with
   * `application/` implied for a value without `/` (RFC 7515 §4.1.9): `at+jwt` and `application/at+JWT`
   * match, but `application/text/plain` is not `text/plain`. Must name a media type: ASCII without
   * spaces, no empty part (`application/` is refused, as it would match a token whose `typ` is `""`).
   */
  readonly typ?: string;
  /** Claims that must be present (non-null). */
  readonly requiredClaims?: readonly string[];
  /** Refuse tokens without `exp`. Default true: a token that never expires is a key that never changes. */
  readonly requireExp?: boolean;
  /**
   * Clock skew tolerated for `exp`, `nbf` and `iat` (and `maxTokenAge`), in seconds. Default 60, as in
   * Envoy and Spring Security: with none, a token from a provider whose clock runs a second ahead is
   * refused as "issued in the future". At most 300. Set 0 only where clocks are known to agree.
   */
  readonly clockTolerance?: number;
  /**
   * Maximum age since `iat` (requires `iat`), in seconds: inclusive and in whole seconds as in jose, so a
   * token exactly this old passes and `0` admits a token issued this second. Streams end when it is reached.
   */
  readonly maxTokenAge?: number;
  /** Largest token accepted, in bytes: a whole number from 64 to 1048576. Default 8192. */
  readonly maxTokenBytes?: number;
  /** Where scopes are read from. Default {@link DEFAULT_SCOPE_CLAIMS}. */
  readonly scopeClaims?: readonly ClaimPath[];
  /** Where roles are read from. Default {@link DEFAULT_ROLE_CLAIMS}. */
  readonly roleClaims?: readonly ClaimPath[];
  /** A custom check, e.g. a denylist keyed on `tokenId`; only `true` admits (see {@link ValidateHook}). */
  // `any`: a hook written for the user's own claims type must be accepted here (parameters are
  // contravariant, so ValidateHook<MyClaims> is not a ValidateHook<JwtClaims>).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly validate?: ValidateHook<any>;
  /**
   * Certificate-bound tokens (RFC 8705, `cnf["x5t#S256"]`): `'when-bound'` (default) admits a bound token
   * only when the call's verified client certificate hashes to it, and unbound tokens as before;
   * `'required'` refuses unbound tokens too (`ERR_AUTH_TOKEN_NOT_BOUND`); `'off'` ignores `cnf`. The
   * certificate is the one grpc-js verified (mutual TLS, grpc-js ≥ 1.14.5), or what the interceptor's
   * `clientCertificate` hook returns. See {@link CertificateBinding}. `createAuthenticator` has no
   * connection of its own: give `authenticate` the certificate your transport verified
   * (`{ clientCertificate }`); without it a bound token is refused (`ERR_AUTH_CERTIFICATE_MISSING`).
   */
  readonly certificateBinding?: CertificateBinding;
  /**
   * DPoP-bound tokens (RFC 9449, `cnf.jkt`) always need `authorization: DPoP` and a proof signed by their
   * key (the interceptor's `dpop` option; without it they are refused). `'when-bound'` (default) admits
   * unbound tokens as bearer tokens; `'required'` refuses them (`ERR_AUTH_TOKEN_NOT_BOUND`) and needs `dpop`.
   * See {@link DpopBinding}.
   */
  readonly dpopBinding?: DpopBinding;
}

/** Options compiled into the shapes the hot path uses. */
export interface CompiledVerifyOptions {
  readonly keys: KeyResolver;
  readonly header: HeaderPolicy;
  readonly claims: ClaimPolicy;
  readonly maxTokenBytes: number;
  readonly scopeClaims: readonly ClaimPath[];
  readonly roleClaims: readonly ClaimPath[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see VerifyOptions.validate
  readonly validate: ValidateHook<any> | undefined;
  readonly certificateBinding: CertificateBinding;
  readonly dpopBinding: DpopBinding;
}

/**
 * Every option of {@link VerifyOptions}, as the argument of `optionNames`: the compiler keeps it in step
 * with the interface, and the authenticator and issuer entries spread it into their own lists.
 */
export const VERIFY_OPTION_FLAGS = {
  keys: true,
  algorithms: true,
  issuer: true,
  audience: true,
  subject: true,
  typ: true,
  requiredClaims: true,
  requireExp: true,
  clockTolerance: true,
  maxTokenAge: true,
  maxTokenBytes: true,
  scopeClaims: true,
  roleClaims: true,
  validate: true,
  certificateBinding: true,
  dpopBinding: true,
} as const satisfies { readonly [K in keyof Required<VerifyOptions>]: true };

/** Names of every option of {@link VerifyOptions}, for typo detection. */
export const VERIFY_OPTION_NAMES = optionNames<VerifyOptions>(VERIFY_OPTION_FLAGS);

/** Skew beyond five minutes is a broken clock, not skew: tolerating it would keep expired tokens alive. */
const MAX_CLOCK_TOLERANCE = 300;
/**
 * Real clocks drift: with no tolerance, a token fresh from a provider one second ahead is refused as
 * issued in the future, a stream of spurious UNAUTHENTICATED. One minute, as Envoy and Spring Security.
 */
export const DEFAULT_CLOCK_TOLERANCE = 60;

/**
 * `issuer` and `audience`: one non-empty string or a non-empty list of them, as a set; undefined when
 * not given. An empty list is refused rather than read as "accept none" or "check nothing".
 *
 * @example
 * ```ts
 * optionalStringSet('orders-api', 'audience'); // Set { 'orders-api' }
 * optionalStringSet([], 'audience'); // throws AuthConfigError('audience', ...)
 * ```
 */
export function optionalStringSet(value: unknown, option: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) {
    throw new AuthConfigError(option, 'expected a non-empty string or a non-empty array of non-empty strings');
  }
  return new Set(list as string[]);
}

/**
 * `requiredClaims`: a list of claim names (possibly empty); undefined when not given.
 *
 * @example
 * ```ts
 * optionalNameList(['tenant', 'email'], 'requiredClaims'); // ['tenant', 'email']
 * optionalNameList('tenant', 'requiredClaims'); // throws AuthConfigError('requiredClaims', ...)
 * ```
 */
export function optionalNameList(value: unknown, option: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string' && name !== '')) {
    throw new AuthConfigError(option, 'expected an array of claim names');
  }
  return value as string[];
}

/**
 * `maxTokenBytes` with its default: a whole number of bytes from 64 to 1 MiB.
 *
 * @example
 * ```ts
 * checkMaxTokenBytes(undefined, 'maxTokenBytes'); // 8192
 * checkMaxTokenBytes(10, 'maxTokenBytes'); // throws AuthConfigError('maxTokenBytes', ...)
 * ```
 */
export function checkMaxTokenBytes(value: unknown, option: string): number {
  return optionalInteger(value, option, 64, 1024 * 1024) ?? DEFAULT_MAX_TOKEN_BYTES;
}

function isKeyResolver(value: unknown): value is KeyResolver {
  const resolver = value as KeyResolver | undefined;
  return typeof resolver === 'object' && resolver !== null && typeof resolver.getKeys === 'function' && typeof resolver.checkAlgorithms === 'function';
}

/**
 * What the verification options are compiled for: whether DPoP proofs can be checked (the interceptor's
 * `dpop` option).
 *
 * @example
 * ```ts
 * const context: VerifyContext = { dpop: true };
 * ```
 */
export interface VerifyContext {
  readonly dpop: boolean;
}

/** `createAuthenticator`, and an interceptor without `dpop`: no proof can be checked. */
export const NO_DPOP: VerifyContext = { dpop: false };

function checkDpopBinding(value: unknown, option: string, context: VerifyContext): DpopBinding {
  const binding = optionalChoice(value, option, DPOP_BINDINGS) ?? 'when-bound';
  // Every call would be refused: no DPoP-bound token can be proven without proof verification.
  if (binding === 'required' && !context.dpop) {
    throw new AuthConfigError(option, "'required' needs the interceptor's dpop option (createAuthenticator checks no DPoP proofs)");
  }
  return binding;
}

/**
 * Validates one issuer's verification options and compiles them. Every mistake throws an
 * {@link AuthConfigError} naming the option as `name` spells it: where the user wrote it, e.g.
 * `issuers[1].audience` for an issuer entry's own field, but `audience` for a top-level default.
 *
 * @example
 * ```ts
 * import { fromSecret } from 'grpc-jwt-auth';
 * const compiled = compileVerifyOptions({ keys: fromSecret(secret), algorithms: ['HS256'], audience: 'orders-api' });
 * compiled.claims.clockTolerance; // 60, the default
 * ```
 */
export function compileVerifyOptions(
  options: VerifyOptions,
  name: (option: string) => string = (option) => option,
  context: VerifyContext = NO_DPOP,
): CompiledVerifyOptions {
  if (!isKeyResolver(options.keys)) throw new AuthConfigError(name('keys'), 'expected a key resolver: fromSecret(), fromPem(), fromJwks() or fromIssuer()');
  const { algorithms } = options;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new AuthConfigError(name('algorithms'), 'required: list the algorithms your tokens use, e.g. ["RS256"]; it is never taken from the token');
  }
  algorithms.forEach((alg: unknown, index) => {
    if (!isSupportedAlgorithm(alg))
      throw new AuthConfigError(`${name('algorithms')}[${index}]`, `${JSON.stringify(alg)} is not a supported algorithm (\`none\` never is)`);
  });
  options.keys.checkAlgorithms(algorithms, name('algorithms'));
  const typ = optionalString(options.typ, name('typ'));
  if (typ !== undefined && !isMediaTypeName(typ))
    throw new AuthConfigError(name('typ'), 'expected a media type such as "at+jwt" or "application/at+jwt" (ASCII, no spaces, no empty part)');
  const validate = optionalFunction<ValidateHook<object>>(
    options.validate,
    name('validate'),
    'a function (claims, context) => boolean | Promise<boolean> (only true admits)',
  );
  return {
    keys: options.keys,
    header: { algorithms: new Set(algorithms), typ: typ === undefined ? undefined : normalizeTyp(typ) },
    claims: {
      issuers: optionalStringSet(options.issuer, name('issuer')),
      audiences: optionalStringSet(options.audience, name('audience')),
      subject: optionalString(options.subject, name('subject')),
      requiredClaims: optionalNameList(options.requiredClaims, name('requiredClaims')) ?? [],
      requireExp: optionalBoolean(options.requireExp, name('requireExp')) ?? true,
      clockTolerance: optionalSeconds(options.clockTolerance, name('clockTolerance'), 0, MAX_CLOCK_TOLERANCE) ?? DEFAULT_CLOCK_TOLERANCE,
      maxTokenAge: optionalSeconds(options.maxTokenAge, name('maxTokenAge')),
    },
    maxTokenBytes: checkMaxTokenBytes(options.maxTokenBytes, name('maxTokenBytes')),
    scopeClaims: options.scopeClaims === undefined ? DEFAULT_SCOPE_CLAIMS : checkClaimPaths(options.scopeClaims, name('scopeClaims')),
    roleClaims: options.roleClaims === undefined ? DEFAULT_ROLE_CLAIMS : checkClaimPaths(options.roleClaims, name('roleClaims')),
    validate,
    certificateBinding: optionalChoice(options.certificateBinding, name('certificateBinding'), CERTIFICATE_BINDINGS) ?? 'when-bound',
    dpopBinding: checkDpopBinding(options.dpopBinding, name('dpopBinding'), context),
  };
}
