import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { type RateLimitRule, memoryStore } from '../src/index.js';

const ruleOn = (clock: FakeClock, over: Partial<RateLimitRule> = {}): RateLimitRule => ({
  name: 'test',
  limit: 10,
  windowMs: 1_000,
  burst: 10,
  clock,
  ...over,
});

describe('memoryStore()', () => {
  it('decides synchronously: no promise on the hot path', () => {
    const bound = memoryStore().bind(ruleOn(new FakeClock()));
    const d = bound.consume('a', 1);
    expect(d).not.toBeInstanceOf(Promise);
    expect(d).toMatchObject({ allowed: true, limit: 10, remaining: 9, resetMs: 100, retryAfterMs: 0 });
  });

  it('keeps keys apart, and each policy bound to one store gets its own state', () => {
    const clock = new FakeClock();
    const store = memoryStore();
    const a = store.bind(ruleOn(clock, { burst: 1 }));
    const b = store.bind(ruleOn(clock, { burst: 1 }));
    expect(a.consume('k', 1).allowed).toBe(true);
    expect(a.consume('k', 1).allowed).toBe(false);
    expect(a.consume('other', 1).allowed).toBe(true);
    expect(b.consume('k', 1).allowed).toBe(true);
  });

  it('never holds more than maxKeys keys, evicting the least recently used', () => {
    const clock = new FakeClock();
    const bound = memoryStore({ maxKeys: 3 }).bind(ruleOn(clock, { burst: 1 }));
    for (const key of ['a', 'b', 'c']) bound.consume(key, 1);
    expect(bound.consume('a', 1).allowed).toBe(false); // touches "a": now most recent
    bound.consume('d', 1); // evicts "b", the least recently used
    expect(bound.size).toBe(3);
    expect(bound.consume('a', 1).allowed).toBe(false);
    expect(bound.consume('b', 1).allowed).toBe(true); // forgotten: starts again from a full burst
  });

  it('an idle key is as good as new once its TAT has passed (no timer ever runs)', async () => {
    const clock = new FakeClock();
    const bound = memoryStore().bind(ruleOn(clock));
    for (let i = 0; i < 10; i++) bound.consume('a', 1);
    expect(bound.consume('a', 1).allowed).toBe(false);
    expect(clock.pending).toBe(0);
    await clock.advance(1_000);
    expect(bound.consume('a', 10)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('a refused consume takes nothing', () => {
    const clock = new FakeClock();
    const bound = memoryStore().bind(ruleOn(clock));
    bound.consume('a', 8);
    expect(bound.consume('a', 3)).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 100 });
    expect(bound.consume('a', 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('refund gives back the last reservation only', () => {
    const clock = new FakeClock();
    const bound = memoryStore().bind(ruleOn(clock, { burst: 1 }));
    const first = bound.consume('a', 1);
    const second = bound.consume('a', 1, 500);
    const third = bound.consume('a', 1, 500);
    expect([second.retryAfterMs, third.retryAfterMs]).toEqual([100, 200]);
    bound.refund('a', 1, second); // not the last: refunding would let a newcomer run beside "third"
    expect(bound.consume('a', 1, 500).retryAfterMs).toBe(300);
    const fourth = bound.consume('a', 1, 500);
    bound.refund('a', 1, fourth); // the last: exactly undone
    expect(bound.consume('a', 1, 500).retryAfterMs).toBe(400);
    bound.refund('a', 1, first);
    bound.refund('a', 1, bound.consume('a', 1)); // refused: nothing to give back
    expect(bound.consume('a', 1, 10_000).retryAfterMs).toBe(500);
  });

  it('a refund that brings the key back to idle forgets it', () => {
    const clock = new FakeClock();
    const bound = memoryStore().bind(ruleOn(clock));
    const d = bound.consume('a', 1);
    expect(bound.size).toBe(1);
    bound.refund('a', 1, d);
    expect(bound.size).toBe(0);
  });

  it('cost 0 reads the state without storing anything', () => {
    const bound = memoryStore().bind(ruleOn(new FakeClock()));
    expect(bound.consume('a', 0)).toMatchObject({ allowed: true, remaining: 10, resetMs: 0 });
    expect(bound.size).toBe(0);
    bound.clear();
  });

  it('validates its options', () => {
    expect(() => memoryStore({ maxKeys: 0 })).toThrow(/"maxKeys" must be an integer ≥ 1 \(got 0\)/);
    expect(() => memoryStore({ maxkeys: 5 } as never)).toThrow(/unknown option "memoryStore.maxkeys"/);
    expect(() => memoryStore(5 as never)).toThrow(/memoryStore\(\) takes an options object/);
    expect(memoryStore().maxKeys).toBe(100_000);
  });
});
