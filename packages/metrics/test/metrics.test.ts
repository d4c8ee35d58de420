import { BrokenCircuitError, pipeline } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { timeout } from '@palisade/timeout';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, createMetrics } from '../src/index.js';
import { typeIndex } from '../src/series.js';
import { emitter } from './fixtures/events.js';

const T0 = 1_700_000_000_000;

describe('createMetrics: aggregation', () => {
  it('counts every event type per policy and per key, and derives calls, rejections and error rate', () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock });
    const api = emitter(metrics.onEvent, 'retry', 'api', () => clock.now());
    api({ type: 'success', key: 'a', durationMs: 10 });
    api({ type: 'success', key: 'b', durationMs: 20 });
    api({ type: 'failure', key: 'a', durationMs: 30, error: new Error('x') });
    api({ type: 'retry', key: 'a', attempt: 2, delayMs: 100 });
    api({ type: 'retry.budget-exhausted', attempt: 3 });
    const db = emitter(metrics.onEvent, 'bulkhead', 'db', () => clock.now());
    db({ type: 'bulkhead.rejected', reason: 'full' });
    // What a bulkhead emits: one event per waiter that arrives or leaves, with the depth after.
    for (const queued of [1, 2, 3]) db({ type: 'bulkhead.queued', queued });
    db({ type: 'bulkhead.dequeued', queued: 2, reason: 'admitted' });
    db({ type: 'bulkhead.dequeued', queued: 1, reason: 'aborted' });
    db({ type: 'limit.changed', limit: 12, previous: 10 });

    const { policies, time } = metrics.snapshot();
    expect(time).toBe(T0);
    expect(policies.map((p) => `${p.policy}/${p.name}`)).toEqual(['retry/api', 'bulkhead/db']);
    const [retry, bulkhead] = policies;
    expect(retry?.counts).toMatchObject({ success: 2, failure: 1, retry: 1, 'retry.budget-exhausted': 1 });
    expect(Object.keys(retry?.counts ?? {})).toEqual([...EVENT_TYPES]);
    expect(retry?.calls).toBe(3);
    expect(retry?.errorRate).toBeCloseTo(1 / 3);
    expect(retry?.latency).toMatchObject({ count: 3, sum: 60, min: 10, max: 30 });
    const keys = Object.fromEntries(retry?.keys.map((k) => [k.key, k]) ?? []);
    expect(keys.a?.counts).toMatchObject({ success: 1, failure: 1, retry: 1 });
    expect(keys.a?.latency.count).toBe(2);
    expect(keys.b?.calls).toBe(1);
    expect(retry?.trackedKeys).toBe(2);
    expect(retry?.circuit).toBeUndefined();

    expect(bulkhead?.rejected).toBe(1);
    expect(bulkhead?.errorRate).toBeUndefined();
    expect(bulkhead?.bulkhead).toEqual({ queued: 1, maxQueued: 3, watched: false });
    expect(bulkhead?.limit).toBe(12);
  });

  it('follows breaker states and keeps their history, newest first and bounded', async () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock, maxTransitions: 3 });
    const cb = emitter(metrics.onEvent, 'circuit-breaker', 'payments', () => clock.now());
    cb({ type: 'success', durationMs: 1 });
    expect(metrics.snapshot().policies[0]?.circuit).toEqual({ state: 'closed', since: T0, transitions: [] });

    await clock.advanceTo(T0 + 1_000);
    cb({ type: 'circuit.open', key: 'host-a', failureRate: 0.75, slowCallRate: 0.1, openMs: 5_000 });
    cb({ type: 'circuit.rejected', state: 'open', retryAfterMs: 4_000 });
    await clock.advanceTo(T0 + 6_000);
    cb({ type: 'circuit.half-open' });
    await clock.advanceTo(T0 + 6_500);
    cb({ type: 'circuit.close' });
    await clock.advanceTo(T0 + 9_000);
    cb({ type: 'circuit.isolated' });

    const circuit = metrics.snapshot().policies[0]?.circuit;
    expect(circuit?.state).toBe('isolated');
    expect(circuit?.since).toBe(T0 + 9_000);
    expect(circuit?.transitions.map((t) => t.state)).toEqual(['isolated', 'closed', 'half-open']);
    expect(metrics.snapshot().policies[0]?.rejected).toBe(1);

    const again = createMetrics({ clock });
    const cb2 = emitter(again.onEvent, 'circuit-breaker', 'payments', () => clock.now());
    cb2({ type: 'circuit.open', key: 'host-a', failureRate: 0.75, slowCallRate: 0.1, openMs: 5_000 });
    expect(again.snapshot().policies[0]?.circuit?.transitions[0]).toEqual({
      time: clock.now(),
      state: 'open',
      key: 'host-a',
      failureRate: 0.75,
      slowCallRate: 0.1,
      openMs: 5_000,
    });
  });

  it('reports rates and percentiles over the recent window from the timeline', async () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock, recentMs: 10_000 });
    const api = emitter(metrics.onEvent, 'timeout', 'api', () => clock.now());
    // 30 s of traffic: 10 calls per second, 1 failure per second; latency 5 ms then 500 ms.
    for (let s = 0; s < 30; s++) {
      for (let i = 0; i < 10; i++) {
        if (i === 0) api({ type: 'failure', durationMs: s < 20 ? 5 : 500, error: 'x' });
        else api({ type: 'success', durationMs: s < 20 ? 5 : 500 });
      }
      api({ type: 'retry', attempt: 2, delayMs: 1 });
      await clock.advance(1_000);
    }
    const recent = metrics.snapshot().policies[0]?.recent;
    // The window ends now (the empty current slot) and reaches back 10 slots: 9 full seconds.
    expect(recent?.windowMs).toBe(10_000);
    expect(recent?.perSecond.success).toBeCloseTo((9 * 9) / 10);
    expect(recent?.perSecond.failure).toBeCloseTo(9 / 10);
    expect(recent?.perSecond.retry).toBeCloseTo(9 / 10);
    expect(recent?.errorRate).toBeCloseTo(0.1);
    expect(recent?.p50).toBeGreaterThan(200);
    expect(recent?.p50).toBeLessThanOrEqual(500);
    // Lifetime percentiles still see the fast first 20 s.
    const lifetime = metrics.snapshot().policies[0]?.latency;
    expect(lifetime?.p50).toBeLessThanOrEqual(5);
    expect(lifetime?.p99).toBeGreaterThan(200);

    await clock.advance(60_000);
    const idle = metrics.snapshot().policies[0]?.recent;
    expect(idle?.perSecond.success).toBe(0);
    expect(idle?.p99).toBeUndefined();
    expect(idle?.errorRate).toBeUndefined();
  });

  it('takes snapshots without keys when asked, and reset() forgets everything', () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock });
    const api = emitter(metrics.onEvent, 'retry', 'api', () => clock.now());
    api({ type: 'success', key: 'k', durationMs: 1 });
    api({ type: 'success', key: 'k', durationMs: 2 });
    api({ type: 'success', key: 'j', durationMs: 3 });
    api({ type: 'failure', key: 'k', durationMs: 4, error: 'x' });
    expect(metrics.snapshot().policies[0]?.keys.map((k) => [k.key, k.calls])).toEqual([
      ['k', 3],
      ['j', 1],
    ]);
    const noKeys = metrics.snapshot({ keys: false }).policies[0];
    expect(noKeys?.keys).toEqual([]);
    expect(noKeys?.trackedKeys).toBe(2);
    metrics.reset();
    expect(metrics.snapshot().policies).toEqual([]);
    api({ type: 'failure', durationMs: 1, error: 'x' });
    expect(metrics.snapshot().policies[0]?.counts.failure).toBe(1);
    expect(metrics.snapshot().policies[0]?.counts.success).toBe(0);
  });

  it('indexes every event type of the union, the fast path agreeing with the table', () => {
    for (const [i, type] of EVENT_TYPES.entries()) expect(typeIndex(type)).toBe(i);
    expect(typeIndex('nope')).toBeUndefined();
  });

  it('attributes every event to its own policy however many policies take turns', () => {
    const metrics = createMetrics();
    // More policies than the sink's recent-policies cache holds, one name shared by two kinds, and
    // a name that equals another policy's only by content (built at run time, another string).
    const policies = [
      emitter(metrics.onEvent, 'retry', 'api', () => T0),
      emitter(metrics.onEvent, 'circuit-breaker', 'api', () => T0),
      emitter(metrics.onEvent, 'timeout', 'db', () => T0),
      emitter(metrics.onEvent, 'retry', 'db', () => T0),
      emitter(metrics.onEvent, 'bulkhead', 'pool', () => T0),
      emitter(metrics.onEvent, 'hedge', 'search', () => T0),
      emitter(metrics.onEvent, 'retry', ['a', 'p', 'i'].join(''), () => T0),
    ];
    for (let round = 1; round <= 3; round++) {
      for (const [i, emit] of policies.entries()) {
        for (let n = 0; n < i + 1; n++) emit({ type: 'success', durationMs: round });
      }
      for (const emit of policies) emit({ type: 'failure', durationMs: 0, error: undefined });
      for (const emit of [...policies].reverse()) emit({ type: 'success', durationMs: 1 });
    }
    const counts = metrics
      .snapshot()
      .policies.map((p) => `${p.policy}/${p.name} ${p.counts.success} ${p.counts.failure}`);
    expect(counts).toEqual([
      'retry/api 30 6', // 3 × (1 + 1) successes, and 3 × (7 + 1) with the content-equal name
      'circuit-breaker/api 9 3',
      'timeout/db 12 3',
      'retry/db 15 3',
      'bulkhead/pool 18 3',
      'hedge/search 21 3',
    ]);
  });

  it('ignores event types it does not know and durations that are not finite, non-negative numbers', () => {
    const metrics = createMetrics();
    metrics.onEvent({ policy: 'x', name: 'x', time: 1, type: 'something.new' } as never);
    metrics.onEvent({ policy: 'x', name: 'x', time: 1, type: 'success' });
    metrics.onEvent({ policy: 'x', name: 'x', time: 1, type: 'success', durationMs: Number.NaN });
    metrics.onEvent({ policy: 'x', name: 'x', time: 1, type: 'success', durationMs: -1 });
    metrics.onEvent({ policy: 'x', name: 'x', time: 1, type: 'success', durationMs: Number.POSITIVE_INFINITY });
    metrics.onEvent({ policy: 'x', name: 'x', time: 1, type: 'success', durationMs: 12 });
    const [x] = metrics.snapshot().policies;
    expect(x?.calls).toBe(5);
    // An infinite duration would have made the sum and the maximum Infinity for good.
    expect(x?.latency).toMatchObject({ count: 1, sum: 12, max: 12 });
  });

  it('aggregates the events of real policies: a timeout and a circuit breaker in a pipeline', async () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock });
    const breaker = circuitBreaker({
      name: 'inventory',
      clock,
      onEvent: metrics.onEvent,
      minimumCalls: 4,
      failureRateThreshold: 0.5,
      openMs: 10_000,
    });
    const policy = pipeline(timeout({ name: 'inventory-timeout', ms: 50, clock, onEvent: metrics.onEvent }), breaker);
    const ok = await policy.execute(() => 'ok', { key: 'sku-1' });
    expect(ok).toBe('ok');
    const hang = policy.execute(
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    const hung = expect(hang).rejects.toThrow('timed out');
    await clock.advance(50);
    await hung;
    for (let i = 0; i < 3; i++)
      await expect(policy.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(policy.execute(() => 'never')).rejects.toBeInstanceOf(BrokenCircuitError);

    const byName = Object.fromEntries(metrics.snapshot().policies.map((p) => [p.name, p]));
    expect(byName['inventory-timeout']?.counts.timeout).toBe(1);
    expect(byName.inventory?.circuit?.state).toBe('open');
    expect(byName.inventory?.counts['circuit.rejected']).toBe(1);
    expect(byName.inventory?.counts.success).toBe(1);
    // The timed-out attempt was aborted: the breaker counts it as neither success nor failure.
    expect(byName.inventory?.counts.failure).toBe(3);
    expect(byName.inventory?.keys.map((k) => k.key)).toEqual(['sku-1']);
    expect(byName.inventory?.circuit?.transitions[0]).toMatchObject({ state: 'open', failureRate: 0.75 });
  });
});
