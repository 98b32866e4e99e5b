/**
 * OpenTelemetry SDK providers as a production server would have them, minus the network: metrics
 * collected by a periodic reader (every 60 s, into memory), spans batched to an exporter that drops them.
 */
import { InMemoryMetricExporter, MeterProvider, AggregationTemporality, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export function sdkMeterProvider(): MeterProvider {
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 60_000 });
  return new MeterProvider({ readers: [reader] });
}

/** Counts and forgets: the cost measured is the SDK's, not an exporter's network. */
class DiscardingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

export function sdkTracerProvider(): BasicTracerProvider {
  return new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new DiscardingExporter())] });
}
