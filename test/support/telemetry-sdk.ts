/**
 * The real OpenTelemetry SDK, in memory: a MeterProvider whose reader collects on demand, and a
 * BasicTracerProvider exporting finished spans to memory. What the telemetry tests read back.
 */
import { MeterProvider, MetricReader, type DataPoint, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A reader that exports nothing by itself: the test calls collect(). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface InMemoryMetrics {
  readonly meterProvider: MeterProvider;
  /** Every metric collected now, by name. */
  collect(): Promise<Map<string, MetricData>>;
  /** The raw collection, for "the token appears nowhere" checks. */
  collectRaw(): Promise<ResourceMetrics>;
}

export function inMemoryMetrics(): InMemoryMetrics {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collectRaw = async (): Promise<ResourceMetrics> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics;
  };
  return {
    meterProvider,
    collectRaw,
    async collect() {
      const found = new Map<string, MetricData>();
      for (const scope of (await collectRaw()).scopeMetrics) for (const metric of scope.metrics) found.set(metric.descriptor.name, metric);
      return found;
    },
  };
}

/** The data points of `name` (none when the metric was not recorded). */
export function pointsOf(metrics: Map<string, MetricData>, name: string): DataPoint<unknown>[] {
  return (metrics.get(name)?.dataPoints ?? []) as DataPoint<unknown>[];
}

/** The value of the one point of `name` whose attributes include `attributes`; undefined when none. */
export function valueWhere(metrics: Map<string, MetricData>, name: string, attributes: Record<string, unknown>): unknown {
  const point = pointsOf(metrics, name).find((p) => Object.entries(attributes).every(([key, value]) => p.attributes[key] === value));
  return point?.value;
}

export interface InMemoryTraces {
  readonly tracerProvider: BasicTracerProvider;
  spans(): ReadableSpan[];
}

export function inMemoryTraces(): InMemoryTraces {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracerProvider, spans: () => exporter.getFinishedSpans() };
}
