import { describe, expect, it } from 'vitest';
import { gradient } from '../src/gradient.js';
import type { LimitSettings } from '../src/limit-algorithm.js';
import { PROBE_SAMPLES } from '../src/rtt-limit.js';

const settings: LimitSettings = {
  initial: 20,
  min: 3,
  max: 200,
  backoffRatio: 0.9,
  tolerance: 2,
  probeIntervalMs: 3_600_000,
};

/** A gradient limit that has measured a no-load RTT of 10 ms. */
function measured(over: Partial<LimitSettings> = {}) {
  const a = gradient({ ...settings, ...over });
  for (let i = 0; i < PROBE_SAMPLES; i++) a.update(10, 1, false, 0);
  return a;
}

/** Feeds `windows` windows of calls with the given RTT and inflight. */
function feed(
  a: ReturnType<typeof gradient>,
  windows: number,
  rtt: (limit: number) => number,
  inflight = (l: number) => l,
) {
  for (let w = 0; w < windows; w++) {
    const limit = a.limit;
    for (let i = 0; i < Math.max(25, limit); i++) a.update(rtt(limit), inflight(limit), false, 1);
  }
  return a.limit;
}

describe('gradient', () => {
  it('grows while the recent RTT stays within tolerance × no-load RTT and the limit is in use', () => {
    const a = measured();
    expect(feed(a, 10, () => 15)).toBeGreaterThan(25);
  });

  it('does not grow while less than half of the limit is used', () => {
    const a = measured();
    expect(
      feed(
        a,
        20,
        () => 10,
        () => 5,
      ),
    ).toBe(20);
  });

  it('shrinks when the RTT passes tolerance × no-load RTT, at most by half (plus headroom) per window', () => {
    const a = measured({ initial: 100 });
    const next = feed(a, 1, () => 1_000);
    // target = 100 × 0.5 + √100 = 60; smoothed: 100 + (60 − 100) × 0.2 = 92
    expect(next).toBe(92);
    expect(feed(a, 50, () => 1_000)).toBeLessThan(10);
  });

  it('settles where queueing delay meets the tolerance: about 11 for 4 workers of 10 ms at tolerance 2', () => {
    // A saturated dependency with 4 workers: RTT = 10 ms × limit / 4 once the limit passes 4.
    const a = measured();
    const limit = feed(a, 300, (l) => (10 * Math.max(4, l)) / 4);
    expect(limit).toBeGreaterThanOrEqual(9);
    expect(limit).toBeLessThanOrEqual(13);
  });

  it('stays within [min, max]', () => {
    const low = measured({ min: 5 });
    expect(feed(low, 200, () => 10_000)).toBe(5);
    const high = measured({ max: 30 });
    expect(feed(high, 200, () => 10)).toBe(30);
  });
});
