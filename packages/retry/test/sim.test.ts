// Bounds on the seeded simulations of sim/retry.ts (`npm run sim:retry` prints the full tables).
// They run on FakeClock, so they are deterministic; they only take a few CPU seconds.
import { describe, expect, it } from 'vitest';
import { simulateContention } from '../../../sim/retry-contention.js';
import { simulateLoad } from '../../../sim/retry.js';

const SLOW = 180_000;

describe('load simulation (1,000 requests/s, each attempt failing with probability f)', () => {
  it(
    'palisade defaults reach ≥ 97% success at f = 20% (Finagle 97%, SRE 89%)',
    async () => {
      const row = await simulateLoad({ strategy: 'palisade', failurePercent: 20 });
      expect(row.successPercent).toBeGreaterThanOrEqual(97);
    },
    SLOW,
  );

  it(
    'palisade defaults hold ≤ 1.11x load in a full outage (Finagle 1.21x, SRE 1.11x), never above 1.25x',
    async () => {
      const row = await simulateLoad({ strategy: 'palisade', failurePercent: 100 });
      expect(row.load).toBeLessThanOrEqual(1.25);
      expect(row.load).toBeLessThanOrEqual(1.11);
    },
    SLOW,
  );

  it(
    'the model reproduces the published reference points of the fixed budgets',
    async () => {
      const finagle = await simulateLoad({ strategy: 'finagle', failurePercent: 20 });
      expect(finagle.successPercent).toBeGreaterThan(96);
      expect(finagle.successPercent).toBeLessThan(98);
      const sre = await simulateLoad({ strategy: 'sre', failurePercent: 20 });
      expect(sre.successPercent).toBeGreaterThan(88);
      expect(sre.successPercent).toBeLessThan(90);
      expect(sre.load).toBeCloseTo(1.11, 2);
    },
    SLOW,
  );
});

describe('contention model (100 clients, one optimistic-concurrency row)', () => {
  it(
    'no jitter is far worst; full and decorrelated jitter are best',
    async () => {
      const [none, equal, full, decorrelated] = await Promise.all(
        (['none', 'equal', 'full', 'decorrelated'] as const).map((jitter) => simulateContention({ jitter })),
      );
      if (!none || !equal || !full || !decorrelated) throw new Error('missing rows');
      const best = Math.max(full.calls, decorrelated.calls);
      expect(none.calls).toBeGreaterThan(2 * best);
      expect(equal.calls).toBeGreaterThan(best);
      expect(none.calls).toBeGreaterThan(equal.calls);
      const bestTime = Math.max(full.completionMs, decorrelated.completionMs);
      expect(none.completionMs).toBeGreaterThan(2 * bestTime);
      expect(equal.completionMs).toBeGreaterThan(bestTime);
    },
    SLOW,
  );
});
