import { BrokenCircuitError, type Context, type ResilienceEvent } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hedge } from '../src/index.js';

interface Attempt {
  attempt: number;
  startedAt: number;
  ctx: Context;
}

/**
 * A replica per attempt: `plan[attempt - 1]` says how long that attempt takes and whether it
 * succeeds. Attempts honour their signal (reject with its reason) unless `ignoreSignal`.
 */
function replicas(
  clock: FakeClock,
  plan: { ms: number; ok?: boolean; value?: string; ignoreSignal?: boolean }[],
): { fn: (ctx: Context) => Promise<string>; attempts: Attempt[] } {
  const attempts: Attempt[] = [];
  const fn = async (ctx: Context): Promise<string> => {
    attempts.push({ attempt: ctx.attempt, startedAt: clock.now(), ctx });
    const step = plan[ctx.attempt - 1] ?? { ms: Number.POSITIVE_INFINITY };
    if (step.ignoreSignal) await clock.sleep(step.ms);
    else if (Number.isFinite(step.ms)) await clock.sleep(step.ms, ctx.signal);
    else await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    if (step.ok === false) throw new Error(`attempt ${ctx.attempt} failed`);
    return step.value ?? `attempt ${ctx.attempt}`;
  };
  return { fn, attempts };
}

const collect = () => {
  const events: ResilienceEvent[] = [];
  return { events, onEvent: (e: ResilienceEvent) => events.push(e) };
};

const strip = (events: ResilienceEvent[]) => events.map(({ policy, name, time, ...rest }) => rest);

describe('hedge() with a fixed delay', () => {
  it('does not hedge a call that answers before the delay, and leaves no timer of its own', async () => {
    const clock = new FakeClock();
    const { events, onEvent } = collect();
    const { fn, attempts } = replicas(clock, [{ ms: 40 }]);
    const p = hedge({ delayMs: 100, clock, onEvent }).execute(fn);
    await clock.advance(40);
    await expect(p).resolves.toBe('attempt 1');
    expect(attempts).toHaveLength(1);
    expect(events).toEqual([]);
    await clock.advance(100); // only the shared, unref'd queue timer was armed; it goes idle
    expect(clock.pending).toBe(0);
    expect(attempts).toHaveLength(1);
  });

  it('starts each hedge one delay after the previous one, up to maxHedges', async () => {
    const clock = new FakeClock();
    const { events, onEvent } = collect();
    const { fn, attempts } = replicas(clock, [
      { ms: 1_000 },
      { ms: 1_000 },
      { ms: 150, value: 'third' },
      { ms: 1_000 },
    ]);
    const p = hedge({ delayMs: 100, maxHedges: 3, clock, onEvent }).execute(fn, { key: 'k' });
    await clock.advance(99);
    expect(attempts).toHaveLength(1);
    await clock.advance(1);
    expect(attempts.map((a) => [a.attempt, a.startedAt])).toEqual([
      [1, 0],
      [2, 100],
    ]);
    await clock.advance(250);
    expect(attempts.map((a) => [a.attempt, a.startedAt])).toEqual([
      [1, 0],
      [2, 100],
      [3, 200],
      [4, 300],
    ]);
    await expect(p).resolves.toBe('third');
    expect(strip(events)).toEqual([
      { type: 'hedge.sent', key: 'k', attempt: 2, afterMs: 100 },
      { type: 'hedge.sent', key: 'k', attempt: 3, afterMs: 200 },
      { type: 'hedge.sent', key: 'k', attempt: 4, afterMs: 300 },
      { type: 'hedge.won', key: 'k', attempt: 3 },
    ]);
    expect(events.map((e) => e.time)).toEqual([100, 200, 300, 350]);
  });

  it('never starts more than 1 + maxHedges attempts', async () => {
    const clock = new FakeClock();
    const { fn, attempts } = replicas(clock, [{ ms: 1_000 }, { ms: 1_000 }]);
    const p = hedge({ delayMs: 10, clock }).execute(fn);
    await clock.advance(1_000);
    await expect(p).resolves.toBe('attempt 1');
    expect(attempts).toHaveLength(2);
  });

  it('aborts the losers at once with an AbortError naming the winner, and ignores their late results', async () => {
    const clock = new FakeClock();
    const { fn, attempts } = replicas(clock, [{ ms: 500, value: 'late primary', ignoreSignal: true }, { ms: 50 }]);
    const p = hedge({ delayMs: 100, clock }).execute(fn);
    await clock.advance(150);
    await expect(p).resolves.toBe('attempt 2');
    const loser = attempts[0]?.ctx.signal as AbortSignal;
    expect(loser.aborted).toBe(true);
    expect(loser.reason).toBeInstanceOf(DOMException);
    expect((loser.reason as DOMException).name).toBe('AbortError');
    expect((loser.reason as DOMException).message).toMatch(/won by attempt 2/);
    expect(attempts[1]?.ctx.signal.aborted).toBe(false); // the winner's signal is left alone
    await clock.advance(1_000); // the loser resolves later: nothing happens
    await expect(p).resolves.toBe('attempt 2');
    expect(clock.pending).toBe(0);
  });

  it('a loser that fails late is ignored (no unhandled rejection)', async () => {
    const clock = new FakeClock();
    const { fn } = replicas(clock, [{ ms: 300, ok: false, ignoreSignal: true }, { ms: 10 }]);
    const p = hedge({ delayMs: 100, clock }).execute(fn);
    await clock.advance(400);
    await expect(p).resolves.toBe('attempt 2');
  });

  it('a failure starts the next hedge at once', async () => {
    const clock = new FakeClock();
    const { events, onEvent } = collect();
    const { fn, attempts } = replicas(clock, [{ ms: 30, ok: false }, { ms: 20 }]);
    const p = hedge({ delayMs: 100, clock, onEvent }).execute(fn);
    await clock.advance(50);
    await expect(p).resolves.toBe('attempt 2');
    expect(attempts.map((a) => a.startedAt)).toEqual([0, 30]);
    expect(strip(events)).toEqual([
      { type: 'hedge.sent', attempt: 2, afterMs: 30 },
      { type: 'hedge.won', attempt: 2 },
    ]);
  });

  it('a failure does not end the race while another attempt is in flight', async () => {
    const clock = new FakeClock();
    const { fn } = replicas(clock, [{ ms: 300 }, { ms: 20, ok: false }]);
    const p = hedge({ delayMs: 100, clock }).execute(fn);
    await clock.advance(300);
    await expect(p).resolves.toBe('attempt 1');
  });

  it('after a failure, the following hedge waits a full delay from it', async () => {
    const clock = new FakeClock();
    const { fn, attempts } = replicas(clock, [{ ms: 30, ok: false }, { ms: 1_000 }, { ms: 10 }]);
    const p = hedge({ delayMs: 100, maxHedges: 2, clock }).execute(fn);
    await clock.advance(200);
    await expect(p).resolves.toBe('attempt 3');
    expect(attempts.map((a) => a.startedAt)).toEqual([0, 30, 130]);
  });

  it('when every attempt fails, the last error is thrown', async () => {
    const clock = new FakeClock();
    const { fn } = replicas(clock, [
      { ms: 250, ok: false },
      { ms: 80, ok: false },
    ]);
    const p = hedge({ delayMs: 100, clock }).execute(fn);
    const settled = p.catch((e: unknown) => e);
    await clock.advance(250);
    expect(await settled).toEqual(new Error('attempt 1 failed')); // attempt 2 failed first, at 180

    const second = replicas(clock, [
      { ms: 10, ok: false },
      { ms: 10, ok: false },
      { ms: 10, ok: false },
    ]);
    const q = hedge({ delayMs: 100, maxHedges: 2, clock }).execute(second.fn);
    const settled2 = q.catch((e: unknown) => e);
    await clock.advance(30);
    expect(await settled2).toEqual(new Error('attempt 3 failed'));
    expect(second.attempts.map((a) => a.startedAt)).toEqual([clock.now() - 30, clock.now() - 20, clock.now() - 10]);
  });

  it('a rejection by an inner policy stops hedging and is thrown when nothing else runs', async () => {
    const clock = new FakeClock();
    const rejection = new BrokenCircuitError('open', { retryAfterMs: 1_000 });
    let calls = 0;
    const p = hedge({ delayMs: 100, clock }).execute(() => {
      calls++;
      throw rejection;
    });
    await expect(p).rejects.toBe(rejection);
    await clock.advance(200);
    expect(calls).toBe(1);
  });

  it('turns synchronous values and throws of fn into the outcome', async () => {
    const clock = new FakeClock();
    const h = hedge({ delayMs: 100, clock });
    await expect(h.execute(() => 7)).resolves.toBe(7);
    let n = 0;
    const p = h.execute(() => {
      n++;
      if (n === 1) throw new Error('sync');
      return 'second';
    });
    await expect(p).resolves.toBe('second');
  });

  it('passes key and deadline on to every attempt, with its own attempt number', async () => {
    const clock = new FakeClock();
    const { fn, attempts } = replicas(clock, [{ ms: 500 }, { ms: 10 }]);
    const p = hedge({ delayMs: 100, clock }).execute(fn, { key: 'users', deadline: 10_000 });
    await clock.advance(110);
    await p;
    expect(attempts.map(({ ctx }) => [ctx.attempt, ctx.key, ctx.deadline])).toEqual([
      [1, 'users', 10_000],
      [2, 'users', 10_000],
    ]);
  });

  it('does not hedge past the deadline', async () => {
    const clock = new FakeClock();
    const { fn, attempts } = replicas(clock, [{ ms: 300 }]);
    const p = hedge({ delayMs: 100, clock }).execute(fn, { deadline: 50 });
    await clock.advance(300);
    await expect(p).resolves.toBe('attempt 1');
    expect(attempts).toHaveLength(1);
  });
});

describe('shouldHedge', () => {
  it('runs a refused call once, plainly, outside the budget', async () => {
    const clock = new FakeClock();
    const seen: (string | undefined)[] = [];
    const h = hedge({
      delayMs: 100,
      clock,
      shouldHedge: ({ context }) => {
        seen.push(context.key);
        return context.key?.startsWith('GET ') === true;
      },
    });
    const post = replicas(clock, [{ ms: 300 }]);
    const get = replicas(clock, [{ ms: 300 }, { ms: 10 }]);
    const p1 = h.execute(post.fn, { key: 'POST /orders' });
    const p2 = h.execute(get.fn, { key: 'GET /orders' });
    await clock.advance(300);
    await expect(p1).resolves.toBe('attempt 1');
    await expect(p2).resolves.toBe('attempt 2');
    expect(post.attempts).toHaveLength(1);
    expect(get.attempts).toHaveLength(2);
    expect(seen).toEqual(['POST /orders', 'GET /orders']);
  });
});

describe('shouldHedge errors', () => {
  it('a throwing shouldHedge rejects the call without running fn', async () => {
    let called = false;
    const p = hedge({
      clock: new FakeClock(),
      shouldHedge: () => {
        throw new Error('bad predicate');
      },
    }).execute(() => {
      called = true;
    });
    await expect(p).rejects.toThrow('bad predicate');
    expect(called).toBe(false);
  });
});

describe('budget', () => {
  it('past budgetPercent of calls (plus the reserve), sends no hedge and says so', async () => {
    const clock = new FakeClock();
    const { events, onEvent } = collect();
    const h = hedge({ delayMs: 10, budgetPercent: 10, clock, onEvent });
    const calls = Array.from({ length: 50 }, () => h.execute(replicas(clock, [{ ms: 100 }, { ms: 100 }]).fn));
    await clock.advance(100);
    await expect(Promise.all(calls)).resolves.toHaveLength(50);
    const sent = events.filter((e) => e.type === 'hedge.sent').length;
    const refused = events.filter((e) => e.type === 'hedge.budget-exhausted').length;
    expect(sent).toBe(10 + 5); // the reserve (one per second of the 10 s window) + 10% of 50 calls
    expect(refused).toBe(35);
  });

  it('budgetPercent: 0 sends no hedge at all', async () => {
    const clock = new FakeClock();
    const { events, onEvent } = collect();
    const h = hedge({ delayMs: 10, budgetPercent: 0, clock, onEvent });
    const p = h.execute(replicas(clock, [{ ms: 20 }]).fn);
    await clock.advance(20);
    await p;
    expect(strip(events)).toEqual([{ type: 'hedge.budget-exhausted' }]);
  });
});

describe('adaptive delay', () => {
  /** Runs `n` sequential calls whose attempts all take `ms`; returns the hedges sent. */
  async function run(h: ReturnType<typeof hedge>, clock: FakeClock, n: number, ms: number, key?: string) {
    let hedges = 0;
    for (let i = 0; i < n; i++) {
      const { fn, attempts } = replicas(clock, [{ ms }, { ms }]);
      const p = h.execute(fn, { key });
      await clock.advance(ms);
      await p;
      hedges += attempts.length - 1;
    }
    return hedges;
  }

  it('waits maxMs until it has history, then follows the percentile of recent latencies', async () => {
    const clock = new FakeClock();
    const h = hedge({ delayMs: { percentile: 95, minMs: 1, maxMs: 500 }, budgetPercent: 100, clock });
    expect(h.currentDelayMs()).toBe(500);
    expect(await run(h, clock, 19, 10)).toBe(0);
    expect(h.currentDelayMs()).toBe(500);
    await run(h, clock, 1, 10);
    expect(h.currentDelayMs()).toBeGreaterThanOrEqual(10);
    expect(h.currentDelayMs()).toBeLessThan(10 * 1.05);
  });

  it('moves up when latencies grow and back down when they shrink', async () => {
    const clock = new FakeClock();
    const { events, onEvent } = collect();
    const h = hedge({ delayMs: { percentile: 90 }, budgetPercent: 100, clock, onEvent });
    await run(h, clock, 200, 10);
    expect(h.currentDelayMs()).toBeCloseTo(10.4, 0);
    // Latencies jump to 40 ms: at first every call is hedged after ~10 ms ...
    await run(h, clock, 20, 40);
    const first = events.filter((e) => e.type === 'hedge.sent');
    expect(first.length).toBeGreaterThan(0);
    expect(first[0]).toMatchObject({ afterMs: expect.closeTo(10.4, 0) });
    // ... until the 90th percentile has caught up (10% of the window).
    await run(h, clock, 200, 40);
    expect(h.currentDelayMs()).toBeGreaterThanOrEqual(40);
    expect(h.currentDelayMs()).toBeLessThan(42);
    events.length = 0;
    expect(await run(h, clock, 100, 40)).toBe(0);
    // Faster again: the old latencies age out of the window (1,024 to 2,048 calls).
    await run(h, clock, 2_100, 5);
    expect(h.currentDelayMs()).toBeLessThan(5.3);
  });

  /** Attempts a call whose first attempt stalls (1 s) makes: 2 if it was hedged. */
  async function stalledCall(h: ReturnType<typeof hedge>, clock: FakeClock): Promise<number> {
    const { fn, attempts } = replicas(clock, [{ ms: 1_000 }, { ms: 30 }]);
    const p = h.execute(fn);
    await clock.advance(1_000);
    await p;
    return attempts.length;
  }

  it('sends no hedge while the dependency queues (median over twice its floor), unless the budget is off', async () => {
    const clock = new FakeClock();
    const { events, onEvent } = collect();
    const budgeted = hedge({ delayMs: { percentile: 90 }, clock, onEvent });
    const unbudgeted = hedge({ delayMs: { percentile: 90 }, budgetPercent: 100, clock });
    // The floor is taken from a median of at least 256 latencies.
    for (const h of [budgeted, unbudgeted]) await run(h, clock, 300, 10);
    // Every call now takes 3x as long: the whole distribution moved, as under queueing. Once the
    // median has followed (half of the window), hedging stops with the budget and goes on without.
    for (const h of [budgeted, unbudgeted]) await run(h, clock, 400, 30);
    events.length = 0;
    expect(await stalledCall(budgeted, clock)).toBe(1);
    expect(events.map((e) => e.type)).toContain('hedge.budget-exhausted');
    expect(await stalledCall(unbudgeted, clock)).toBe(2);
  });

  it('sees an overload as one however many calls a second go through (50,000 in 30 s)', async () => {
    const clock = new FakeClock();
    const h = hedge({ delayMs: { percentile: 90 }, clock });
    await run(h, clock, 300, 10);
    // A busy client: 50 calls in flight, each now 3x as slow, 50,000 calls over 30 s.
    for (let step = 0; step < 1_000; step++) {
      const calls = Array.from({ length: 50 }, () => h.execute(replicas(clock, [{ ms: 30 }, { ms: 30 }]).fn));
      await clock.advance(30);
      await Promise.all(calls);
    }
    expect(await stalledCall(h, clock)).toBe(1);
  });

  it('takes a lasting change of latency as the new normal within minutes, however few the calls', async () => {
    const clock = new FakeClock();
    const h = hedge({ delayMs: { percentile: 90 }, clock });
    await run(h, clock, 300, 10);
    // A quiet client: one call every 2 s, each now 3x as slow. The median moves to the new
    // latency after 301 of them (~10 min); from then the floor may double every 10 min, so the
    // median is no longer over twice the floor after ~5.5 min more (log2(1.5) x 10 min).
    const quiet = async (calls: number) => {
      for (let i = 0; i < calls; i++) {
        await run(h, clock, 1, 30);
        await clock.advance(2_000);
      }
    };
    await quiet(400); // ~3.3 min after the median moved: still taken for queueing
    expect(await stalledCall(h, clock)).toBe(1);
    await quiet(100); // ~6.7 min after
    expect(await stalledCall(h, clock)).toBe(2);
  });

  it('keeps a history per key', async () => {
    const clock = new FakeClock();
    const h = hedge({ delayMs: { percentile: 95 }, clock });
    await run(h, clock, 40, 10, 'fast');
    await run(h, clock, 40, 80, 'slow');
    expect(h.currentDelayMs('fast')).toBeGreaterThanOrEqual(10);
    expect(h.currentDelayMs('fast')).toBeLessThan(10 * 1.045);
    expect(h.currentDelayMs('slow')).toBeGreaterThanOrEqual(80);
    expect(h.currentDelayMs('slow')).toBeLessThan(80 * 1.045);
    expect(h.currentDelayMs('unknown')).toBe(1_000);
    expect(h.currentDelayMs()).toBe(1_000); // calls without a key share their own history
  });

  it('times hedges on a shared queue per delay: one runtime timer for many calls, idle once they settle', async () => {
    const clock = new FakeClock();
    const h = hedge({ delayMs: { percentile: 95, maxMs: 200 }, clock });
    const release: (() => void)[] = [];
    const calls = Array.from({ length: 100 }, () =>
      h.execute(() => new Promise<void>((resolve) => release.push(resolve))),
    );
    expect(clock.pending).toBe(1);
    for (const r of release) r();
    await Promise.all(calls);
    await clock.advance(200); // the queue's timer fires once, finds nothing due, and goes idle
    expect(clock.pending).toBe(0);
    expect(release).toHaveLength(100); // nothing was hedged
  });
});

describe('the race, against a reference model', () => {
  // Attempt latencies get distinct fractional parts so that no two events ever tie.
  const FRACTIONS = [0.101, 0.203, 0.307, 0.411];

  type Step = { ms: number; ok: boolean };
  interface Outcome {
    result: string;
    starts: number[];
    settledAt: number;
    aborted: number[];
  }

  function model(delay: number, maxHedges: number, plan: Step[]): Outcome {
    const starts = [0];
    const running = new Set([1]);
    let timer: number | undefined = maxHedges >= 1 ? delay : undefined;
    for (;;) {
      let next = Number.POSITIVE_INFINITY;
      let who = 0;
      for (const a of running) {
        const t = (starts[a - 1] as number) + (plan[a - 1] as Step).ms;
        if (t < next) [next, who] = [t, a];
      }
      if (timer !== undefined && timer < next) {
        starts.push(timer);
        running.add(starts.length);
        timer = starts.length <= maxHedges ? timer + delay : undefined;
        continue;
      }
      running.delete(who);
      if ((plan[who - 1] as Step).ok) {
        return { result: `ok ${who}`, starts, settledAt: next, aborted: [...running].sort() };
      }
      if (starts.length <= maxHedges) {
        starts.push(next);
        running.add(starts.length);
        timer = starts.length <= maxHedges ? next + delay : undefined;
      }
      if (running.size === 0) return { result: `error ${who}`, starts, settledAt: next, aborted: [] };
    }
  }

  it('matches the model for any latencies and outcomes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.record({ ms: fc.integer({ min: 0, max: 300 }), ok: fc.boolean() }), {
          minLength: 4,
          maxLength: 4,
        }),
        async (delay, maxHedges, raw) => {
          const plan = raw.map((s, i) => ({ ms: s.ms + (FRACTIONS[i] as number), ok: s.ok }));
          const expected = model(delay, maxHedges, plan);
          const clock = new FakeClock();
          const starts: number[] = [];
          const contexts: Context[] = [];
          let settledAt = -1;
          const p = hedge({ delayMs: delay, maxHedges, budgetPercent: 100, clock })
            .execute(async (ctx) => {
              starts[ctx.attempt - 1] = clock.now();
              contexts[ctx.attempt - 1] = ctx;
              const step = plan[ctx.attempt - 1] as Step;
              await clock.sleep(step.ms); // ignores its signal: a loser's late outcome must not matter
              if (!step.ok) throw new Error(`error ${ctx.attempt}`);
              return `ok ${ctx.attempt}`;
            })
            .then(
              (v) => v,
              (e: Error) => e.message,
            )
            .finally(() => {
              settledAt = clock.now();
            });
          await clock.advance(2_000);
          const aborted = contexts.flatMap((ctx, i) => (ctx.signal.aborted ? [i + 1] : []));
          expect({ result: await p, starts, settledAt, aborted }).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
