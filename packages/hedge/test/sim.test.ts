// Asserts the bounds of the seeded simulation printed by `npm run sim:hedge` (same seed, same
// sizes, so the same numbers). It runs 1.2M simulated calls through the real policy on FakeClock:
// ~25 s of CPU, hence the long timeout (a loaded machine stretches it, never the results).
import { describe, expect, it } from 'vitest';
import { LOAD_STEPS, type SimRow, overloadRun, tailRun } from '../../../sim/hedge.js';

const SLOW = 600_000;

const find = (rows: SimRow[], config: string, load?: number): SimRow => {
  const row = rows.find((r) => r.config === config && r.loadPercent === load);
  if (!row) throw new Error(`no row ${config} ${load}`);
  return row;
};

describe('simulation: tail at scale (200k calls)', () => {
  it(
    'the adaptive delay cuts p99.9 at least 24x for at most 2% extra calls',
    async () => {
      const rows = await tailRun();
      const plain = find(rows, 'no hedge');
      const p98 = find(rows, 'adaptive p98');
      const p95 = find(rows, 'adaptive p95');
      expect(plain.calls).toBe(200_000);
      expect(plain.p999).toBeGreaterThan(1_500); // the stalls own the 99.9th percentile
      expect(plain.p999 / p98.p999).toBeGreaterThanOrEqual(24);
      expect(p98.extraPercent).toBeLessThanOrEqual(2);
      expect(plain.p999 / p95.p999).toBeGreaterThanOrEqual(24);
      expect(p95.extraPercent).toBeLessThanOrEqual(5);
      for (const row of [p95, p98]) {
        expect(row.p50).toBeLessThanOrEqual(plain.p50);
        expect(row.p99).toBeLessThanOrEqual(plain.p99);
        expect(row.refusedPercent).toBe(0); // the budget never binds at these rates
      }
    },
    SLOW,
  );
});

describe('simulation: overload (load rising from 60% to 95%)', () => {
  it(
    'servers that stop abandoned work: budgeted hedging never raises p50 or p99',
    async () => {
      const rows = await overloadRun('stop');
      for (const load of LOAD_STEPS) {
        const plain = find(rows, 'no hedge', load);
        for (const config of ['adaptive p95, budget 10%', 'fixed 15 ms, budget 10%']) {
          const row = find(rows, config, load);
          expect(row.p50, `${config} at ${load}%`).toBeLessThanOrEqual(plain.p50);
          expect(row.p99, `${config} at ${load}%`).toBeLessThanOrEqual(plain.p99);
        }
      }
    },
    SLOW,
  );

  it(
    'servers that finish abandoned work: without the budget a fixed delay doubles the load and p50/p99 climb; the budget caps it',
    async () => {
      const rows = await overloadRun('finish');
      for (const load of LOAD_STEPS) {
        const plain = find(rows, 'no hedge', load);
        const capped = find(rows, 'fixed 15 ms, budget 10%', load);
        const uncapped = find(rows, 'fixed 15 ms, no budget', load);
        // The budget holds hedges near 10% of calls (plus its small reserve) at every load ...
        expect(capped.extraPercent, `at ${load}%`).toBeLessThan(10.5);
        // ... and with it p99 stays under the no-hedge run's.
        expect(capped.p99, `at ${load}%`).toBeLessThanOrEqual(plain.p99);
        if (load >= 90) {
          // Without it nearly every call is hedged and the queues run away.
          expect(uncapped.extraPercent, `at ${load}%`).toBeGreaterThan(95);
          expect(uncapped.p50, `at ${load}%`).toBeGreaterThan(2 * plain.p50);
          expect(capped.p50, `at ${load}%`).toBeLessThan(plain.p50);
          expect(capped.p50, `at ${load}%`).toBeLessThan(uncapped.p50 / 3);
        }
      }
      // Near saturation the budget also stops the runaway of an adaptive delay that lags a
      // growing queue.
      const adaptive = find(rows, 'adaptive p95, budget 10%', 95);
      const adaptiveUncapped = find(rows, 'adaptive p95, no budget', 95);
      expect(adaptiveUncapped.extraPercent).toBeGreaterThan(20);
      expect(adaptive.extraPercent).toBeLessThan(10.5);
      expect(adaptive.p50).toBeLessThan(adaptiveUncapped.p50);
      // With an adaptive delay the budget also stops hedging into a queue: near saturation the
      // budgeted run sends next to no hedges and stays within 5% of the no-hedge p50, where the
      // unbudgeted one climbs far above it.
      for (const load of [90, 95]) {
        const plain = find(rows, 'no hedge', load);
        const budgeted = find(rows, 'adaptive p95, budget 10%', load);
        const unbudgeted = find(rows, 'adaptive p95, no budget', load);
        expect(budgeted.extraPercent, `at ${load}%`).toBeLessThan(5);
        expect(budgeted.p50, `at ${load}%`).toBeLessThanOrEqual(plain.p50 * 1.05);
        expect(unbudgeted.p50, `at ${load}%`).toBeGreaterThan(plain.p50 * 1.2);
      }
    },
    SLOW,
  );

  it(
    'stalls in the network (no worker freed by a cancel): the budget stops a fixed delay from doubling the load, and its queueing check the adaptive delay once the median doubles',
    async () => {
      const rows = await overloadRun('stop', { stalls: 'network' });
      for (const load of LOAD_STEPS) {
        const plain = find(rows, 'no hedge', load);
        const adaptive = find(rows, 'adaptive p95, budget 10%', load);
        const capped = find(rows, 'fixed 15 ms, budget 10%', load);
        const uncapped = find(rows, 'fixed 15 ms, no budget', load);
        expect(plain.p999, `at ${load}%`).toBeGreaterThan(1_500); // the stalls still own the tail
        expect(adaptive.p99, `at ${load}%`).toBeLessThanOrEqual(plain.p99);
        expect(adaptive.extraPercent, `at ${load}%`).toBeLessThan(10.5);
        // Here every hedge that starts work is extra load: near saturation p50 does rise a little.
        expect(adaptive.p50, `at ${load}%`).toBeLessThanOrEqual(plain.p50 * 1.1);
        if (load < 95) {
          // The median is under twice what it was at 60% load: the adaptive delay cuts the tail.
          expect(adaptive.p999, `at ${load}%`).toBeLessThan(plain.p999 / 10);
        } else {
          // At 95% it doubles (21.8 ms against 10.8): from then on the budget takes that for
          // queueing and sends no hedge, so p50 stays within 5% of the unhedged run, under the
          // unbudgeted one's, and the stalls own the tail again.
          const unbudgeted = find(rows, 'adaptive p95, no budget', load);
          expect(adaptive.refusedPercent, `at ${load}%`).toBeGreaterThan(0);
          expect(adaptive.p50, `at ${load}%`).toBeLessThanOrEqual(plain.p50 * 1.05);
          expect(adaptive.p50, `at ${load}%`).toBeLessThan(unbudgeted.p50);
          expect(unbudgeted.p999, `at ${load}%`).toBeLessThan(plain.p999 / 10);
        }
        expect(capped.extraPercent, `at ${load}%`).toBeLessThan(10.5);
        if (load >= 90) {
          expect(uncapped.extraPercent, `at ${load}%`).toBeGreaterThan(95);
          expect(uncapped.p50, `at ${load}%`).toBeGreaterThan(5 * plain.p50);
          expect(uncapped.p50, `at ${load}%`).toBeGreaterThan(5 * capped.p50);
        }
      }
    },
    SLOW,
  );
});
