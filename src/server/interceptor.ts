import { notify } from '../util/hooks.ts';
import { ServerInterceptingCall, status as grpcStatus, type Metadata, type ServerInterceptor, type ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { AuthConfigError } from '../errors/config-error.ts';
import { AuthError, toAuthError } from '../errors/auth-error.ts';
import { enforceGuard, type Guard, type GuardInfo } from '../authz/guards.ts';
import { checkOptionNames } from '../util/option-checks.ts';
import type { ServiceSource } from '../authz/service-methods.ts';
import { AUTHENTICATOR_OPTION_NAMES, buildAuthenticator, type Admission as Authentication, type AuthenticatorOptions } from '../verify/authenticator.ts';
import { checkedClock } from '../verify/clock.ts';
import { attachAuth } from './context.ts';
import { readBearerToken } from './metadata.ts';
import { rejectionStatus } from './rejection.ts';
import { checkServicesOption } from '../authz/rule-check.ts';
import { compileRules, type Rule, type RuleMap } from '../authz/rules.ts';
import { scheduleExpiry } from './stream-expiry.ts';

/**
 * Told to `onAuthenticated` after a call is authenticated and authorized, before its handler runs. Never
 * carries the token.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type AuthenticatedEvent } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   onAuthenticated: (event: AuthenticatedEvent) => console.info(`${event.method} by ${event.subject ?? '?'} from ${event.peer}`),
 * });
 * ```
 */
export interface AuthenticatedEvent {
  /** The full gRPC method path, e.g. `/acme.orders.v1.Orders/GetOrder`. */
  readonly method: string;
  /** The client's address as grpc-js reports it (`call.getPeer()`), e.g. `10.0.0.7:51234`. */
  readonly peer: string;
  /** The token's `sub`, when present. */
  readonly subject: string | undefined;
  /** The token's `iss`, when present. */
  readonly issuer: string | undefined;
  /** The caller's scopes, read from the configured scope claims. */
  readonly scopes: readonly string[];
}

/**
 * Told to `onRejected` when a call is refused. Never carries the token.
 *
 * @example
 * ```ts
 * import { createAuthInterceptor, type RejectedEvent } from 'grpc-jwt-auth';
 * const auth = createAuthInterceptor({
 *   keys,
 *   algorithms: ['RS256'],
 *   onRejected: ({ method, peer, error }: RejectedEvent) => console.warn(`${method} from ${peer} refused: ${error.code}: ${error.message}`),
 * });
 * ```
 */
export interface RejectedEvent {
  /** The full gRPC method path, e.g. `/acme.orders.v1.Orders/GetOrder`. */
  readonly method: string;
  /** The client's address as grpc-js reports it (`call.getPeer()`), e.g. `10.0.0.7:51234`. */
  readonly peer: string;
  /** The refusal: `code`, `reason`, `status`, a log `message` and the jose error as `cause`. */
  readonly error: AuthError;
}

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
  /** Rules by method pattern; the most specific wins. */
  readonly rules?: RuleMap;
  /** The rule for methods no pattern matches. Default `'authenticated'`; `'deny'` fails closed. */
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
  /** Called for every authenticated call (for logs and metrics); exceptions are swallowed. */
  readonly onAuthenticated?: (event: AuthenticatedEvent) => void;
  /** Called for every refused call; exceptions are swallowed. */
  readonly onRejected?: (event: RejectedEvent) => void;
}

/**
 * The interceptor: a native grpc-js `ServerInterceptor`, plus key prefetch and shutdown.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js';
 * import { createAuthInterceptor, fromJwks, type AuthInterceptor } from 'grpc-jwt-auth';
 * const auth: AuthInterceptor = createAuthInterceptor({ keys: fromJwks('https://idp.example/jwks.json'), algorithms: ['RS256'] });
 * await auth.ready(); // the first calls need not wait for the key set
 * const server = new Server({ interceptors: [auth] });
 * // ... on shutdown:
 * server.tryShutdown(() => auth.close());
 * ```
 */
export interface AuthInterceptor extends ServerInterceptor {
  /** Fetches remote keys now, so the first calls do not wait (resolves when every issuer has keys). */
  ready(): Promise<void>;
  /** Stops key refresh timers. */
  close(): void;
}

type MaybePromise<T> = T | Promise<T>;
/** grpc-js does not export its status type from the package root. */
type PartialStatusObject = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

const INTERCEPTOR_OPTION_NAMES = new Set([
  ...AUTHENTICATOR_OPTION_NAMES,
  'rules',
  'defaultRule',
  'services',
  'strictRules',
  'streamExpiry',
  'onAuthenticated',
  'onRejected',
]);

/** What the interceptor decided once for a method path: its rule and the facts a guard is given. */
interface MethodPolicy {
  readonly rule: Rule;
  readonly info: GuardInfo;
}

/** The refusal for a token that reached its `validUntil` (during admission, or while its stream is open). */
function endOfValidity(authentication: Authentication, when: string): AuthError {
  return authentication.endedBy === 'maxTokenAge'
    ? new AuthError('ERR_AUTH_TOKEN_TOO_OLD', `token became older than maxTokenAge ${when}`)
    : new AuthError('ERR_AUTH_TOKEN_EXPIRED', `token expired ${when}`);
}

/** Admits the authentication when the guard allows; throws (or rejects with) its refusal otherwise. */
function authorize(guard: Guard, admitted: Authentication, info: GuardInfo): MaybePromise<Authentication> {
  const enforced = enforceGuard(guard, admitted.context, info);
  return enforced instanceof Promise ? enforced.then(() => admitted) : admitted;
}

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
  const { streamExpiry = 'end', onAuthenticated, onRejected } = options;
  if (streamExpiry !== 'end' && streamExpiry !== 'ignore') throw new AuthConfigError('streamExpiry', "expected 'end' or 'ignore'");
  if (onAuthenticated !== undefined && typeof onAuthenticated !== 'function') throw new AuthConfigError('onAuthenticated', 'expected a function');
  if (onRejected !== undefined && typeof onRejected !== 'function') throw new AuthConfigError('onRejected', 'expected a function');
  const rules = compileRules(options.rules, options.defaultRule);
  checkServicesOption(rules, options.services, options.strictRules);
  const authenticator = buildAuthenticator(options);
  // The same checked clock as the authenticator's: a NaN reading refuses (INTERNAL), never admits.
  const clock = checkedClock(options.clock);
  // grpc-js runs interceptors only for registered methods, so this holds one entry per method.
  const policies = new Map<string, MethodPolicy>();
  const policyFor = (method: string): MethodPolicy => {
    let policy = policies.get(method);
    if (policy === undefined) {
      policy = { rule: rules.ruleFor(method), info: Object.freeze({ method }) };
      policies.set(method, policy);
    }
    return policy;
  };

  /**
   * Authentication before authorization: a bad token on a guarded method is UNAUTHENTICATED. A `'deny'`
   * rule refuses without reading the token. Answers synchronously when it can (a cached token and a
   * synchronous guard), so a repeated token costs no promise.
   */
  function admit({ rule, info }: MethodPolicy, metadata: Metadata): MaybePromise<Authentication | undefined> {
    if (rule === 'deny') throw new AuthError('ERR_AUTH_ACCESS_DENIED', `${info.method} is denied by rule`);
    const token = readBearerToken(metadata);
    if (token === undefined) {
      if (rule === 'optional') return undefined;
      throw new AuthError('ERR_AUTH_TOKEN_MISSING', 'call has no authorization metadata');
    }
    const authentication = authenticator.authenticate(token, info.method);
    if (typeof rule !== 'function') return authentication;
    return authentication instanceof Promise ? authentication.then((admitted) => authorize(rule, admitted, info)) : authorize(rule, authentication, info);
  }

  const interceptor: ServerInterceptor = (descriptor, call: ServerInterceptingCallInterface) => {
    const method = descriptor.path;
    const policy = policyFor(method);
    if (policy.rule === 'public') return new ServerInterceptingCall(call);
    const endsOnExpiry = streamExpiry === 'end' && (descriptor.requestStream || descriptor.responseStream);
    // Set once the call ended or was refused: nothing may admit or refuse it after that. (Once admitted,
    // only the expiry timer may still end it.)
    let finished = false;
    let cancelExpiry: (() => void) | undefined;
    const stopExpiryTimer = (): void => {
      cancelExpiry?.();
      cancelExpiry = undefined;
    };
    const refuse = (error: AuthError): void => {
      finished = true;
      stopExpiryTimer();
      notify(onRejected, () => ({ method, peer: call.getPeer(), error }));
      let status: PartialStatusObject;
      try {
        status = rejectionStatus(error);
      } catch {
        // Never leave a call hanging (or a rejection unhandled) because a refusal could not be encoded.
        status = { code: grpcStatus.INTERNAL, details: 'internal authentication error' };
      }
      intercepting.sendStatus(status);
    };
    const accept = (metadata: Metadata, authentication: Authentication | undefined, next: (metadata: Metadata) => void): void => {
      if (authentication) {
        const { validUntil } = authentication;
        // The last moment before the handler: a token that expired or grew too old while keys were
        // fetched, a validate hook or a guard ran, is refused here, at the instant its stream would end.
        if (validUntil !== undefined) {
          let now: number;
          try {
            now = clock();
          } catch (error) {
            refuse(toAuthError(error, 'clock failed'));
            return;
          }
          if (now >= validUntil) {
            refuse(endOfValidity(authentication, `before ${method} was admitted`));
            return;
          }
        }
        const { context } = authentication;
        attachAuth(metadata, context);
        if (endsOnExpiry && validUntil !== undefined) {
          cancelExpiry = scheduleExpiry(validUntil, clock, (clockError) => {
            cancelExpiry = undefined;
            if (!finished) refuse(clockError ?? endOfValidity(authentication, `during the ${method} stream`));
          });
        }
        if (onAuthenticated)
          notify(onAuthenticated, () => ({ method, peer: call.getPeer(), subject: context.subject, issuer: context.issuer, scopes: context.scopes }));
      }
      next(metadata);
    };
    const intercepting = new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            // grpc-js holds the client's messages and half-close until nextMetadata runs, in order.
            let admitted: MaybePromise<Authentication | undefined>;
            try {
              admitted = admit(policy, metadata);
            } catch (error) {
              refuse(toAuthError(error, 'unexpected error'));
              return;
            }
            if (!(admitted instanceof Promise)) {
              accept(metadata, admitted, nextMetadata);
              return;
            }
            admitted.then(
              (authentication) => {
                if (!finished) accept(metadata, authentication, nextMetadata);
              },
              (error: unknown) => {
                if (!finished) refuse(toAuthError(error, 'unexpected error'));
              },
            );
          },
          onCancel() {
            // Fires at the end of every call, successful ones too: cleanup only.
            finished = true;
            stopExpiryTimer();
          },
        });
      },
      // Only calls that can outlive their token need to hear the handler's status; a unary call keeps
      // grpc-js's direct path.
      ...(endsOnExpiry ? { sendStatus: stopTimerOnStatus } : {}),
    });
    function stopTimerOnStatus(status: PartialStatusObject, next: (status: PartialStatusObject) => void): void {
      // The handler ended the call: its token can no longer outlive it.
      stopExpiryTimer();
      next(status);
    }
    return intercepting;
  };

  return Object.assign(interceptor, {
    ready: () => authenticator.ready(),
    close: () => authenticator.close(),
  });
}
