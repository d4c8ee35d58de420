import { describe, expect, it } from 'vitest';
import { OVERFLOW_NAME, createMetrics, prometheusText } from '../src/index.js';
import { emitter } from './fixtures/events.js';

describe('cardinality caps', () => {
  it('tracks at most maxKeysPerPolicy keys per policy, the most recently seen, and counts evictions', () => {
    const metrics = createMetrics({ maxKeysPerPolicy: 10 });
    const api = emitter(metrics.onEvent, 'rate-limit', 'per-client', () => 1);
    for (let i = 0; i < 100_000; i++)
      api({ type: 'ratelimit.rejected', key: `client-${i}`, retryAfterMs: 1, limit: 1, remaining: 0 });
    api({ type: 'ratelimit.rejected', key: 'client-99995', retryAfterMs: 1, limit: 1, remaining: 0 });
    const [p] = metrics.snapshot().policies;
    expect(p?.trackedKeys).toBe(10);
    expect(p?.keys).toHaveLength(10);
    expect(p?.evictedKeys).toBe(99_990);
    expect(p?.counts['ratelimit.rejected']).toBe(100_001); // totals keep every event
    expect(p?.keys[0]?.key).toBe('client-99995'); // most recently seen first
    expect(p?.keys.find((k) => k.key === 'client-99995')?.rejected).toBe(2);
    expect(new Set(p?.keys.map((k) => k.key))).toEqual(
      new Set(Array.from({ length: 10 }, (_, i) => `client-${99_990 + i}`)),
    );
  });

  it('tracks no keys at all with maxKeysPerPolicy: 0', () => {
    const metrics = createMetrics({ maxKeysPerPolicy: 0 });
    const api = emitter(metrics.onEvent, 'retry', 'api', () => 1);
    for (let i = 0; i < 1_000; i++) api({ type: 'success', key: `k${i}` });
    const [p] = metrics.snapshot().policies;
    expect(p).toMatchObject({ trackedKeys: 0, evictedKeys: 0, keys: [], calls: 1_000 });
  });

  it('collects policies beyond maxPolicies into one "(overflow)" policy per kind', () => {
    const metrics = createMetrics({ maxPolicies: 3 });
    for (let i = 0; i < 1_000; i++) {
      emitter(metrics.onEvent, 'circuit-breaker', `host-${i}`, () => 1)({ type: 'success', durationMs: 1 });
      emitter(metrics.onEvent, 'retry', `route-${i}`, () => 1)({ type: 'retry', attempt: 2, delayMs: 1 });
    }
    const names = metrics.snapshot().policies.map((p) => `${p.policy}/${p.name}`);
    expect(names).toEqual([
      'circuit-breaker/host-0',
      'retry/route-0',
      'circuit-breaker/host-1',
      `retry/${OVERFLOW_NAME}`,
      `circuit-breaker/${OVERFLOW_NAME}`,
    ]);
    const overflow = metrics.snapshot().policies.find((p) => p.name === OVERFLOW_NAME && p.policy === 'retry');
    expect(overflow?.counts.retry).toBe(999);
  });

  it('bounds the Prometheus series count, per-key series included', () => {
    const metrics = createMetrics({ maxKeysPerPolicy: 5, maxPolicies: 4 });
    for (let i = 0; i < 50; i++) {
      const policy = emitter(metrics.onEvent, 'bulkhead', `pool-${i}`, () => 1);
      for (let k = 0; k < 500; k++) policy({ type: 'bulkhead.rejected', key: `tenant-${k}`, reason: 'full' });
    }
    const series = prometheusText({ metrics, keys: true })
      .split('\n')
      .filter((line) => line.startsWith('palisade_key_events_total{'));
    // 4 named policies + 1 overflow, 5 keys each, one event type seen.
    expect(series).toHaveLength(5 * 5);
  });
});
