import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { compileRules, type Rule, type RuleMap } from '../authz/rules.ts';
import { checkRulesAgainstServices } from '../authz/rule-check.ts';
import type { ServiceSource } from '../authz/service-methods.ts';
import { checkOptionNames, optionNames, optionalChoice, optionalFunction } from '../util/option-checks.ts';
import { AUTHENTICATOR_OPTION_NAMES, buildAuthenticator, type AuthenticatorOptions } from '../verify/authenticator.ts';
import { checkedClock } from '../util/clock.ts';
import { checkMaxTokenBytes } from '../verify/options.ts';
import { checkMaxConcurrentVerifications } from '../verify/verification-limit.ts';
import type { MethodPolicy } from './admission.ts';
import type { AuthStatus } from '../verify/auth-status.ts';
import { CallAuthorization, type CallSettings } from './call-authorization.ts';
import { CREDENTIAL_METADATA, type AuthenticatedEvent, type RejectedEvent } from './events.ts';
import { startTelemetry } from '../telemetry/call-telemetry.ts';
import type { TelemetryOptions } from '../telemetry/telemetry-options.ts';
import { logConfiguration, logKeyEvents, logRevocationEvents, observeRejections, revocationsSource } from './interceptor-log.ts';
import { checkLogger, type Logger } from './logger.ts';
import { compileTokenSource, type TokenSource } from './token-source.ts';
import { MetadataTokenReader } from './token-reader.ts';
import { certificateSource, type ClientCertificateHook } from './client-certificate.ts';
import { DpopCheck } from './dpop-call.ts';
import { compileDpopOptions, type DpopOptions } from '../verify/dpop-options.ts';
import { ProofVerifier } from '../verify/dpop-proof.ts';
import { createMemoryReplayStore } from '../stores/memory-replay-store.ts';
import { optionalReplayStore, type ReplayStore } from '../stores/replay-store.ts';
import type { RevocationStore } from '../stores/revocation-store.ts';
import { StreamRevocations } from './stream-expiry.ts';

/**
 * Options of {@link createAuthInterceptor}: how tokens are verified (the {@link AuthenticatorOptions}),
 * which methods need what (rules), and hooks for logs and metrics.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, fromIssuer, requireScopes, type AuthInterceptorOptions } from 'grpc-jwt-auth';
 * const options: AuthInterceptorOptions = {
 *   keys: fromIssuer('https://idp.example/'),
 *   algorithms: ['RS256'],
 *   issuer: 'https://idp.example/',
 *   audience: 'orders-api',
 *   rules: { '/grpc.health.v1.Health/*': 'public', '/acme.orders.v1.Orders/GetOrder': requireScopes('orders:read') },
 *   defaultRule: 'deny',
 * };
 * const auth = createAuthInterceptor(options);
 * ```
 */
export interface AuthInterceptorOptions extends AuthenticatorOptions {
  /** Rules by method pattern (`/pkg.Service/Method` or `/pkg.Service/*`); an exact path wins over its service. */
  readonly rules?: RuleMap;
  /**
   * The rule for every method no pattern of `rules` matches: the one way to set the fallback (a
   * catch-all `rules['*']` is refused). Default `'authenticated'`; `'deny'` fails closed.
   */
  readonly defaultRule?: Rule;
  /**
   * The services the server offers (the definitions given to `addService`, a proto-loader package
   * definition or a protobufjs root): a rule naming a service or method not among them throws here.
   */
  readonly services?: ServiceSource | readonly ServiceSource[];
  /**
   * With `services`: every one of their methods must match a pattern of `rules`, none is left to
   * `defaultRule`. Default false.
   */
  readonly strictRules?: boolean;
  /**
   * What happens to a streaming call whose token expires while it is open: `'end'` (default) ends it
   * with UNAUTHENTICATED `TOKEN_EXPIRED` at `exp` plus tolerance, or `TOKEN_TOO_OLD` when `maxTokenAge`
   * runs out first (whichever comes earlier, the instant a new call with the token would be refused);
   * `'ignore'` lets it run.
   */
  readonly streamExpiry?: 'end' | 'ignore';
  /**
   * Called for every authenticated call (for logs and metrics): who, with which key, from the cache or
   * not, how long it took, and the call's metadata without credentials; never the token. Exceptions, and
   * rejections of an async hook, are swallowed.
   */
  readonly onAuthenticated?: (event: AuthenticatedEvent) => void;
  /**
   * Called for every refused call: the refusal, the call's metadata without credentials, and whose token
   * it was when its signature verified (never claims of a token that did not). Exceptions, and rejections
   * of an async hook, are swallowed.
   */
  readonly onRejected?: (event: RejectedEvent) => void;
  /**
   * OpenTelemetry metrics and spans (see the README's "Metrics and traces"). Default: the global
   * providers of `@opentelemetry/api` as they are when the interceptor is created (register the SDK
   * first); off when the api is not installed or no SDK is registered. `false` turns them off;
   * `{ meterProvider, tracerProvider }` for providers of your own.
   */
  readonly telemetry?: TelemetryOptions | false;
  /**
   * Where each call's token is read: `'authorization'` (default, `Bearer <token>`), `{ metadata: 'x-api-token' }`
   * (the whole value), `{ cookie: 'session' }`, or a function `(metadata, method) => string | undefined`.
   * Every source gets the checks of `authorization`; see {@link TokenSource}.
   */
  readonly tokenFrom?: TokenSource;
  /**
   * A pino-style logger (`pino()`, a child logger, `console`): refusals with status INTERNAL at `error`,
   * other refusals at `debug`, shed calls at `warn`, checks left off at creation at `warn`; never the
   * token. Silent by default. See {@link Logger}.
   */
  readonly logger?: Logger;
  /**
   * Where the client certificate of a call is read, for certificate-bound tokens (`certificateBinding`):
   * by default the certificate grpc-js verified (mutual TLS with `createSsl(ca, pairs, true)`, grpc-js ≥
   * 1.14.5), never a header. Behind a proxy that terminates TLS, a hook that returns the certificate's
   * `x5t#S256` or DER from what the proxy forwards; see {@link ClientCertificateHook}.
   */
  readonly clientCertificate?: ClientCertificateHook;
  /**
   * DPoP (RFC 9449): accept `authorization: DPoP <token>` with a proof in the `dpop` metadata, and admit
   * DPoP-bound tokens (`cnf.jkt`) only with a proof signed by their key, for the called method, on every
   * call (a verified-token cache hit included). `origins` (required) are the URLs clients address this
   * service by; never the call's `:authority`. Without it the DPoP scheme is malformed and DPoP-bound tokens
   * are refused. Needs `tokenFrom: 'authorization'`. See {@link DpopOptions}.
   */
  readonly dpop?: DpopOptions;
  /**
   * Where one-time values are remembered: the `jti` of every DPoP proof, for as long as the proof could
   * be accepted. Default: a memory store of this process ({@link createMemoryReplayStore}), right for one
   * replica; replicas behind a load balancer need a shared store (see {@link ReplayStore}).
   */
  readonly replayStore?: ReplayStore;
}

/**
 * The interceptor: a native grpc-js `ServerInterceptor`, plus key prefetch, health and shutdown.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js';
 * import { createAuthInterceptor, fromJwks, type AuthInterceptor } from 'grpc-jwt-auth';
 * const auth: AuthInterceptor = createAuthInterceptor({ keys: fromJwks('https://idp.example/jwks.json'), algorithms: ['RS256'] });
 * await auth.ready(); // the first calls need not wait for the key set
 * const server = new Server({ interceptors: [auth] });
 * setInterval(() => console.log(auth.status().serving ? 'SERVING' : 'NOT_SERVING'), 10_000).unref();
 * // ... on shutdown:
 * server.tryShutdown(() => auth.close());
 * ```
 */
export interface AuthInterceptor extends ServerInterceptor {
  /** Fetches remote keys now, so the first calls do not wait (resolves when every issuer has keys). */
  ready(): Promise<void>;
  /** Stops key refresh timers (and closes the revocation store it created; one given in the options is yours). */
  close(): void;
  /**
   * Per issuer: the keys held, the last fetch, until when they verify, the last error and the next retry;
   * the revocation list's state; `serving` is false while some issuer has no usable keys or the revocation
   * list cannot be trusted. For readiness probes (see the README's gRPC health recipe); never fetches.
   */
  status(): AuthStatus;
  /**
   * The revocation store calls are checked against: the `revocations` option, or a memory store of this
   * interceptor's own. `await auth.revocations.revoke({ kind: 'subject', issuer, subject })` refuses the
   * subject's tokens from the next call on, and ends their open streams.
   */
  readonly revocations: RevocationStore;
}

/** The options the interceptor adds to the authenticator's; the compiler keeps the list in step with the interface. */
const OWN_OPTION_NAMES = optionNames<Omit<AuthInterceptorOptions, keyof AuthenticatorOptions>>({
  rules: true,
  defaultRule: true,
  services: true,
  strictRules: true,
  streamExpiry: true,
  onAuthenticated: true,
  onRejected: true,
  telemetry: true,
  tokenFrom: true,
  logger: true,
  clientCertificate: true,
  dpop: true,
  replayStore: true,
});
const INTERCEPTOR_OPTION_NAMES: ReadonlySet<string> = new Set([...AUTHENTICATOR_OPTION_NAMES, ...OWN_OPTION_NAMES]);

/**
 * Creates the server interceptor that authenticates and authorizes every call before its handler runs.
 * Bad options throw an {@link AuthConfigError} here, naming the option, never at the first call.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js';
 * import { createAuthInterceptor, fromJwks, requireScopes } from 'grpc-jwt-auth';
 *
 * const auth = createAuthInterceptor({
 *   keys: fromJwks('https://idp.example/.well-known/jwks.json'),
 *   algorithms: ['RS256'],
 *   issuer: 'https://idp.example/',
 *   audience: 'orders-api',
 *   rules: { '/grpc.health.v1.Health/*': 'public', '/acme.orders.v1.Orders/GetOrder': requireScopes('orders:read') },
 * });
 * const server = new Server({ interceptors: [auth] });
 * ```
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): AuthInterceptor {
  // A misspelt option (`audiance`) would otherwise silently disable a check.
  checkOptionNames(options as unknown, INTERCEPTOR_OPTION_NAMES);
  const streamExpiry = optionalChoice(options.streamExpiry, 'streamExpiry', ['end', 'ignore']) ?? 'end';
  const rules = compileRules(options.rules, options.defaultRule);
  checkRulesAgainstServices(rules, options.services, options.strictRules);
  const logger = checkLogger(options.logger, 'logger');
  const dpopOptions = options.dpop === undefined ? undefined : compileDpopOptions(options.dpop, 'dpop');
  const replayStore = optionalReplayStore(options.replayStore, 'replayStore');
  const authenticator = buildAuthenticator(options, undefined, { dpop: dpopOptions !== undefined });
  const resolvers = [options.keys, ...(options.issuers ?? []).map((issuer) => issuer.keys)].filter((keys) => keys !== undefined);
  // The same checked clock as the authenticator's: a NaN reading refuses (INTERNAL), never admits.
  const clock = checkedClock(options.clock);
  const tokenFrom = compileTokenSource(options.tokenFrom, checkMaxTokenBytes(options.maxTokenBytes, 'maxTokenBytes'), dpopOptions !== undefined);
  // The default store reads the interceptor's clock, as proofs' iat are judged by it.
  const dpop =
    dpopOptions === undefined
      ? undefined
      : new DpopCheck(new ProofVerifier(dpopOptions, replayStore ?? createMemoryReplayStore({ clock }), clock), authenticator.limit);
  const rejections = observeRejections(optionalFunction<(event: RejectedEvent) => void>(options.onRejected, 'onRejected'), logger, clock);
  const settings: CallSettings = {
    onAuthenticated: optionalFunction<(event: AuthenticatedEvent) => void>(options.onAuthenticated, 'onAuthenticated'),
    onRejected: rejections.onRejected,
    authenticator,
    clock,
    // The configured token key holds a credential too: events never carry it, even when it was malformed.
    credentialMetadata: tokenFrom instanceof MetadataTokenReader ? [...CREDENTIAL_METADATA, tokenFrom.key] : CREDENTIAL_METADATA,
    telemetry: startTelemetry(options.telemetry, resolvers, () => authenticator.status(), clock),
    clientCertificate: certificateSource(
      optionalFunction<ClientCertificateHook>(options.clientCertificate, 'clientCertificate', 'a function (call) => string | Uint8Array | undefined'),
      logger,
    ),
    dpop,
    streamRevocations: new StreamRevocations(authenticator.revocations),
  };
  logConfiguration(logger, options, {
    tokenFrom: tokenFrom.description,
    maxConcurrentVerifications: checkMaxConcurrentVerifications(options.maxConcurrentVerifications, 'maxConcurrentVerifications'),
    revocations: revocationsSource(authenticator.revocations),
    ...(dpopOptions === undefined
      ? {}
      : {
          dpop: {
            origins: [...dpopOptions.origins],
            algorithms: [...dpopOptions.algorithms],
            nonces: dpopOptions.nonceSecret !== undefined,
            replayStore: replayStore === undefined ? ('memory' as const) : ('custom' as const),
          },
        }),
  });
  // Last, once nothing else can throw: a failed creation must leave no listener on a resolver.
  const stopKeyLogs = logKeyEvents(logger, resolvers);
  const stopRevocationLogs = logRevocationEvents(logger, settings.authenticator.revocations);
  // grpc-js runs interceptors only for registered methods, so this holds one entry per method.
  const policies = new Map<string, MethodPolicy>();
  const policyFor = (method: string): MethodPolicy => {
    let policy = policies.get(method);
    if (policy === undefined) {
      // Guards read the interceptor's checked clock (requireAuthTime), as the token checks do.
      policy = { rule: rules.ruleFor(method), info: Object.freeze({ method, clock }), token: tokenFrom };
      policies.set(method, policy);
    }
    return policy;
  };

  const interceptor: ServerInterceptor = (descriptor, call) => {
    const policy = policyFor(descriptor.path);
    // A public method never reads a token (nor calls a tokenFrom function): nothing to hold, nothing to attach.
    if (policy.rule === 'public') return new ServerInterceptingCall(call);
    const isStream = descriptor.requestStream || descriptor.responseStream;
    return new CallAuthorization(call, policy, settings, streamExpiry === 'end' && isStream, isStream).call;
  };

  return Object.assign(interceptor, {
    ready: () => settings.authenticator.ready(),
    close: () => {
      settings.telemetry?.close();
      stopKeyLogs();
      stopRevocationLogs();
      rejections.close();
      settings.streamRevocations?.close();
      settings.authenticator.close();
    },
    status: () => settings.authenticator.status(),
    revocations: authenticator.revocations,
  });
}
