import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { bulkhead } from '@palisade/bulkhead';
import { FakeClock } from '@palisade/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_DEFAULTS, OTEL_ATTRIBUTES, OTEL_INSTRUMENTS, createMetrics } from '../src/index.js';
import { emitter } from './fixtures/events.js';
import { otel as sdk, point } from './fixtures/otel.js';

const shutdowns: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(shutdowns.splice(0).map((shutdown) => shutdown()));
});

function otel(temporality = AggregationTemporality.CUMULATIVE) {
  const reader = sdk(temporality);
  shutdowns.push(reader.shutdown);
  return reader;
}

const { kind: KIND, name: NAME, eventType: TYPE, circuitState: STATE } = OTEL_ATTRIBUTES;

describe('OpenTelemetry', () => {
  it('names every instrument and attribute by OpenTelemetry’s naming rules', () => {
    const name = /^palisade(\.[a-z][a-z0-9_]*)+$/;
    for (const instrument of Object.values(OTEL_INSTRUMENTS)) {
      expect(instrument.name).toMatch(name);
      // No unit in the name, no `_total`, no plural-count suffix: those belong to other exporters.
      expect(instrument.name).not.toMatch(/(_total|_seconds|_ms|\.ms|\.seconds|\.total)$/);
      expect(instrument.unit).toMatch(/^(s|1|\{[a-z_]+\})$/);
      for (const attribute of instrument.attributes) expect(attribute).toMatch(name);
    }
    expect(OTEL_INSTRUMENTS.callDuration.unit).toBe('s'); // durations in seconds, as semantic conventions want
  });

  it('reports counters, breaker state, queues, limits and call durations through the SDK', async () => {
    const { meter, collect } = otel();
    const clock = new FakeClock({ now: 1_700_000_000_000 });
    const metrics = createMetrics({ clock, meter });
    const cb = emitter(metrics.onEvent, 'circuit-breaker', 'payments', () => clock.now());
    for (const ms of [4, 12, 30]) cb({ type: 'success', durationMs: ms, key: 'k' });
    cb({ type: 'failure', durationMs: 700, error: 'x' });
    cb({ type: 'circuit.open', failureRate: 0.5, slowCallRate: 0, openMs: 1_000 });
    cb({ type: 'circuit.rejected', state: 'open' });
    const bh = emitter(metrics.onEvent, 'bulkhead', 'db', () => clock.now());
    for (let queued = 1; queued <= 8; queued++) bh({ type: 'bulkhead.queued', queued });
    bh({ type: 'bulkhead.dequeued', queued: 7, reason: 'admitted' });
    bh({ type: 'limit.changed', limit: 16, previous: 8 });
    // Running calls are only known for a watched bulkhead.
    metrics.watch(bulkhead({ name: 'pool', clock, onEvent: metrics.onEvent }));

    const exported = await collect();
    expect([...exported.keys()].sort()).toEqual(
      Object.values(OTEL_INSTRUMENTS)
        .map((i) => i.name)
        .sort(),
    );
    for (const instrument of Object.values(OTEL_INSTRUMENTS)) {
      const metric = exported.get(instrument.name);
      expect(metric?.descriptor.unit).toBe(instrument.unit);
      expect(metric?.descriptor.description).toBe(instrument.description);
      for (const p of metric?.dataPoints ?? []) {
        expect(Object.keys(p.attributes).sort()).toEqual([...instrument.attributes].sort());
      }
    }

    const events = exported.get('palisade.events');
    expect(events?.dataPointType).toBe(DataPointType.SUM);
    expect((events as { isMonotonic?: boolean }).isMonotonic).toBe(true);
    const payments = { [KIND]: 'circuit-breaker', [NAME]: 'payments' };
    expect(point(events, { ...payments, [TYPE]: 'success' })?.value).toBe(3);
    expect(point(events, { ...payments, [TYPE]: 'failure' })?.value).toBe(1);
    expect(point(events, { ...payments, [TYPE]: 'circuit.open' })?.value).toBe(1);
    expect(point(events, { ...payments, [TYPE]: 'circuit.rejected' })?.value).toBe(1);
    expect(point(events, { ...payments, [TYPE]: 'retry' })).toBeUndefined();

    const status = exported.get('palisade.circuit.status');
    expect((status as { isMonotonic?: boolean }).isMonotonic).toBe(false);
    expect(point(status, { ...payments, [STATE]: 'open' })?.value).toBe(1);
    expect(point(status, { ...payments, [STATE]: 'closed' })?.value).toBe(0);
    expect(status?.dataPoints).toHaveLength(4);

    const db = { [KIND]: 'bulkhead', [NAME]: 'db' };
    expect(point(exported.get('palisade.bulkhead.queued_calls'), db)?.value).toBe(7);
    expect(point(exported.get('palisade.concurrency.limit'), db)?.value).toBe(16);
    expect(point(exported.get('palisade.bulkhead.executing_calls'), db)).toBeUndefined();
    const pool = { [KIND]: 'bulkhead', [NAME]: 'pool' };
    expect(point(exported.get('palisade.bulkhead.executing_calls'), pool)?.value).toBe(0);
    expect(point(exported.get('palisade.bulkhead.queued_calls'), pool)?.value).toBe(0);

    const duration = exported.get('palisade.call.duration');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const h = point(duration, payments)?.value as {
      count: number;
      sum: number;
      buckets: { boundaries: number[]; counts: number[] };
    };
    expect(h.count).toBe(4);
    expect(h.sum).toBeCloseTo(0.746);
    expect(h.buckets.boundaries).toEqual(METRICS_DEFAULTS.buckets.map((ms) => ms / 1_000));
    expect(h.buckets.counts.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('keeps the counters monotonic across collections (delta temporality sees only the increase)', async () => {
    const { meter, collect } = otel(AggregationTemporality.DELTA);
    const metrics = createMetrics({ meter });
    const api = emitter(metrics.onEvent, 'retry', 'api', () => 1);
    api({ type: 'retry', attempt: 2, delayMs: 10 });
    api({ type: 'retry', attempt: 3, delayMs: 20 });
    const first = await collect();
    const labels = { [KIND]: 'retry', [NAME]: 'api', [TYPE]: 'retry' };
    expect(point(first.get('palisade.events'), labels)?.value).toBe(2);
    api({ type: 'retry', attempt: 2, delayMs: 10 });
    const second = await collect();
    expect(point(second.get('palisade.events'), labels)?.value).toBe(1);
  });
});
