import { type Clock, type ResilienceEvent, systemClock } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { RETRY_BUDGET_DEFAULTS, constant, retry, retryBudget } from '../src/index.js';

/** Takes retries until the budget refuses; returns how many it gave. */
const drain = (budget: ReturnType<typeof retryBudget>): number => {
  let n = 0;
  while (budget.tryWithdraw()) n++;
  return n;
};

const deposit = (budget: ReturnType<typeof retryBudget>, n: number) => {
  for (let i = 0; i < n; i++) budget.deposit();
};

describe('retryBudget()', () => {
  it('has Finagle-like defaults', () => {
    expect(retryBudget()).toMatchObject(RETRY_BUDGET_DEFAULTS);
    expect(RETRY_BUDGET_DEFAULTS).toEqual({ ratio: 0.2, minPerSecond: 10, windowMs: 10_000 });
  });

  it('always allows minPerSecond × window retries, even with no traffic', () => {
    const budget = retryBudget({ clock: new FakeClock() });
    expect(budget.available).toBe(100);
    expect(drain(budget)).toBe(100);
    expect(budget.available).toBe(0);
    expect(retryBudget({ minPerSecond: 2, windowMs: '5s', clock: new FakeClock() }).available).toBe(10);
  });

  it.each([
    // [first attempts, failed attempts among them, retries given]: ratio 0.2, no floor. The
    // allowance is 2 × ratio × success share per first attempt; the retries taken here do not
    // fail, so they raise the success share as they are taken.
    [1_000, 0, 400], // all succeed: 2 × ratio
    [1_000, 200, 340], // 80% of first attempts succeed
    [1_000, 500, 238], // half fail: about Finagle's fixed ratio
    [1_000, 900, 60],
    [1_000, 1_000, 0], // full outage: nothing beyond the floor
  ])('with %d first attempts of which %d failed, gives %d retries', (first, failed, expected) => {
    const budget = retryBudget({ minPerSecond: 0, clock: new FakeClock() });
    deposit(budget, first);
    for (let i = 0; i < failed; i++) budget.recordFailure();
    const taken = drain(budget);
    expect(taken).toBe(expected);
    const share = 1 - failed / (first + taken);
    expect(taken).toBe(Math.floor(2 * 0.2 * first * share));
  });

  it('in a full outage allows only the floor, whatever the traffic', () => {
    const budget = retryBudget({ clock: new FakeClock() });
    let retries = 0;
    for (let i = 0; i < 10_000; i++) {
      budget.deposit();
      budget.recordFailure();
      if (budget.tryWithdraw()) {
        retries++;
        budget.recordFailure();
      }
    }
    expect(retries).toBe(100);
  });

  it('shuts within one bucket when an outage follows a healthy spell', async () => {
    const clock = new FakeClock();
    const budget = retryBudget({ minPerSecond: 0, clock });
    for (let ms = 0; ms < 9_000; ms++) {
      budget.deposit(); // 9 s of healthy traffic, 1 call/ms
      if (ms % 100 === 0) await clock.advance(100);
    }
    expect(budget.available).toBe(Math.floor(0.4 * 9_000));
    // Outage: every attempt fails, and every failure asks for a retry.
    let retries = 0;
    let calls = 0;
    for (let ms = 0; ms < 2_000; ms++) {
      calls++;
      budget.deposit();
      budget.recordFailure();
      if (budget.tryWithdraw()) {
        retries++;
        budget.recordFailure();
      }
      if (ms % 10 === 0) await clock.advance(10);
    }
    // Over the whole window the share is still ~0.8: a window-only share would allow ~1,600 more.
    expect(retries / calls).toBeLessThan(0.5);
    const late = budget.retries;
    for (let ms = 0; ms < 500; ms++) {
      budget.deposit();
      budget.recordFailure();
      if (budget.tryWithdraw()) budget.recordFailure();
      if (ms % 10 === 0) await clock.advance(10);
    }
    expect(budget.retries).toBe(late); // shut
  });

  it('forgets what left the window', async () => {
    const clock = new FakeClock();
    const budget = retryBudget({ minPerSecond: 0, clock });
    deposit(budget, 100);
    expect(budget.available).toBe(40);
    expect(budget.tryWithdraw()).toBe(true);
    await clock.advance(5_000);
    expect(budget.firstAttempts).toBe(100); // reading it tells the budget the time
    deposit(budget, 100);
    expect([budget.firstAttempts, budget.retries]).toEqual([200, 1]);
    await clock.advance(5_000); // the first bucket leaves
    expect([budget.firstAttempts, budget.retries]).toEqual([100, 0]);
    await clock.advance(5_000);
    expect([budget.firstAttempts, budget.retries, budget.failures, budget.available]).toEqual([0, 0, 0, 0]);
    await clock.advance(3_600_000); // a long idle gap
    expect(budget.firstAttempts).toBe(0);
  });

  it('counts a first attempt in the bucket of the last clock read (it lags by under 64 calls)', async () => {
    const clock = new FakeClock();
    const budget = retryBudget({ minPerSecond: 0, clock });
    deposit(budget, 10); // read the clock at t = 0
    await clock.advance(9_500);
    deposit(budget, 10); // counted at t = 0: under 64 calls since the last read
    await clock.advance(500);
    expect(budget.firstAttempts).toBe(0); // left with the t = 0 bucket: the lag only makes it stricter
  });

  it('keeps counting into the newest bucket when the clock steps back', async () => {
    let now = 50_000;
    const clock: Clock = { now: () => now, sleep: systemClock.sleep };
    const budget = retryBudget({ minPerSecond: 0, clock });
    deposit(budget, 10);
    now = 10_000;
    deposit(budget, 10);
    expect(budget.firstAttempts).toBe(20);
  });

  it('reads the clock at most once per 64 first attempts', () => {
    let reads = 0;
    const clock: Clock = {
      now: () => {
        reads++;
        return 0;
      },
      sleep: systemClock.sleep,
    };
    const budget = retryBudget({ clock });
    deposit(budget, 6_400);
    expect(reads).toBe(100);
  });

  it('a refused withdrawal counts nothing', () => {
    const budget = retryBudget({ minPerSecond: 0, ratio: 0, clock: new FakeClock() });
    deposit(budget, 10);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.retries).toBe(0);
  });

  it('is shared between policies: one policy spending it stops the other', async () => {
    const clock = new FakeClock();
    const budget = retryBudget({ minPerSecond: 0.1, windowMs: '10s', clock }); // one retry per window
    const events: ResilienceEvent[] = [];
    const a = retry({ clock, budget, backoff: constant({ ms: 1 }) });
    const b = retry({ clock, budget, backoff: constant({ ms: 1 }), onEvent: (e) => events.push(e) });
    expect(a.budget).toBe(budget);
    const failing = () => {
      throw new Error('down');
    };
    const pa = a.execute(failing).catch(() => {});
    await clock.advance(1);
    await pa;
    expect(budget.retries).toBe(1);
    await expect(b.execute(failing)).rejects.toThrow('down');
    expect(events.map((e) => e.type)).toEqual(['retry.budget-exhausted', 'failure']);
  });
});
