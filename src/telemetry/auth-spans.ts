import type { Metadata } from '@grpc/grpc-js';
import type { Context, Span, TextMapGetter, Tracer } from '@opentelemetry/api';
import type { TokenFacts } from '../verify/token-facts.ts';
import type { OpenTelemetryApi } from './otel-api.ts';
import { rpcAttributes } from './rpc-attributes.ts';

/** `SpanKind.INTERNAL` and `SpanStatusCode.ERROR`, as numbers: a tracer given without the api installed works too. */
const INTERNAL = 0;
const ERROR = 2;

/** The span's name: one per call that reads a token, from its metadata to the decision. */
export const AUTHENTICATE_SPAN = 'grpc_jwt_auth.authenticate';

/** Reads trace context (`traceparent`, `tracestate`, `baggage`) from a call's text metadata; binary values are skipped. */
const METADATA_GETTER: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const texts = metadata.get(key).filter((value): value is string => typeof value === 'string');
    return texts.length === 0 ? undefined : texts;
  },
};

/**
 * What a decision tells the span. `facts` only for a genuine token (its signature verified): a forged
 * token's `kid` or `sub` never reaches a trace as if it were true.
 *
 * @example
 * ```ts
 * const decision: SpanDecision = { outcome: 'refused', reason: 'TOKEN_EXPIRED', cacheHit: false, facts: undefined };
 * ```
 */
export interface SpanDecision {
  readonly outcome: 'admitted' | 'refused';
  readonly reason: string;
  readonly cacheHit: boolean | undefined;
  readonly facts: TokenFacts | undefined;
}

/**
 * The `grpc_jwt_auth.authenticate` spans. grpc-js runs interceptors before the handler, and
 * `@opentelemetry/instrumentation-grpc` starts its server span only when the handler runs (never for a
 * refused call), so there is no server span to annotate when the decision is made: each call that reads
 * a token gets a short internal span of its own instead, a child of the active span if there is one, or
 * else of the trace context the client sent in its metadata (through the registered propagator). It
 * carries the method, the outcome and reason, whether the cache answered, and for a genuine token the
 * `kid` and `alg` that verified it, plus `enduser.id` when `recordSubject` is on. Never the token.
 *
 * @example
 * ```ts
 * import { Metadata } from '@grpc/grpc-js';
 * import { trace } from '@opentelemetry/api';
 * const spans = new AuthSpans(trace.getTracer('grpc-jwt-auth'), undefined, false);
 * const span = spans.start('/acme.orders.v1.Orders/GetOrder', new Metadata());
 * if (span) spans.end(span, { outcome: 'refused', reason: 'TOKEN_MISSING', cacheHit: undefined, facts: undefined });
 * ```
 */
export class AuthSpans {
  constructor(
    private readonly tracer: Tracer,
    private readonly api: OpenTelemetryApi | undefined,
    private readonly recordSubject: boolean,
  ) {}

  /** Starts a call's span; undefined when the tracer does not record (no SDK, or sampled out): nothing more to do. */
  start(method: string, metadata: Metadata): Span | undefined {
    const span = this.tracer.startSpan(AUTHENTICATE_SPAN, { kind: INTERNAL }, this.parent(metadata));
    if (!span.isRecording()) return undefined;
    span.setAttributes(rpcAttributes(method));
    return span;
  }

  end(span: Span, { outcome, reason, cacheHit, facts }: SpanDecision): void {
    span.setAttribute('grpc_jwt_auth.outcome', outcome);
    span.setAttribute('grpc_jwt_auth.reason', reason);
    if (cacheHit !== undefined) span.setAttribute('grpc_jwt_auth.cache_hit', cacheHit);
    if (facts !== undefined) {
      if (facts.kid !== undefined) span.setAttribute('grpc_jwt_auth.kid', facts.kid);
      span.setAttribute('grpc_jwt_auth.alg', facts.alg);
      if (this.recordSubject && facts.subject !== undefined) span.setAttribute('enduser.id', facts.subject);
    }
    if (outcome === 'refused') {
      // The reason is one of the fixed codes: no token or claim text in the status either.
      span.setAttribute('error.type', reason);
      span.setStatus({ code: ERROR, message: reason });
    }
    span.end();
  }

  /** The active span's context, else the client's trace context from the metadata; undefined without the api. */
  private parent(metadata: Metadata): Context | undefined {
    if (this.api === undefined) return undefined;
    const active = this.api.context.active();
    if (this.api.trace.getSpan(active) !== undefined) return active;
    try {
      return this.api.propagation.extract(active, metadata, METADATA_GETTER);
    } catch {
      // A propagator that fails on what a client sent loses the parent, not the span.
      return active;
    }
  }
}
