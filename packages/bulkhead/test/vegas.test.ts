import { describe, expect, it } from 'vitest';
import type { LimitSettings } from '../src/limit-algorithm.js';
import { PROBE_SAMPLES } from '../src/rtt-limit.js';
import { vegas } from '../src/vegas.js';

const settings: LimitSettings = {
  initial: 20,
  min: 3,
  max: 200,
  backoffRatio: 0.9,
  tolerance: 2,
  probeIntervalMs: 3_600_000,
};

function measured(over: Partial<LimitSettings> = {}) {
  const a = vegas({ ...settings, ...over });
  for (let i = 0; i < PROBE_SAMPLES; i++) a.update(10, 1, false, 0);
  return a;
}

/** Feeds one window (25 calls or `limit` calls) with the given RTT and inflight; returns the limit. */
function window(a: ReturnType<typeof vegas>, rtt: number, inflight: number) {
  const size = Math.max(25, a.limit);
  for (let i = 0; i < size; i++) a.update(rtt, inflight, false, 1);
  return a.limit;
}

describe('vegas', () => {
  it('grows by log10(limit) when fewer than alpha calls queue and the limit is in use', () => {
    // queue = inflight × (1 − 10 / 11) ≈ 1.8 < 3·log10(20)
    expect(window(measured(), 11, 20)).toBe(21);
  });

  it('holds when the queue is between alpha and beta', () => {
    // queue = 20 × (1 − 10 / 15) ≈ 6.7, between 3.9 and 7.8
    expect(window(measured(), 15, 20)).toBe(20);
  });

  it('shrinks by log10(limit) when more than beta calls queue', () => {
    // queue = 20 × (1 − 10 / 40) = 15 > 7.8
    expect(window(measured(), 40, 20)).toBe(18);
  });

  it('counts the calls in flight, not the limit: an unused limit queues nothing and does not grow', () => {
    expect(window(measured(), 10, 5)).toBe(20);
  });

  it('settles with a few calls queued: about 4 + 3..6 for 4 workers of 10 ms', () => {
    const a = measured();
    for (let i = 0; i < 300; i++) {
      const l = a.limit;
      window(a, (10 * Math.max(4, l)) / 4, l);
    }
    expect(a.limit).toBeGreaterThanOrEqual(7);
    expect(a.limit).toBeLessThanOrEqual(12);
  });
});
