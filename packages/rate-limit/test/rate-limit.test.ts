import { type ResilienceEvent, RateLimitedError, isRejection } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { type BoundRateLimitStore, type RateLimitDecision, type RateLimitStore, rateLimit } from '../src/index.js';

const ok = () => 'ok';

async function outcome(p: Promise<unknown>): Promise<'ok' | RateLimitedError> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (error instanceof RateLimitedError) return error;
    throw error;
  }
}

/** A store whose every answer is decided by the test. */
function scriptedStore(
  consume: BoundRateLimitStore['consume'],
  extra: Partial<BoundRateLimitStore> = {},
): RateLimitStore {
  return { kind: 'scripted', bind: () => ({ consume, ...extra }) };
}

describe('rateLimit()', () => {
  it('lets a burst through at once, then one call every windowMs / limit', async () => {
    const clock = new FakeClock();
    const limiter = rateLimit({ limit: 10, windowMs: 1_000, clock });
    const burst = await Promise.all(Array.from({ length: 12 }, () => outcome(limiter.execute(ok))));
    expect(burst.filter((r) => r === 'ok')).toHaveLength(10);
    await clock.advance(99);
    expect(await outcome(limiter.execute(ok))).toBeInstanceOf(RateLimitedError);
    await clock.advance(1);
    expect(await outcome(limiter.execute(ok))).toBe('ok');
    expect(await outcome(limiter.execute(ok))).toBeInstanceOf(RateLimitedError);
  });

  it('holds a steady rate: hammered every ms for 10 s, it admits burst + 10 s × limit / window', async () => {
    const clock = new FakeClock();
    const limiter = rateLimit({ limit: 10, windowMs: 1_000, clock });
    let admitted = 0;
    const perSecond: number[] = [];
    for (let s = 0; s < 10; s++) {
      let inSecond = 0;
      for (let ms = 0; ms < 1_000; ms++) {
        if ((await outcome(limiter.execute(ok))) === 'ok') inSecond++;
        await clock.advance(1);
      }
      perSecond.push(inSecond);
      admitted += inSecond;
    }
    expect(perSecond[0]).toBe(10 + 9); // the burst, then the steady rate
    expect(perSecond.slice(1)).toEqual(Array(9).fill(10));
    expect(admitted).toBe(10 + 99);
  });

  it('never lets 2× through at a window boundary (unlike a fixed window)', async () => {
    const clock = new FakeClock();
    const limiter = rateLimit({ limit: 10, windowMs: 1_000, burst: 10, clock });
    await clock.advance(999);
    const before = await Promise.all(Array.from({ length: 10 }, () => outcome(limiter.execute(ok))));
    await clock.advance(2);
    const after = await Promise.all(Array.from({ length: 10 }, () => outcome(limiter.execute(ok))));
    expect([...before, ...after].filter((r) => r === 'ok')).toHaveLength(10);
  });

  it('costs > 1 take several units; retryAfterMs is exact for the cost asked', async () => {
    const clock = new FakeClock();
    const limiter = rateLimit({ limit: 10, windowMs: 1_000, cost: (ctx) => (ctx.key === 'batch' ? 4 : 1), clock });
    expect(await outcome(limiter.execute(ok, { key: 'batch' }))).toBe('ok');
    expect(await outcome(limiter.execute(ok, { key: 'batch' }))).toBe('ok');
    const refused = await outcome(limiter.execute(ok, { key: 'batch' }));
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ retryAfterMs: 200, remaining: 2, limit: 10, resetMs: 800, windowMs: 1_000 });
    const d = limiter.consume('batch', 2);
    expect(d).toMatchObject({ allowed: true, remaining: 0, resetMs: 1_000, retryAfterMs: 0 });
    await clock.advance(399);
    expect(await outcome(limiter.execute(ok, { key: 'batch' }))).toMatchObject({ retryAfterMs: 1 });
    await clock.advance(1);
    expect(await outcome(limiter.execute(ok, { key: 'batch' }))).toBe('ok');
  });

  it('rejects with a RateLimitedError carrying everything the RateLimit headers need, without calling fn', async () => {
    const clock = new FakeClock();
    const limiter = rateLimit({ limit: 2, windowMs: '1m', burst: 2, clock });
    await limiter.execute(ok);
    await limiter.execute(ok);
    let called = false;
    const error = await outcome(
      limiter.execute(() => {
        called = true;
      }),
    );
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({
      code: 'PALISADE_RATE_LIMITED',
      policy: 'rate-limit',
      retryAfterMs: 30_000,
      limit: 2,
      remaining: 0,
      resetMs: 60_000,
      windowMs: 60_000,
    });
    expect(isRejection(error)).toBe(true);
  });

  it('keys: the key option, then ExecuteOptions.key, then one shared key', async () => {
    const clock = new FakeClock();
    const byOption = rateLimit({ limit: 1, windowMs: 1_000, key: 'fixed', clock });
    expect(await outcome(byOption.execute(ok, { key: 'a' }))).toBe('ok');
    expect(await outcome(byOption.execute(ok, { key: 'b' }))).toBeInstanceOf(RateLimitedError);

    const byFunction = rateLimit({ limit: 1, windowMs: 1_000, key: (ctx) => `user:${ctx.key}`, clock });
    expect(byFunction.consume('user:a')).toMatchObject({ allowed: true });
    expect(await outcome(byFunction.execute(ok, { key: 'a' }))).toBeInstanceOf(RateLimitedError);
    expect(await outcome(byFunction.execute(ok, { key: 'b' }))).toBe('ok');

    const byCall = rateLimit({ limit: 1, windowMs: 1_000, clock });
    expect(await outcome(byCall.execute(ok, { key: 'a' }))).toBe('ok');
    expect(await outcome(byCall.execute(ok, { key: 'b' }))).toBe('ok');
    expect(await outcome(byCall.execute(ok))).toBe('ok');
    expect(await outcome(byCall.execute(ok))).toBeInstanceOf(RateLimitedError);
    expect(byCall.consume('*')).toMatchObject({ allowed: false });
  });

  it('hands fn the Context, and passes its result and its errors through unchanged', async () => {
    const limiter = rateLimit({ clock: new FakeClock() });
    await expect(limiter.execute((ctx) => ctx.key, { key: 'k' })).resolves.toBe('k');
    const boom = new Error('boom');
    await expect(
      limiter.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(limiter.execute(() => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('consume() gives the decision for allowed calls too, and emits like execute', () => {
    const events: ResilienceEvent[] = [];
    const limiter = rateLimit({ limit: 2, windowMs: 1_000, clock: new FakeClock(), onEvent: (e) => events.push(e) });
    expect(limiter.consume('ip')).toEqual({
      allowed: true,
      limit: 2,
      remaining: 1,
      resetMs: 500,
      retryAfterMs: 0,
      tat: 500,
    });
    expect(limiter.consume('ip', 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.consume('ip')).toMatchObject({ allowed: false, retryAfterMs: 500 });
    expect(events).toEqual([
      {
        type: 'ratelimit.rejected',
        policy: 'rate-limit',
        name: 'rate-limit',
        key: 'ip',
        time: 0,
        retryAfterMs: 500,
        limit: 2,
        remaining: 0,
      },
    ]);
    expect(() => limiter.consume('ip', 3)).toThrow(RangeError);
    expect(() => limiter.consume('ip', -1)).toThrow(/cost must be a number between 0 and 2 \(got -1\)/);
  });

  it('a cost function returning a bad value rejects that call with a RangeError, taking nothing', async () => {
    const limiter = rateLimit({ limit: 1, windowMs: 1_000, cost: () => Number.NaN, clock: new FakeClock() });
    await expect(limiter.execute(ok)).rejects.toThrow(RangeError);
    const throwing = rateLimit({
      clock: new FakeClock(),
      key: () => {
        throw new Error('no key');
      },
    });
    await expect(throwing.execute(ok)).rejects.toThrow('no key');
  });

  it('emits nothing and builds no event when nobody listens', async () => {
    const limiter = rateLimit({ limit: 1, windowMs: 1_000, clock: new FakeClock() });
    await limiter.execute(ok);
    await expect(limiter.execute(ok)).rejects.toBeInstanceOf(RateLimitedError);
  });

  describe('with an asynchronous store', () => {
    const allowed: RateLimitDecision = { allowed: true, limit: 5, remaining: 4, resetMs: 200, retryAfterMs: 0 };
    const refused: RateLimitDecision = { allowed: false, limit: 5, remaining: 0, resetMs: 1_000, retryAfterMs: 200 };

    it('awaits the decision, then runs fn or rejects', async () => {
      let next = allowed;
      const limiter = rateLimit({ store: scriptedStore(async () => next), clock: new FakeClock() });
      await expect(limiter.execute(ok)).resolves.toBe('ok');
      await expect(limiter.consume('a')).resolves.toEqual(allowed);
      next = refused;
      await expect(limiter.execute(ok)).rejects.toMatchObject({
        retryAfterMs: 200,
        limit: 5,
        remaining: 0,
        resetMs: 1_000,
      });
    });

    it.each(['sync throw', 'rejection'] as const)(
      'fail-open (the default): a store failure (%s) lets the call through and emits ratelimit.store-error',
      async (how) => {
        const failure = new Error('store down');
        const events: ResilienceEvent[] = [];
        const limiter = rateLimit({
          store: scriptedStore(() => {
            if (how === 'sync throw') throw failure;
            return Promise.reject(failure);
          }),
          clock: new FakeClock(),
          onEvent: (e) => events.push(e),
        });
        expect(limiter.onStoreError).toBe('fail-open');
        await expect(limiter.execute(ok, { key: 'k' })).resolves.toBe('ok');
        expect(events).toMatchObject([{ type: 'ratelimit.store-error', key: 'k', error: failure, mode: 'fail-open' }]);
        expect(await limiter.consume('k')).toMatchObject({ allowed: true, storeError: failure });
      },
    );

    it('fail-closed: a store failure rejects with a RateLimitedError whose cause is the failure', async () => {
      const failure = new Error('store down');
      const events: ResilienceEvent[] = [];
      const limiter = rateLimit({
        windowMs: '1m',
        store: scriptedStore(() => Promise.reject(failure)),
        onStoreError: 'fail-closed',
        clock: new FakeClock(),
        onEvent: (e) => events.push(e),
      });
      const error = await outcome(limiter.execute(ok));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ cause: failure, retryAfterMs: 1_000, remaining: 0 });
      expect(events.map((e) => e.type)).toEqual(['ratelimit.store-error', 'ratelimit.rejected']);
    });

    it("the store's own onStoreError preference applies unless the policy sets one", () => {
      const store: RateLimitStore = {
        kind: 'x',
        bind: () => ({ consume: () => Promise.reject(), onStoreError: 'fail-closed' }),
      };
      expect(rateLimit({ store }).onStoreError).toBe('fail-closed');
      expect(rateLimit({ store, onStoreError: 'fail-open' }).onStoreError).toBe('fail-open');
    });
  });
});
