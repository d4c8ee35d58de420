// OpenTelemetry: a MeterProvider from the SDK whose reader exports to memory. In production the
// exporter would be OTLP; the palisade side (createMetrics({ meter })) stays the same.
import type { Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

/** The SDK's in-memory exporter, keeping only the latest export so a long run stays bounded. */
export class LatestMetricExporter extends InMemoryMetricExporter {
  override export(...args: Parameters<InMemoryMetricExporter['export']>): void {
    this.reset();
    super.export(...args);
  }
}

/** One exported instrument, as `/otel` shows it. */
export interface OtelMetricView {
  name: string;
  unit: string;
  points: { attributes: Record<string, unknown>; value: number; sum?: number }[];
}

export interface OpenTelemetry {
  readonly provider: MeterProvider;
  readonly reader: PeriodicExportingMetricReader;
  readonly exporter: LatestMetricExporter;
  /** The meter palisade's instruments are created on. */
  readonly meter: Meter;
  /** Collects now (`forceFlush`) and returns what the exporter received. */
  collect(): Promise<OtelMetricView[]>;
  shutdown(): Promise<void>;
}

export function startOpenTelemetry(exportIntervalMs = 10_000): OpenTelemetry {
  const exporter = new LatestMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: exportIntervalMs });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    reader,
    exporter,
    meter: provider.getMeter('palisade-example'),
    async collect() {
      await reader.forceFlush();
      const latest = exporter.getMetrics().at(-1);
      return (latest?.scopeMetrics ?? [])
        .flatMap((scope) => scope.metrics)
        .map((metric) => ({
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          points: metric.dataPoints.map((point) => {
            // A histogram's value is its buckets: show how many calls and their total seconds.
            const value = point.value as number | { count: number; sum?: number };
            if (metric.dataPointType === DataPointType.HISTOGRAM && typeof value === 'object') {
              return { attributes: point.attributes, value: value.count, sum: value.sum ?? 0 };
            }
            return { attributes: point.attributes, value: value as number };
          }),
        }));
    },
    shutdown: () => provider.shutdown(),
  };
}
