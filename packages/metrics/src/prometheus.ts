import { createValidator, optionsObject } from '@palisade/core';
import { type HttpHandler, simpleHandler } from './http.js';
import { type Metrics, type MetricsInternals, internalsOf } from './metrics.js';
import { OTEL_INSTRUMENTS } from './opentelemetry.js';
import { type CircuitState, EVENT_TYPES, type PolicyStats } from './series.js';

/** Content type of the Prometheus text exposition format this package writes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Options shared by the Prometheus exporters. */
export interface PrometheusOptions {
  /** The sink to export, from `createMetrics()`. */
  metrics: Metrics;
  /**
   * Also export per-key event counters (`palisade_key_events_total`, with a `key` label). Their
   * number of series is bounded by `maxKeysPerPolicy × policies × event types seen`.
   * @default false
   */
  keys?: boolean;
}

type FamilyType = 'counter' | 'gauge' | 'histogram';

interface Sample {
  /** Appended to the family name (`_bucket`, `_sum`, `_count`). */
  suffix?: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  type: FamilyType;
  help: string;
  labels: readonly string[];
  /** Only exported with `keys: true`. */
  perKey?: boolean;
  /** `now`: the sink's clock at the scrape, read once for every family. */
  collect(stats: PolicyStats, internals: MetricsInternals, into: Sample[], now: number): void;
}

const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];
const SUCCESS = EVENT_TYPES.indexOf('success');
const FAILURE = EVENT_TYPES.indexOf('failure');
const base = (stats: PolicyStats): Record<string, string> => ({ policy: stats.policy, name: stats.name });

/** A per-policy gauge of the sink's slot state (`read` is `undefined` where the policy has none). */
const slotGauge = (name: string, help: string, read: (slots: PolicyStats['slots']) => number | undefined): Family => ({
  name,
  labels: ['policy', 'name'],
  type: 'gauge',
  help,
  collect(stats, _internals, into) {
    const value = read(stats.slots);
    if (value !== undefined) into.push({ labels: base(stats), value });
  },
});

/** The families exported, in order. Their names and labels are documented in `PROMETHEUS_METRICS`. */
const FAMILIES: readonly Family[] = [
  {
    name: 'palisade_events_total',
    labels: ['policy', 'name', 'type'],
    type: 'counter',
    help: 'Events emitted by palisade policies, by type (success, failure, retry, circuit.open, ...).',
    collect(stats, _internals, into) {
      const counts = stats.total.counts;
      for (let i = 0; i < counts.length; i++) {
        const value = counts[i] as number;
        if (value > 0 || i === SUCCESS || i === FAILURE) {
          into.push({ labels: { ...base(stats), type: EVENT_TYPES[i] as string }, value });
        }
      }
    },
  },
  {
    name: 'palisade_call_duration_seconds',
    labels: ['policy', 'name', 'le'],
    type: 'histogram',
    help: 'Duration of calls through a palisade policy, in seconds.',
    collect(stats, internals, into) {
      const h = stats.total.latency;
      if (h.count === 0) return;
      let cumulative = 0;
      for (let i = 0; i < h.counts.length; i++) {
        cumulative += h.counts[i] as number;
        const le = i < internals.bounds.length ? formatNumber((internals.bounds[i] as number) / 1_000) : '+Inf';
        into.push({ suffix: '_bucket', labels: { ...base(stats), le }, value: cumulative });
      }
      into.push({ suffix: '_sum', labels: base(stats), value: h.sum / 1_000 });
      into.push({ suffix: '_count', labels: base(stats), value: h.count });
    },
  },
  {
    name: 'palisade_circuit_state',
    labels: ['policy', 'name', 'state'],
    type: 'gauge',
    help: OTEL_INSTRUMENTS.circuitStatus.description,
    collect(stats, _internals, into, now) {
      const current = stats.circuitAt(now);
      if (current === undefined) return;
      for (const state of STATES) {
        into.push({ labels: { ...base(stats), state }, value: state === current ? 1 : 0 });
      }
    },
  },
  // These gauges are described as their OpenTelemetry twins are: one text each.
  slotGauge('palisade_bulkhead_queued_calls', OTEL_INSTRUMENTS.bulkheadQueuedCalls.description, (s) => s.queued()),
  slotGauge('palisade_bulkhead_executing_calls', OTEL_INSTRUMENTS.bulkheadExecutingCalls.description, (s) =>
    s.executing(),
  ),
  slotGauge('palisade_concurrency_limit', OTEL_INSTRUMENTS.concurrencyLimit.description, (s) => s.limit()),
  {
    name: 'palisade_tracked_keys',
    labels: ['policy', 'name'],
    type: 'gauge',
    help: 'Keys tracked by the metrics sink for this policy (capped by maxKeysPerPolicy).',
    collect(stats, _internals, into) {
      into.push({ labels: base(stats), value: stats.keys?.size ?? 0 });
    },
  },
  {
    name: 'palisade_evicted_keys_total',
    labels: ['policy', 'name'],
    type: 'counter',
    help: 'Keys evicted by the metrics sink to respect maxKeysPerPolicy.',
    collect(stats, _internals, into) {
      into.push({ labels: base(stats), value: stats.evictedKeys });
    },
  },
  {
    name: 'palisade_key_events_total',
    labels: ['policy', 'name', 'key', 'type'],
    type: 'counter',
    help: 'Events per tracked key (only the keys the sink still tracks).',
    perKey: true,
    collect(stats, _internals, into) {
      if (!stats.keys) return;
      for (const [key, series] of stats.keys.entries()) {
        const counts = series.counts;
        for (let i = 0; i < counts.length; i++) {
          const value = counts[i] as number;
          if (value > 0) into.push({ labels: { ...base(stats), key, type: EVENT_TYPES[i] as string }, value });
        }
      }
    },
  },
];

/** One exported metric family, for documentation. */
export interface PrometheusMetric {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly labels: readonly string[];
}

/** The metric families exported to Prometheus, with their labels. */
export const PROMETHEUS_METRICS: readonly PrometheusMetric[] = Object.freeze(
  FAMILIES.map(({ name, type, help, labels }) => Object.freeze({ name, type, help, labels })),
);

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

const check = createValidator('@palisade/metrics');

/** Validates the options of every Prometheus exporter (the sink, `keys`, and `extra` option names). */
function exporterOptions(fn: string, options: PrometheusOptions, extra: readonly string[] = []): MetricsInternals {
  const opts = optionsObject('@palisade/metrics', fn, options);
  check.knownKeys(opts, ['metrics', 'keys', ...extra]);
  check.boolean('keys', opts.keys, false);
  return internalsOf(`${fn}()`, opts.metrics);
}

function collect(family: Family, internals: MetricsInternals, now: number): Sample[] {
  const samples: Sample[] = [];
  for (const stats of internals.policies()) family.collect(stats, internals, samples, now);
  return samples;
}

const wanted = (family: Family, keys: boolean | undefined): boolean => !family.perKey || keys === true;

/**
 * Renders the metrics in the Prometheus text exposition format (version 0.0.4), with no
 * dependency. Families without samples are left out.
 */
export function prometheusText(options: PrometheusOptions): string {
  const internals = exporterOptions('prometheusText', options);
  const lines: string[] = [];
  const now = internals.options.clock.now();
  for (const family of FAMILIES) {
    if (!wanted(family, options.keys)) continue;
    const samples = collect(family, internals, now);
    if (samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of samples) {
      const labels = Object.entries(sample.labels)
        .map(([label, value]) => `${label}="${escapeLabel(value)}"`)
        .join(',');
      lines.push(`${family.name}${sample.suffix ?? ''}{${labels}} ${formatNumber(sample.value)}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * An HTTP handler serving {@link prometheusText} for Prometheus to scrape. Mount it at
 * `/metrics` in node:http, Express (`app.get('/metrics', handler)`) or Hono
 * (`app.get('/metrics', (c) => handler.fetch(c.req.raw))`).
 */
export function prometheusHandler(options: PrometheusOptions): HttpHandler {
  exporterOptions('prometheusHandler', options);
  return simpleHandler(() => ({
    status: 200,
    headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
    body: prometheusText(options),
  }));
}

/**
 * The part of a `prom-client` `Registry` used to register palisade's collectors. Any Registry
 * fits (`register`, the default one, or `new Registry()`).
 */
export interface PromClientRegistry {
  registerMetric(metric: never): void;
  removeSingleMetric(name: string): void;
}

/** Options of {@link registerPrometheus}. */
export interface RegisterPrometheusOptions extends PrometheusOptions {
  /** The prom-client registry to add palisade's metrics to, e.g. `register` from `prom-client`. */
  registry: PromClientRegistry;
}

/**
 * Adds palisade's metric families to a `prom-client` registry, so one `/metrics` endpoint serves
 * them beside your own and the default process metrics. Values are read from the sink at scrape
 * time (nothing is recorded twice). Returns a function that removes them again.
 *
 * @example
 * import { register } from 'prom-client';
 * registerPrometheus({ metrics, registry: register });
 */
export function registerPrometheus(options: RegisterPrometheusOptions): () => void {
  const internals = exporterOptions('registerPrometheus', options, ['registry']);
  const { registry } = options;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.removeSingleMetric !== 'function') {
    throw new TypeError('@palisade/metrics: registerPrometheus() "registry" must be a prom-client Registry');
  }
  const collectors: { name: string }[] = [];
  for (const family of FAMILIES) {
    if (!wanted(family, options.keys)) continue;
    // prom-client renames counters in OpenMetrics mode (drops `_total`): read the name back.
    const collector = {
      name: family.name,
      help: family.help,
      type: family.type,
      aggregator: 'sum',
      get: async () => ({
        name: collector.name,
        help: family.help,
        type: family.type,
        aggregator: 'sum',
        values: collect(family, internals, internals.options.clock.now()).map((sample) => ({
          value: sample.value,
          labels: sample.labels,
          ...(sample.suffix ? { metricName: `${family.name}${sample.suffix}` } : {}),
        })),
      }),
      reset: () => {},
    };
    registry.registerMetric(collector as never);
    collectors.push(collector);
  }
  return () => {
    for (const collector of collectors) registry.removeSingleMetric(collector.name);
  };
}
