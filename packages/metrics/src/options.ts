import { type Clock, type Duration, createValidator, optionsObject, systemClock } from '@palisade/core';
import type { OpenTelemetryMeter } from './opentelemetry.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /**
   * Distinct keys (`event.key`: host, route, client) tracked per policy. The least recently seen
   * key is evicted past the cap (an LRU), so a flood of distinct keys never grows memory; events
   * of evicted keys still count in the policy's totals. Evictions are reported per policy.
   * @default 100
   */
  maxKeysPerPolicy?: number;
  /**
   * Distinct policies (kind + name) tracked. Events of policies beyond the cap are added to one
   * `"(overflow)"` policy per kind, so dynamically named policies cannot grow memory either.
   * @default 200
   */
  maxPolicies?: number;
  /**
   * Upper bounds of the latency histogram buckets, in ms, strictly increasing; a last `+Inf`
   * bucket is implied. Percentiles are estimated within a bucket, so put bounds near your SLOs.
   * @default [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000]
   */
  buckets?: readonly number[];
  /**
   * How far back the per-policy timeline (rates and latency over time, used by the dashboard and
   * `snapshot().policies[i].recent`) reaches, in ms or as a duration string.
   * @default 300_000 (5 minutes)
   */
  historyMs?: Duration;
  /**
   * Width of one timeline slot, in ms. `historyMs / resolutionMs` slots are kept per policy
   * (at most 3_600).
   * @default 1_000
   */
  resolutionMs?: Duration;
  /**
   * Window of the `recent` block of a snapshot (rates per second, error rate, percentiles), in ms.
   * At most `historyMs`.
   * @default 60_000
   */
  recentMs?: Duration;
  /**
   * Circuit-breaker state changes kept per policy (newest first in snapshots).
   * @default 50
   */
  maxTransitions?: number;
  /**
   * The clock that says "now" when a snapshot reads the timeline. Give it the same clock as your
   * policies in tests (a `FakeClock`), so that their events fall inside the window.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * An OpenTelemetry `Meter` (from `@opentelemetry/api`, e.g. `metrics.getMeter('palisade')`).
   * When given, the counters and gauges of the snapshot are reported as observable instruments
   * and call durations are recorded on a histogram; see `OTEL_INSTRUMENTS` for the names.
   * @default undefined (no OpenTelemetry)
   */
  meter?: OpenTelemetryMeter;
}

/** Defaults of {@link MetricsOptions}. */
export const METRICS_DEFAULTS = Object.freeze({
  maxKeysPerPolicy: 100,
  maxPolicies: 200,
  buckets: Object.freeze([
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000,
  ]) as readonly number[],
  historyMs: 300_000,
  resolutionMs: 1_000,
  recentMs: 60_000,
  maxTransitions: 50,
});

/** Options once validated and resolved. */
export interface NormalizedMetricsOptions {
  readonly maxKeysPerPolicy: number;
  readonly maxPolicies: number;
  readonly buckets: readonly number[];
  readonly historyMs: number;
  readonly resolutionMs: number;
  readonly recentMs: number;
  readonly maxTransitions: number;
  readonly clock: Clock;
  readonly meter: OpenTelemetryMeter | undefined;
}

const PKG = '@palisade/metrics';
const check = createValidator(PKG);
const KNOWN = [
  'maxKeysPerPolicy',
  'maxPolicies',
  'buckets',
  'historyMs',
  'resolutionMs',
  'recentMs',
  'maxTransitions',
  'clock',
  'meter',
] as const;
const MAX_SLOTS = 3_600;

function buckets(value: unknown): readonly number[] {
  if (value === undefined) return METRICS_DEFAULTS.buckets;
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.length <= 64 &&
    value.every(
      (bound, i) =>
        typeof bound === 'number' && Number.isFinite(bound) && bound > 0 && (i === 0 || bound > value[i - 1]),
    );
  if (!ok) check.fail('buckets', 'a strictly increasing array of 1 to 64 finite numbers > 0 (ms)', value);
  return Object.freeze([...(value as number[])]);
}

function clockOption(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Clock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    check.fail('clock', 'a Clock with now()', value);
  }
  return clock;
}

function meterOption(value: unknown): OpenTelemetryMeter | undefined {
  if (value === undefined) return undefined;
  const meter = value as OpenTelemetryMeter;
  if (
    typeof meter !== 'object' ||
    meter === null ||
    typeof meter.createHistogram !== 'function' ||
    typeof meter.createObservableCounter !== 'function' ||
    typeof meter.createObservableUpDownCounter !== 'function' ||
    typeof meter.addBatchObservableCallback !== 'function'
  ) {
    check.fail('meter', 'an OpenTelemetry Meter', value);
  }
  return meter;
}

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeMetricsOptions(options?: MetricsOptions): NormalizedMetricsOptions {
  const opts = optionsObject(PKG, 'createMetrics', options);
  check.knownKeys(opts, KNOWN);
  const historyMs = check.duration('historyMs', opts.historyMs, METRICS_DEFAULTS.historyMs, { min: 1 });
  const resolutionMs = check.duration('resolutionMs', opts.resolutionMs, METRICS_DEFAULTS.resolutionMs, {
    min: 1,
    max: historyMs,
  });
  if (historyMs / resolutionMs > MAX_SLOTS) {
    check.fail('resolutionMs', `at least historyMs / ${MAX_SLOTS} = ${historyMs / MAX_SLOTS} ms`, opts.resolutionMs);
  }
  return {
    maxKeysPerPolicy: check.integer('maxKeysPerPolicy', opts.maxKeysPerPolicy, METRICS_DEFAULTS.maxKeysPerPolicy, {
      min: 0,
      max: 100_000,
    }),
    maxPolicies: check.integer('maxPolicies', opts.maxPolicies, METRICS_DEFAULTS.maxPolicies, { min: 1, max: 10_000 }),
    buckets: buckets(opts.buckets),
    historyMs,
    resolutionMs,
    recentMs: check.duration('recentMs', opts.recentMs, Math.min(METRICS_DEFAULTS.recentMs, historyMs), {
      min: resolutionMs,
      max: historyMs,
    }),
    maxTransitions: check.integer('maxTransitions', opts.maxTransitions, METRICS_DEFAULTS.maxTransitions, {
      min: 0,
      max: 10_000,
    }),
    clock: clockOption(opts.clock),
    meter: meterOption(opts.meter),
  };
}
