import { type Clock, type Context, type ResilienceEvent, createContext, pipeline } from '@palisade/core';
import { FakeClock, countAbortListeners } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { constant, retry } from '../src/index.js';

class Transient extends Error {}

const rejectOnAbort = (ctx: Context) =>
  new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));

describe('caller abort', () => {
  it('an already-aborted signal rejects with its reason without calling fn', async () => {
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    let called = false;
    const p = retry({ clock: new FakeClock() }).execute(
      () => {
        called = true;
      },
      { signal: controller.signal },
    );
    await expect(p).rejects.toBe(reason);
    expect(called).toBe(false);
  });

  it('an already-aborted outer Context rejects with its reason without calling fn', async () => {
    const outer = createContext();
    outer.abort('outer stop');
    let called = false;
    const p = retry({ clock: new FakeClock() }).execute(() => {
      called = true;
    }, outer);
    await expect(p).rejects.toBe('outer stop');
    expect(called).toBe(false);
  });

  it('aborting during an attempt aborts its ctx.signal and is never retried', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    let calls = 0;
    const p = retry({ clock, backoff: constant({ ms: 10 }), retryOn: () => true }).execute(
      (ctx) => {
        calls++;
        return rejectOnAbort(ctx);
      },
      { signal: controller.signal },
    );
    await clock.advance(5);
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    await clock.advance(100);
    expect(calls).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('rejects at once even when the attempt ignores its signal; its late failure is not retried', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    let calls = 0;
    const p = retry({ clock, backoff: constant({ ms: 10 }) }).execute(
      async () => {
        calls++;
        await clock.sleep(20);
        throw new Transient('late failure');
      },
      { signal: controller.signal },
    );
    await clock.advance(5);
    controller.abort('stop');
    await expect(p).rejects.toBe('stop');
    await clock.advance(100);
    expect(calls).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('within a pipeline, the caller abort still reaches retry promptly', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const p = pipeline(retry({ clock }), retry({ clock })).execute(() => new Promise(() => {}), {
      signal: controller.signal,
    });
    controller.abort('stop');
    await expect(p).rejects.toBe('stop');
  });

  it('aborting during the backoff sleep rejects at once with the reason and clears the timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const events: ResilienceEvent[] = [];
    let calls = 0;
    const p = retry({ clock, backoff: constant({ ms: 10_000 }), onEvent: (e) => events.push(e) }).execute(
      () => {
        calls++;
        throw new Transient();
      },
      { signal: controller.signal },
    );
    await clock.advance(100);
    expect(clock.pending).toBe(1); // the backoff sleep
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
    expect(calls).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['retry', 'failure']);
    expect(events[1]).toMatchObject({ error: reason });
  });

  it('an outer policy aborting its Context during the sleep rejects at once (its signal made only then)', async () => {
    const clock = new FakeClock();
    const outer = createContext();
    let calls = 0;
    const p = retry({ clock, backoff: constant({ ms: 10_000 }) }).execute(() => {
      calls++;
      throw new Transient();
    }, outer);
    await clock.advance(100);
    outer.abort('outer timeout');
    await expect(p).rejects.toBe('outer timeout');
    expect(clock.pending).toBe(0);
    expect(calls).toBe(1);
    outer.dispose();
  });

  it('an abort that lands as the sleep ends still stops the next attempt', async () => {
    const controller = new AbortController();
    const fake = new FakeClock();
    const clock: Clock = {
      now: () => fake.now(),
      sleep: () => {
        controller.abort('stop');
        return Promise.resolve(); // the sleep "finished" although the caller aborted meanwhile
      },
    };
    let calls = 0;
    const p = retry({ clock, backoff: constant({ ms: 10 }) }).execute(
      () => {
        calls++;
        throw new Transient();
      },
      { signal: controller.signal },
    );
    await expect(p).rejects.toBe('stop');
    expect(calls).toBe(1);
  });

  it('removes every listener it adds to the caller signal, at every stage', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const counts = countAbortListeners(controller.signal);
    const r = retry({ clock, backoff: constant({ ms: 10 }) });
    const { signal } = controller;
    await r.execute(() => 'ok', { signal });
    await r.execute((ctx) => ctx.signal.aborted, { signal });
    let n = 0;
    const p = r.execute(
      (ctx) => {
        void ctx.signal; // each attempt links its own signal to the caller's
        if (++n < 3) throw new Transient();
        return n;
      },
      { signal },
    );
    await clock.advance(20);
    await expect(p).resolves.toBe(3);
    const failing = r.execute(
      (ctx) => {
        void ctx.signal;
        throw new Transient();
      },
      { signal },
    );
    const caught = failing.catch((e: unknown) => e);
    await clock.advance(20);
    expect(await caught).toBeInstanceOf(Transient);
    expect(counts.added).toBeGreaterThan(0);
    expect(counts.removed).toBe(counts.added);
  });

  it('adds one listener to the caller signal per call (for a prompt abort), removed when the call settles', async () => {
    const controller = new AbortController();
    const counts = countAbortListeners(controller.signal);
    await retry({ clock: new FakeClock() }).execute(() => 'ok', { signal: controller.signal });
    expect(counts).toEqual({ added: 1, removed: 1 });
  });
});
