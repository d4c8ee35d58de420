import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import {
  FROM_BOTTLENECK_DEFAULTS,
  RATE_LIMIT_DEFAULTS,
  THROTTLE_DEFAULTS,
  fromBottleneck,
  normalizeRateLimitOptions,
  normalizeThrottleOptions,
  rateLimit,
  throttle,
} from '../src/index.js';

const pick = (o: object, keys: readonly string[]) =>
  Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]));

describe('rateLimit / throttle options', () => {
  it('normalizes {} to the documented defaults', () => {
    const r = normalizeRateLimitOptions({});
    expect(pick(r, Object.keys(RATE_LIMIT_DEFAULTS))).toEqual(RATE_LIMIT_DEFAULTS);
    expect(r.name).toBe('rate-limit');
    expect(r.store.kind).toBe('memory');
    expect(r.key).toBeUndefined();
    const t = normalizeThrottleOptions({});
    expect(pick(t, Object.keys(THROTTLE_DEFAULTS))).toEqual(THROTTLE_DEFAULTS);
    expect(t.name).toBe('throttle');
    expect(Object.isFrozen(RATE_LIMIT_DEFAULTS) && Object.isFrozen(THROTTLE_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(FROM_BOTTLENECK_DEFAULTS)).toBe(true);
  });

  it('burst follows limit unless set; durations accept strings', () => {
    expect(rateLimit({ limit: 7 })).toMatchObject({ limit: 7, burst: 7, windowMs: 60_000 });
    expect(rateLimit({ limit: 7, burst: 2, windowMs: '1s' })).toMatchObject({ burst: 2, windowMs: 1_000 });
    expect(throttle({ maxWaitMs: '2s', maxQueue: 0 })).toMatchObject({ maxWaitMs: 2_000, maxQueue: 0 });
  });

  const common = [
    [{ limit: 0 }, /"limit" must be an integer ≥ 1 \(got 0\)/],
    [{ limit: 1.5 }, /"limit" must be an integer ≥ 1/],
    [{ limit: '10' }, /"limit" must be an integer ≥ 1 \(got "10"\)/],
    [{ windowMs: 0 }, /"windowMs" must be a duration ≥ 1 ms/],
    [{ windowMs: '1 minute' }, /"windowMs" must be a duration/],
    [{ burst: 0 }, /"burst" must be an integer ≥ 1 \(got 0\)/],
    [{ key: '' }, /"key" must be a non-empty string or a function of the Context \(got ""\)/],
    [{ key: 42 }, /"key" must be a non-empty string or a function/],
    [{ cost: -1 }, /"cost" must be a finite number between 0 and 100 \(got -1\)/],
    [{ cost: 11, limit: 10 }, /"cost" must be a finite number between 0 and 10 \(got 11\)/],
    [{ store: {} }, /"store" must be a RateLimitStore/],
    [{ store: null }, /"store" must be a RateLimitStore/],
    [{ onStoreError: 'ignore' }, /"onStoreError" must be one of 'fail-open', 'fail-closed' \(got "ignore"\)/],
    [{ name: '' }, /"name" must be a non-empty string/],
    [{ clock: {} }, /"clock" must be a Clock/],
    [{ onEvent: 1 }, /"onEvent" must be a function/],
    [{ max: 5 }, /unknown option "max"/],
  ] as const;

  it.each(common)('rateLimit(%j) throws a TypeError naming the option', (options, message) => {
    expect(() => rateLimit(options as never)).toThrow(TypeError);
    expect(() => rateLimit(options as never)).toThrow(message);
    expect(() => rateLimit(options as never)).toThrow(/^@palisade\/rate-limit: /);
  });

  it.each([
    ...common,
    [{ maxQueue: -1 }, /"maxQueue" must be an integer ≥ 0 \(got -1\)/],
    [{ maxQueue: Number.POSITIVE_INFINITY }, /"maxQueue" must be an integer/],
    [{ maxWaitMs: -1 }, /"maxWaitMs" must be a duration/],
  ] as const)('throttle(%j) throws a TypeError naming the option', (options, message) => {
    expect(() => throttle(options as never)).toThrow(TypeError);
    expect(() => throttle(options as never)).toThrow(message);
  });

  it('rejects a non-object at construction', () => {
    expect(() => rateLimit(5 as never)).toThrow(/rateLimit\(\) takes an options object \(got 5\)/);
    expect(() => throttle([] as never)).toThrow(/throttle\(\) takes an options object \(got an array\)/);
  });

  it('binds the store only once every option is valid', () => {
    let binds = 0;
    const store = {
      kind: 'counting',
      bind: () => {
        binds++;
        return { consume: () => ({ allowed: true, limit: 1, remaining: 0, resetMs: 0, retryAfterMs: 0 }) };
      },
    };
    expect(() => rateLimit({ store, onStoreError: 'x' as never })).toThrow(TypeError);
    expect(() => throttle({ store, maxQueue: -1 })).toThrow(TypeError);
    expect(binds).toBe(0);
    rateLimit({ store, clock: new FakeClock() });
    expect(binds).toBe(1);
  });
});

describe('fromBottleneck options', () => {
  const limiter = { schedule: () => Promise.resolve(), on: () => {} };
  it.each([
    [{ retryAfterMs: -1 }, /"retryAfterMs" must be a duration/],
    [{ name: 5 }, /"name" must be a non-empty string/],
    [{ highWater: 5 }, /unknown option "highWater"/],
  ] as const)('fromBottleneck(limiter, %j) throws a TypeError naming the option', (options, message) => {
    expect(() => fromBottleneck(limiter as never, options as never)).toThrow(message);
  });
  it('rejects something that is not a limiter', () => {
    expect(() => fromBottleneck({} as never)).toThrow(
      /fromBottleneck\(\) takes a Bottleneck limiter \(got an object\)/,
    );
  });
});
