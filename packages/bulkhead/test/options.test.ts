import { FakeClock } from '@palisade/core/testing';
import { BulkheadRejectedError, TimeoutError } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import {
  BULKHEAD_DEFAULTS,
  CONCURRENCY_LIMIT_DEFAULTS,
  bulkhead,
  concurrencyLimit,
  isOverloadError,
  normalizeBulkheadOptions,
  normalizeConcurrencyLimitOptions,
} from '../src/index.js';

describe('bulkhead options', () => {
  it('normalizes {} to the documented defaults', () => {
    const { maxConcurrent, maxQueue, queueTimeoutMs, name } = normalizeBulkheadOptions({});
    expect({ maxConcurrent, maxQueue, queueTimeoutMs }).toEqual(BULKHEAD_DEFAULTS);
    expect(name).toBe('bulkhead');
    expect(Object.isFrozen(BULKHEAD_DEFAULTS)).toBe(true);
    expect(normalizeBulkheadOptions()).toMatchObject(BULKHEAD_DEFAULTS);
  });

  it('accepts duration strings and Infinity for queueTimeoutMs', () => {
    expect(bulkhead({ queueTimeoutMs: '2s' }).queueTimeoutMs).toBe(2_000);
    expect(bulkhead({ queueTimeoutMs: Number.POSITIVE_INFINITY }).queueTimeoutMs).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    [{ maxConcurrent: 0 }, /"maxConcurrent" must be an integer ≥ 1 \(got 0\)/],
    [{ maxConcurrent: 1.5 }, /"maxConcurrent" must be an integer/],
    [{ maxConcurrent: '10' }, /"maxConcurrent" must be an integer .*got "10"/],
    [{ maxQueue: -1 }, /"maxQueue" must be an integer ≥ 0 \(got -1\)/],
    [{ maxQueue: Number.POSITIVE_INFINITY }, /"maxQueue" must be an integer/],
    [{ queueTimeoutMs: 0 }, /"queueTimeoutMs" must be a duration ≥ 1 ms/],
    [{ queueTimeoutMs: '1 second' }, /"queueTimeoutMs" must be a duration .*got "1 second"/],
    [{ queueTimeoutMs: Number.NaN }, /"queueTimeoutMs" must be a duration/],
    [{ name: '' }, /"name" must be a non-empty string/],
    [{ clock: {} }, /"clock" must be a Clock/],
    [{ onEvent: 'log' }, /"onEvent" must be a function/],
    [{ maxConcurrency: 5 }, /unknown option "maxConcurrency"/],
    [{ algorithm: 'aimd' }, /unknown option "algorithm"/],
  ])('rejects %j at construction with a TypeError naming it', (options, message) => {
    expect(() => bulkhead(options as never)).toThrow(TypeError);
    expect(() => bulkhead(options as never)).toThrow(message);
    expect(() => bulkhead(options as never)).toThrow(/^@palisade\/bulkhead: /);
  });

  it('rejects a non-object', () => {
    expect(() => bulkhead(5 as never)).toThrow(/bulkhead\(\) takes an options object \(got 5\)/);
  });
});

describe('concurrencyLimit options', () => {
  it('normalizes {} to the documented defaults', () => {
    const n = normalizeConcurrencyLimitOptions({});
    const picked = Object.fromEntries(Object.keys(CONCURRENCY_LIMIT_DEFAULTS).map((k) => [k, n[k as keyof typeof n]]));
    expect(picked).toEqual(CONCURRENCY_LIMIT_DEFAULTS);
    expect(n.name).toBe('concurrency-limit');
    expect(Object.isFrozen(CONCURRENCY_LIMIT_DEFAULTS)).toBe(true);
  });

  it('fits the default min, initial and max around the ones given', () => {
    expect(normalizeConcurrencyLimitOptions({ max: 2 })).toMatchObject({ min: 2, initial: 2, max: 2 });
    expect(normalizeConcurrencyLimitOptions({ min: 50 })).toMatchObject({ min: 50, initial: 50, max: 200 });
    expect(normalizeConcurrencyLimitOptions({ min: 300 })).toMatchObject({ min: 300, initial: 300, max: 300 });
    expect(normalizeConcurrencyLimitOptions({ max: 10 })).toMatchObject({ min: 3, initial: 10, max: 10 });
  });

  it.each([
    [{ algorithm: 'bbr' }, /"algorithm" must be one of 'aimd', 'gradient', 'vegas' \(got "bbr"\)/],
    [{ min: 0 }, /"min" must be an integer ≥ 1 \(got 0\)/],
    [{ min: 10, max: 5 }, /"max" must be an integer ≥ 10 \(got 5\)/],
    [{ initial: 1 }, /"initial" must be an integer between 3 and 200 \(got 1\)/],
    [{ initial: 500 }, /"initial" must be an integer between 3 and 200 \(got 500\)/],
    [{ max: 2.5 }, /"max" must be an integer/],
    [{ backoffRatio: 0.2 }, /"backoffRatio" must be a finite number between 0.5 and 1 \(got 0.2\)/],
    [{ backoffRatio: 1.5 }, /"backoffRatio" must be a finite number between 0.5 and 1/],
    [{ tolerance: 0.9 }, /"tolerance" must be a finite number ≥ 1 \(got 0.9\)/],
    [{ probeIntervalMs: 0 }, /"probeIntervalMs" must be a duration ≥ 1 ms/],
    [{ probeIntervalMs: 'soon' }, /"probeIntervalMs" must be a duration/],
    [{ isDrop: true }, /"isDrop" must be a function \(got true\)/],
    [{ maxQueue: -2 }, /"maxQueue" must be an integer ≥ 0/],
    [{ queueTimeoutMs: -1 }, /"queueTimeoutMs" must be a duration/],
    [{ maxConcurrent: 4 }, /unknown option "maxConcurrent"/],
    [{ name: 7 }, /"name" must be a non-empty string/],
  ])('rejects %j at construction with a TypeError naming it', (options, message) => {
    expect(() => concurrencyLimit(options as never)).toThrow(TypeError);
    expect(() => concurrencyLimit(options as never)).toThrow(message);
    expect(() => concurrencyLimit(options as never)).toThrow(/^@palisade\/bulkhead: /);
  });

  it('accepts duration strings and every algorithm', () => {
    expect(normalizeConcurrencyLimitOptions({ probeIntervalMs: '1m', queueTimeoutMs: '250ms' })).toMatchObject({
      probeIntervalMs: 60_000,
      queueTimeoutMs: 250,
    });
    for (const algorithm of ['aimd', 'gradient', 'vegas'] as const) {
      expect(concurrencyLimit({ algorithm }).algorithm).toBe(algorithm);
    }
  });

  it('the default isDrop recognises palisade timeouts and overload rejections only', () => {
    expect(isOverloadError({ error: new TimeoutError(5) })).toBe(true);
    expect(isOverloadError({ error: new BulkheadRejectedError('queue-timeout') })).toBe(true);
    expect(isOverloadError({ error: new Error('timeout') })).toBe(false);
    expect(isOverloadError({ error: undefined })).toBe(false);
  });

  it('never validates at call time', async () => {
    const limiter = concurrencyLimit({ clock: new FakeClock() });
    await expect(limiter.execute(() => 1)).resolves.toBe(1);
  });
});
