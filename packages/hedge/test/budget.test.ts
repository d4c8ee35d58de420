import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUDGET_RESERVE, HedgeBudget } from '../src/budget.js';

describe('HedgeBudget', () => {
  it('allows the reserve plus percent/100 hedges per call in the window', () => {
    const budget = new HedgeBudget(10);
    for (let i = 0; i < 100; i++) budget.recordCall(0);
    let allowed = 0;
    while (budget.tryHedge(0)) allowed++;
    expect(allowed).toBe(BUDGET_RESERVE + 10);
    expect(budget.hedges).toBe(BUDGET_RESERVE + 10);
    expect(budget.calls).toBe(100);
  });

  it('a refused hedge counts nothing', () => {
    const budget = new HedgeBudget(10);
    for (let i = 0; i < BUDGET_RESERVE; i++) expect(budget.tryHedge(0)).toBe(true);
    expect(budget.tryHedge(0)).toBe(false);
    expect(budget.hedges).toBe(BUDGET_RESERVE);
  });

  it('0 percent allows nothing, not even the reserve', () => {
    const budget = new HedgeBudget(0);
    for (let i = 0; i < 1_000; i++) budget.recordCall(0);
    expect(budget.tryHedge(0)).toBe(false);
  });

  it('100 percent is no budget: hedges beyond one per call, and across a window with no calls, are all allowed', () => {
    const budget = new HedgeBudget(100);
    budget.recordCall(9_900);
    // Two hedges of that call, then more once its bucket has left the window (a long call).
    for (const now of [9_950, 9_990, 20_000, 20_001, 20_002]) {
      for (let i = 0; i < BUDGET_RESERVE; i++) expect(budget.tryHedge(now)).toBe(true);
    }
  });

  it('slides: calls and hedges leave the window 10 s later, bucket by bucket', () => {
    const budget = new HedgeBudget(50);
    for (let i = 0; i < 100; i++) budget.recordCall(500); // bucket 0
    for (let i = 0; i < 10; i++) budget.tryHedge(500);
    for (let i = 0; i < 40; i++) budget.recordCall(4_500); // bucket 4
    budget.recordCall(9_999);
    expect([budget.calls, budget.hedges]).toEqual([141, 10]);
    budget.recordCall(10_000); // bucket 10 replaces bucket 0
    expect([budget.calls, budget.hedges]).toEqual([42, 0]);
    budget.recordCall(14_999); // bucket 14 replaces bucket 4
    expect([budget.calls, budget.hedges]).toEqual([3, 0]);
  });

  it('forgets everything after a long idle gap', () => {
    const budget = new HedgeBudget(10);
    for (let i = 0; i < 1_000; i++) budget.recordCall(0);
    budget.tryHedge(0);
    budget.recordCall(3_600_000);
    expect([budget.calls, budget.hedges]).toEqual([1, 0]);
  });

  it('counts a clock that steps back into the newest bucket', () => {
    const budget = new HedgeBudget(10);
    budget.recordCall(5_000);
    budget.recordCall(1_000);
    expect(budget.calls).toBe(2);
  });

  it('never lets hedges in the window exceed reserve + percent of calls, below 100 (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 99 }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 3_000 }), hedge: fc.boolean() }), { maxLength: 300 }),
        (percent, ops) => {
          const budget = new HedgeBudget(percent);
          const log: { t: number; hedge: boolean }[] = [];
          let t = 0;
          for (const op of ops) {
            t += op.dt;
            if (op.hedge) {
              if (budget.tryHedge(t)) log.push({ t, hedge: true });
            } else {
              budget.recordCall(t);
              log.push({ t, hedge: false });
            }
            // Reference: the entries of the buckets [floor(t/1000) - 9, floor(t/1000)].
            const from = (Math.floor(t / 1_000) - 9) * 1_000;
            const inWindow = log.filter((e) => e.t >= from);
            const calls = inWindow.filter((e) => !e.hedge).length;
            const hedges = inWindow.length - calls;
            expect([budget.calls, budget.hedges]).toEqual([calls, hedges]);
            expect(hedges).toBeLessThanOrEqual((calls * percent) / 100 + (percent > 0 ? BUDGET_RESERVE : 0));
          }
        },
      ),
    );
  });
});
