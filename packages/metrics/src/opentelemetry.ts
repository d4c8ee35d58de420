import { type CircuitState, EVENT_TYPES, type PolicyStats } from './series.js';

/** Attributes as palisade reports them: string values only. */
export type OpenTelemetryAttributes = Readonly<Record<string, string>>;

/** The options palisade passes when it creates an instrument. */
export interface OpenTelemetryInstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

/**
 * The part of an OpenTelemetry `Meter` (`@opentelemetry/api` ≥ 1.9) that palisade uses. Any
 * `Meter` fits: pass `metrics.getMeter('palisade')`. Declared here so that `@opentelemetry/api`
 * stays an optional peer dependency, needed only by those who use it.
 */
export interface OpenTelemetryMeter {
  createHistogram(
    name: string,
    options?: OpenTelemetryInstrumentOptions,
  ): { record(value: number, attributes?: OpenTelemetryAttributes): void };
  createObservableCounter(name: string, options?: OpenTelemetryInstrumentOptions): object;
  createObservableUpDownCounter(name: string, options?: OpenTelemetryInstrumentOptions): object;
  addBatchObservableCallback(
    callback: (result: {
      observe(observable: object, value: number, attributes?: OpenTelemetryAttributes): void;
    }) => void,
    observables: object[],
  ): void;
}

/** The attribute keys palisade sets, per OpenTelemetry's naming rules (namespaced, lower case). */
export const OTEL_ATTRIBUTES = Object.freeze({
  /** The pattern kind (`event.policy`): `retry`, `circuit-breaker`, `timeout`, … */
  kind: 'palisade.policy.kind',
  /** The policy's instance name (`event.name`). */
  name: 'palisade.policy.name',
  /** The event type: `success`, `failure`, `retry`, `circuit.open`, … */
  eventType: 'palisade.event.type',
  /** A breaker state: `closed`, `open`, `half-open`, `isolated`. */
  circuitState: 'palisade.circuit.state',
});

/** One instrument of {@link OTEL_INSTRUMENTS}. */
export interface OpenTelemetryInstrument {
  readonly name: string;
  readonly instrument: 'Counter' | 'Histogram' | 'UpDownCounter';
  readonly asynchronous: boolean;
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

const { kind: KIND, name: NAME, eventType: TYPE, circuitState: STATE } = OTEL_ATTRIBUTES;

/**
 * The instruments created on the `meter` given to `createMetrics`. Names follow OpenTelemetry's
 * semantic-convention rules: a `palisade.` namespace, dot-separated, snake_case words, no unit in
 * the name, UCUM units (`s`, `1`, `{event}`), durations in seconds.
 */
export const OTEL_INSTRUMENTS = Object.freeze({
  events: Object.freeze({
    name: 'palisade.events',
    instrument: 'Counter',
    asynchronous: true,
    unit: '{event}',
    description: 'Events emitted by palisade policies (calls, retries, rejections, breaker transitions, …).',
    attributes: Object.freeze([KIND, NAME, TYPE]),
  }),
  callDuration: Object.freeze({
    name: 'palisade.call.duration',
    instrument: 'Histogram',
    asynchronous: false,
    unit: 's',
    description: 'Duration of calls through a palisade policy (success and failure).',
    attributes: Object.freeze([KIND, NAME]),
  }),
  circuitStatus: Object.freeze({
    name: 'palisade.circuit.status',
    instrument: 'UpDownCounter',
    asynchronous: true,
    unit: '1',
    description:
      'Circuit breaker state: 1 for the current state, 0 for the others. An open breaker reads half-open once its openMs has passed.',
    attributes: Object.freeze([KIND, NAME, STATE]),
  }),
  bulkheadQueuedCalls: Object.freeze({
    name: 'palisade.bulkhead.queued_calls',
    instrument: 'UpDownCounter',
    asynchronous: true,
    unit: '{call}',
    description:
      'Calls waiting for a bulkhead slot now (bulkhead.queued less bulkhead.dequeued events, or read from a watched bulkhead).',
    attributes: Object.freeze([KIND, NAME]),
  }),
  bulkheadExecutingCalls: Object.freeze({
    name: 'palisade.bulkhead.executing_calls',
    instrument: 'UpDownCounter',
    asynchronous: true,
    unit: '{call}',
    description: 'Calls running in a bulkhead now (watched bulkheads only: metrics.watch).',
    attributes: Object.freeze([KIND, NAME]),
  }),
  concurrencyLimit: Object.freeze({
    name: 'palisade.concurrency.limit',
    instrument: 'UpDownCounter',
    asynchronous: true,
    unit: '{call}',
    description: 'Current limit of an adaptive concurrency limit.',
    attributes: Object.freeze([KIND, NAME]),
  }),
} satisfies Record<string, OpenTelemetryInstrument>);

const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

const options = (instrument: OpenTelemetryInstrument): OpenTelemetryInstrumentOptions => ({
  unit: instrument.unit,
  description: instrument.description,
});

const attributesOf = (stats: PolicyStats): OpenTelemetryAttributes =>
  (stats.attributes ??= Object.freeze({ [KIND]: stats.policy, [NAME]: stats.name }));

/**
 * Creates the instruments on `meter`. Counters and gauges are observable: one batch callback
 * reads the aggregated state at collection time, so events cost OpenTelemetry nothing. Call
 * durations go to a synchronous histogram; the returned function records one (attributes are
 * built once per policy).
 * @internal used by `createMetrics({ meter })`
 */
export function instrumentOpenTelemetry(
  meter: OpenTelemetryMeter,
  policies: () => Iterable<PolicyStats>,
  bucketsMs: readonly number[],
  now: () => number,
): (stats: PolicyStats, durationMs: number) => void {
  const I = OTEL_INSTRUMENTS;
  const histogram = meter.createHistogram(I.callDuration.name, {
    ...options(I.callDuration),
    advice: { explicitBucketBoundaries: bucketsMs.map((ms) => ms / 1_000) },
  });
  const events = meter.createObservableCounter(I.events.name, options(I.events));
  const circuit = meter.createObservableUpDownCounter(I.circuitStatus.name, options(I.circuitStatus));
  const queued = meter.createObservableUpDownCounter(I.bulkheadQueuedCalls.name, options(I.bulkheadQueuedCalls));
  const executing = meter.createObservableUpDownCounter(
    I.bulkheadExecutingCalls.name,
    options(I.bulkheadExecutingCalls),
  );
  const limit = meter.createObservableUpDownCounter(I.concurrencyLimit.name, options(I.concurrencyLimit));

  meter.addBatchObservableCallback(
    (result) => {
      const time = now();
      for (const stats of policies()) {
        const base = attributesOf(stats);
        const counts = stats.total.counts;
        for (let i = 0; i < counts.length; i++) {
          const count = counts[i] as number;
          if (count > 0) result.observe(events, count, { ...base, [TYPE]: EVENT_TYPES[i] as string });
        }
        const current = stats.circuitAt(time);
        if (current !== undefined) {
          for (const state of STATES) result.observe(circuit, state === current ? 1 : 0, { ...base, [STATE]: state });
        }
        const queuedNow = stats.slots.queued();
        if (queuedNow !== undefined) result.observe(queued, queuedNow, base);
        const executingNow = stats.slots.executing();
        if (executingNow !== undefined) result.observe(executing, executingNow, base);
        const limitNow = stats.slots.limit();
        if (limitNow !== undefined) result.observe(limit, limitNow, base);
      }
    },
    [events, circuit, queued, executing, limit],
  );

  return (stats, durationMs) => histogram.record(durationMs / 1_000, attributesOf(stats));
}
