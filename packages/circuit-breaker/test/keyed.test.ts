import { createHook } from 'node:async_hooks';
import { BrokenCircuitError, type Context, type Policy, type ResilienceEvent, noop } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { type CircuitBreakerPolicy, circuitBreaker, keyed } from '../src/index.js';

const boom = () => Promise.reject(new Error('down'));

describe('keyed()', () => {
  it('gives each key its own breaker: one host down does not open the others', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const options = { clock, minimumCalls: 2, onEvent: (e: ResilienceEvent) => events.push(e) };
    const perHost = keyed(() => circuitBreaker(options), { clock });
    await perHost.execute(boom, { key: 'a.example' }).catch(() => {});
    await perHost.execute(boom, { key: 'a.example' }).catch(() => {});
    await expect(perHost.execute(() => 1, { key: 'a.example' })).rejects.toBeInstanceOf(BrokenCircuitError);
    await expect(perHost.execute(() => 2, { key: 'b.example' })).resolves.toBe(2);
    expect(perHost.get('a.example')?.state).toBe('open');
    expect(perHost.get('b.example')?.state).toBe('closed');
    expect(perHost.size).toBe(2);
    expect(events.find((e) => e.type === 'circuit.open')?.key).toBe('a.example');
  });

  it("routes calls without a key to the '' key", async () => {
    const made: string[] = [];
    const perKey = keyed((key) => {
      made.push(key);
      return circuitBreaker();
    });
    await perKey.execute(() => 1);
    await perKey.execute(() => 2, {});
    expect(made).toEqual(['']);
    expect(perKey.get('')).toBeDefined();
  });

  it('passes the Context (key, signal) through to the policy of the key', async () => {
    const perKey = keyed(() => noop());
    const seen: (string | undefined)[] = [];
    await perKey.execute((ctx: Context) => seen.push(ctx.key), { key: 'x' });
    expect(seen).toEqual(['x']);
  });

  it('is generic: any Policy, typed by the factory', async () => {
    const perKey = keyed(
      (key) =>
        ({
          name: key,
          execute: <T>(fn: (ctx: Context) => Promise<T> | T) =>
            Promise.resolve(fn({ signal: new AbortController().signal, attempt: 1 })),
        }) satisfies Policy,
    );
    await expect(perKey.execute(() => 'v', { key: 'k' })).resolves.toBe('v');
    expect(perKey.get('k')?.name).toBe('k');
  });

  it('holds at most maxKeys keys (least recently used go first)', async () => {
    const perKey = keyed(() => circuitBreaker(), { maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) await perKey.execute(() => i, { key: `k${i}` });
    expect(perKey.size).toBe(100);
    expect(perKey.get('k0')).toBeUndefined();
    expect(perKey.get('k9999')).toBeDefined();
  });

  it('a recently used key survives a flood of new ones', async () => {
    const perKey = keyed(() => circuitBreaker(), { maxKeys: 10 });
    await perKey.execute(() => 0, { key: 'hot' });
    for (let i = 0; i < 100; i++) {
      await perKey.execute(() => i, { key: `cold${i}` });
      await perKey.execute(() => i, { key: 'hot' });
    }
    expect(perKey.get('hot')).toBeDefined();
  });

  it('forgets keys idle for longer than idleMs, with no timer (FakeClock has nothing pending)', async () => {
    const clock = new FakeClock();
    const breakerOptions = { clock, minimumCalls: 1 };
    const perKey = keyed(() => circuitBreaker(breakerOptions), { idleMs: 1_000, clock });
    await perKey.execute(boom, { key: 'a' }).catch(() => {});
    expect(perKey.get('a')?.state).toBe('open');
    expect(clock.pending).toBe(0);
    await clock.advance(1_000);
    expect(perKey.get('a')).toBeDefined();
    await clock.advance(1);
    expect(perKey.get('a')).toBeUndefined();
    // the key comes back with a fresh (closed) breaker
    await expect(perKey.execute(() => 'ok', { key: 'a' })).resolves.toBe('ok');
    expect(clock.pending).toBe(0);
  });

  it('use keeps a key alive; get() does not count as use', async () => {
    const clock = new FakeClock();
    const perKey = keyed(() => circuitBreaker({ clock }), { idleMs: 1_000, clock });
    await perKey.execute(() => 1, { key: 'a' });
    for (let i = 0; i < 5; i++) {
      await clock.advance(600);
      await perKey.execute(() => 1, { key: 'a' });
    }
    expect(perKey.get('a')).toBeDefined();
    await clock.advance(600);
    perKey.get('a');
    await clock.advance(600);
    expect(perKey.get('a')).toBeUndefined();
  });

  it('idleMs: 0 keeps keys until maxKeys pushes them out', async () => {
    const clock = new FakeClock();
    const perKey = keyed(() => circuitBreaker({ clock }), { idleMs: 0, clock });
    await perKey.execute(() => 1, { key: 'a' });
    await clock.advance(1e12);
    expect(perKey.get('a')).toBeDefined();
  });

  it('a factory that throws or returns no Policy rejects the call (not a sync throw)', async () => {
    const error = new Error('factory');
    const throwing = keyed(() => {
      throw error;
    });
    await expect(throwing.execute(() => 1, { key: 'a' })).rejects.toBe(error);
    const bad = keyed(() => ({}) as unknown as Policy);
    await expect(bad.execute(() => 1, { key: 'a' })).rejects.toThrow(/factory must return a Policy/);
    expect(bad.size).toBe(0);
  });

  it('creates no timer for any key, with the system clock: idle keys cost memory, never CPU', async () => {
    // Every timer or immediate created meanwhile whose stack passes through the breaker or lru-cache
    // (the test runner may create its own timers at any time: those are not ours).
    const created: string[] = [];
    const hook = createHook({
      init(_id, type) {
        if (type !== 'Timeout' && type !== 'Immediate') return;
        const stack = new Error().stack ?? '';
        if (/circuit-breaker[\\/]src|lru-cache/.test(stack)) created.push(`${type}: ${stack}`);
      },
    });
    const options = { minimumCalls: 1 };
    const perKey = keyed(() => circuitBreaker(options), { maxKeys: 5_000, idleMs: '1m' });
    hook.enable();
    try {
      for (let i = 0; i < 2_000; i++) {
        await perKey.execute(() => i, { key: `ok${i}` });
        await perKey.execute(boom, { key: `down${i}` }).catch(() => {});
        await perKey.execute(() => i, { key: `down${i}` }).catch(() => {}); // open: rejected
      }
    } finally {
      hook.disable();
    }
    expect(perKey.size).toBe(4_000);
    expect((perKey.get('down1') as CircuitBreakerPolicy).state).toBe('open');
    expect(created).toEqual([]);
  });
});
