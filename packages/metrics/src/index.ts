export { createMetrics, OVERFLOW_NAME } from './metrics.js';
export type { Metrics, MetricsSnapshot, SnapshotOptions } from './metrics.js';
export { METRICS_DEFAULTS, normalizeMetricsOptions } from './options.js';
export type { MetricsOptions, NormalizedMetricsOptions } from './options.js';
export { EVENT_TYPES } from './series.js';
export type {
  CircuitSnapshot,
  CircuitState,
  CircuitTransition,
  EventCounts,
  KeySnapshot,
  PolicySnapshot,
  RecentSnapshot,
  SeriesSnapshot,
} from './series.js';
export type { BulkheadSnapshot, WatchedSlots } from './slots.js';
export type { HistogramBucket, HistogramSnapshot } from './histogram.js';
export { TIMELINE_COLUMNS } from './timeline.js';
export type { TimelineColumn } from './timeline.js';
export {
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_METRICS,
  prometheusHandler,
  prometheusText,
  registerPrometheus,
} from './prometheus.js';
export type {
  PrometheusMetric,
  PrometheusOptions,
  PromClientRegistry,
  RegisterPrometheusOptions,
} from './prometheus.js';
export { OTEL_ATTRIBUTES, OTEL_INSTRUMENTS } from './opentelemetry.js';
export type {
  OpenTelemetryAttributes,
  OpenTelemetryInstrument,
  OpenTelemetryInstrumentOptions,
  OpenTelemetryMeter,
} from './opentelemetry.js';
export { dashboard, DASHBOARD_DEFAULTS } from './dashboard.js';
export type { DashboardHandler, DashboardOptions } from './dashboard.js';
export type { HttpHandler, NodeRequest, NodeResponse } from './http.js';
