import { type ResilienceEvent, RateLimitedError, TimeoutError, isRejection } from '@palisade/core';
import Bottleneck from 'bottleneck';
import { describe, expect, it, vi } from 'vitest';
import { fromBottleneck } from '../src/index.js';

// bottleneck runs on its own real timers, so these tests use real time with generous margins and
// assert order and outcomes, never durations.

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

describe('fromBottleneck()', () => {
  it('schedules calls through the limiter (its concurrency holds) and returns their results', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 2 });
    const policy = fromBottleneck(limiter, { name: 'legacy' });
    expect(policy.name).toBe('legacy');
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        policy.execute(
          async (ctx) => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((r) => setTimeout(r, 5));
            running--;
            return `${i}:${ctx.key}`;
          },
          { key: 'k' },
        ),
      ),
    );
    expect(results).toEqual(Array.from({ length: 8 }, (_, i) => `${i}:k`));
    expect(peak).toBe(2);
  });

  it("passes fn's errors through unchanged", async () => {
    const policy = fromBottleneck(new Bottleneck());
    const boom = new Error('boom');
    await expect(policy.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      policy.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });

  it('a job dropped because the queue is full (OVERFLOW) rejects with RateLimitedError and an event', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1, highWater: 1, strategy: Bottleneck.strategy.OVERFLOW });
    const events: ResilienceEvent[] = [];
    const policy = fromBottleneck(limiter, { retryAfterMs: '2s', onEvent: (e) => events.push(e) });
    const { open, opened } = gate();
    const running = policy.execute(() => opened.then(() => 'first'));
    await new Promise((r) => setTimeout(r, 50));
    const queued = policy.execute(() => 'second');
    const fn = vi.fn();
    const dropped = policy.execute(fn, { key: 'k' });
    await expect(dropped).rejects.toBeInstanceOf(RateLimitedError);
    await expect(dropped).rejects.toMatchObject({ policy: 'bottleneck', retryAfterMs: 2_000 });
    const error = await dropped.catch((e: unknown) => e);
    expect(isRejection(error)).toBe(true);
    open();
    await expect(running).resolves.toBe('first');
    await expect(queued).resolves.toBe('second');
    expect(fn).not.toHaveBeenCalled();
    expect(events.filter((e) => e.type === 'ratelimit.rejected')).toMatchObject([
      { type: 'ratelimit.rejected', policy: 'bottleneck', name: 'bottleneck', key: 'k', retryAfterMs: 2_000 },
    ]);
    expect(events.some((e) => e.type === 'ratelimit.queued')).toBe(true);
  });

  it('an older job dropped by LEAK rejects with RateLimitedError', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1, highWater: 1, strategy: Bottleneck.strategy.LEAK });
    const policy = fromBottleneck(limiter);
    const { open, opened } = gate();
    const running = policy.execute(() => opened);
    await new Promise((r) => setTimeout(r, 50));
    const older = policy.execute(() => 'older');
    const newer = policy.execute(() => 'newer');
    await expect(older).rejects.toBeInstanceOf(RateLimitedError);
    open();
    await running;
    await expect(newer).resolves.toBe('newer');
  });

  it('dropped jobs reject even when the limiter does not reject them (rejectOnDrop: false)', async () => {
    const limiter = new Bottleneck({
      maxConcurrent: 1,
      highWater: 0,
      strategy: Bottleneck.strategy.OVERFLOW,
      rejectOnDrop: false,
    });
    const policy = fromBottleneck(limiter);
    const { open, opened } = gate();
    const running = policy.execute(() => opened);
    await expect(policy.execute(() => 'x')).rejects.toBeInstanceOf(RateLimitedError);
    open();
    await running;
  });

  it("a job past bottleneck's expiration rejects with a TimeoutError", async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1 });
    const events: ResilienceEvent[] = [];
    const wrapped = fromBottleneck(
      {
        schedule: (fn, arg) => limiter.schedule({ expiration: 30 }, fn, arg),
        on: (name, fn) => limiter.on(name, fn),
      },
      { onEvent: (e) => events.push(e) },
    );
    const error = await wrapped.execute(() => new Promise((r) => setTimeout(r, 1_000))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timeoutMs: 30, policy: 'bottleneck' });
    expect(events.map((e) => e.type)).toContain('timeout');
  });

  it('a stopped limiter rejects new calls with RateLimitedError', async () => {
    const limiter = new Bottleneck();
    const policy = fromBottleneck(limiter);
    await limiter.stop();
    await expect(policy.execute(() => 'x')).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('aborting a queued call rejects at once with the reason; fn is skipped when its turn comes', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1 });
    const policy = fromBottleneck(limiter);
    const { open, opened } = gate();
    const running = policy.execute(() => opened.then(() => 'first'));
    const controller = new AbortController();
    const fn = vi.fn();
    const queued = policy.execute(fn, { signal: controller.signal });
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(queued).rejects.toBe(reason);
    open();
    await expect(running).resolves.toBe('first');
    await expect(policy.execute(() => 'after')).resolves.toBe('after');
    expect(fn).not.toHaveBeenCalled();
  });

  it('aborting while fn runs rejects at once and aborts ctx.signal', async () => {
    const policy = fromBottleneck(new Bottleneck());
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const p = policy.execute(
      (ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
      { signal: controller.signal },
    );
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(signal?.aborted).toBe(true);
  });

  it('an already-aborted signal rejects without scheduling anything', async () => {
    const limiter = new Bottleneck();
    const schedule = vi.spyOn(limiter, 'schedule');
    const reason = new Error('gone');
    await expect(fromBottleneck(limiter).execute(() => 1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(schedule).not.toHaveBeenCalled();
  });
});
