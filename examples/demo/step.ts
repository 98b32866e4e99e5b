/** What every step of the demo gets, and what a step is. */
import type { Metadata } from '@grpc/grpc-js';
import type { CachedToken, DpopKey, TokenSource } from 'grpc-jwt-auth/client';
import type { Calls } from './client.ts';
import type { OrdersClient } from './orders.ts';
import type { Provider } from './provider.ts';
import type { StepReport } from './report.ts';
import type { DemoServer } from './server.ts';

export interface DemoContext {
  readonly provider: Provider;
  readonly server: DemoServer;
  /** The client "orders-app": TLS, and the token interceptor over its client-credentials token source. */
  readonly client: OrdersClient;
  readonly calls: Calls;
  /** A new client of the server over TLS; with a token source, through the token interceptor. */
  connect(token?: TokenSource): OrdersClient;
  /** A new client-credentials token source for "orders-app" (its own cache, so its first token is fresh). */
  newTokenSource(): TokenSource;
  /** A client of "orders-dpop-app" whose tokens are bound to `key`; `lastSent()` is the metadata of its last call, as on the wire. */
  connectWithDpop(key: DpopKey): DpopClient;
}

/** A client sending DPoP-bound tokens, and what it sent last (what a thief on the wire would copy). */
export interface DpopClient {
  readonly client: OrdersClient;
  readonly token: CachedToken;
  lastSent(): Metadata | undefined;
}

export interface Step {
  readonly title: string;
  /** A few lines saying what the step shows, for a newcomer. */
  readonly explanation: readonly string[];
  run(context: DemoContext, report: StepReport): Promise<void>;
}
