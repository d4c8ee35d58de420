import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import {
  CIRCUIT_BREAKER_DEFAULTS,
  KEYED_DEFAULTS,
  circuitBreaker,
  keyed,
  normalizeCircuitBreakerOptions,
} from '../src/index.js';

describe('circuitBreaker options', () => {
  it('normalizes {} to the documented defaults', () => {
    const { name, clock, emit, ...rest } = normalizeCircuitBreakerOptions({});
    expect(rest).toEqual(CIRCUIT_BREAKER_DEFAULTS);
    expect(rest.isFailure).toBe(CIRCUIT_BREAKER_DEFAULTS.isFailure);
    expect(name).toBe('circuit-breaker');
    expect(emit).toBeUndefined();
    expect(Object.isFrozen(CIRCUIT_BREAKER_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(CIRCUIT_BREAKER_DEFAULTS.window)).toBe(true);
  });

  it('the defaults are resilience4j’s, except that slow-call detection is off', () => {
    expect(CIRCUIT_BREAKER_DEFAULTS).toMatchObject({
      failureRateThreshold: 0.5,
      slowCallDurationMs: Number.POSITIVE_INFINITY,
      slowCallRateThreshold: 1,
      minimumCalls: 100,
      window: { kind: 'count', size: 100 },
      openMs: 60_000,
      halfOpenMaxCalls: 10,
    });
    expect(CIRCUIT_BREAKER_DEFAULTS.isFailure({ ok: false, error: new Error('x') })).toBe(true);
    expect(CIRCUIT_BREAKER_DEFAULTS.isFailure({ ok: true, value: 500 })).toBe(false);
  });

  it('accepts durations, Infinity for slowCallDurationMs, a backoff for openMs and time windows', () => {
    const backoff = (n: number) => n * 1_000;
    const n = normalizeCircuitBreakerOptions({
      slowCallDurationMs: '2s',
      openMs: backoff,
      window: { kind: 'time', ms: '1m', buckets: 12 },
    });
    expect(n).toMatchObject({
      slowCallDurationMs: 2_000,
      openMs: backoff,
      window: { kind: 'time', ms: 60_000, buckets: 12 },
    });
    expect(normalizeCircuitBreakerOptions({ openMs: '30s' }).openMs).toBe(30_000);
    expect(normalizeCircuitBreakerOptions({ openMs: 0 }).openMs).toBe(0);
    expect(normalizeCircuitBreakerOptions({ slowCallDurationMs: Number.POSITIVE_INFINITY }).slowCallDurationMs).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it.each([
    [{ failureRateThreshold: 0 }, /"failureRateThreshold" must be a fraction greater than 0 and at most 1 \(got 0\)/],
    [{ failureRateThreshold: 50 }, /"failureRateThreshold" must be a fraction between 0 and 1 \(got 50\)/],
    [{ failureRateThreshold: '0.5' }, /"failureRateThreshold" must be a fraction/],
    [{ slowCallRateThreshold: 1.5 }, /"slowCallRateThreshold" must be a fraction/],
    [{ slowCallRateThreshold: 0 }, /"slowCallRateThreshold" must be a fraction greater than 0/],
    [{ slowCallDurationMs: 0 }, /"slowCallDurationMs" must be a duration ≥ 1/],
    [{ slowCallDurationMs: 'slow' }, /"slowCallDurationMs" must be a duration/],
    [{ slowCallDurationMs: Number.NaN }, /"slowCallDurationMs" must be a duration/],
    [{ minimumCalls: 0 }, /"minimumCalls" must be an integer ≥ 1 \(got 0\)/],
    [{ minimumCalls: 1.5 }, /"minimumCalls" must be an integer/],
    [{ window: 'count' }, /"window" must be a window/],
    [{ window: { kind: 'count', size: 0 } }, /"window.size" must be an integer between 1 and/],
    [{ window: { kind: 'time', ms: -1 } }, /"window.ms" must be a duration/],
    [{ window: { kind: 'rolling', size: 5 } }, /"window.kind" must be one of 'count', 'time'/],
    [{ openMs: -1 }, /"openMs" must be a duration ≥ 0/],
    [{ openMs: '1 minute' }, /"openMs" must be a duration/],
    [{ halfOpenMaxCalls: 0 }, /"halfOpenMaxCalls" must be an integer between 1 and 1000000 \(got 0\)/],
    [{ isFailure: true }, /"isFailure" must be a function \(got true\)/],
    [{ name: '' }, /"name" must be a non-empty string/],
    [{ clock: { now: 1 } }, /"clock" must be a Clock/],
    [{ onEvent: 'log' }, /"onEvent" must be a function/],
    [{ failureThreshold: 0.5 }, /unknown option "failureThreshold"/],
  ])('rejects %j at construction with a TypeError naming it', (options, message) => {
    expect(() => circuitBreaker(options as never)).toThrow(TypeError);
    expect(() => circuitBreaker(options as never)).toThrow(message);
    expect(() => circuitBreaker(options as never)).toThrow(/^@palisade\/circuit-breaker: /);
  });

  it('rejects a non-object', () => {
    expect(() => circuitBreaker(5 as never)).toThrow(/circuitBreaker\(\) takes an options object \(got 5\)/);
  });

  it('validates an options object once and shares it between breakers', () => {
    const clock = new FakeClock();
    const options = { clock, minimumCalls: 1 };
    const a = circuitBreaker(options);
    const b = circuitBreaker(options);
    expect(a).not.toBe(b);
    // Each breaker keeps its own state.
    return a
      .execute(() => Promise.reject(new Error('x')))
      .catch(() => {
        expect(a.state).toBe('open');
        expect(b.state).toBe('closed');
      });
  });

  it('never validates at call time', async () => {
    const b = circuitBreaker({ clock: new FakeClock() });
    await expect(b.execute(() => 1)).resolves.toBe(1);
  });
});

describe('keyed options', () => {
  const factory = () => circuitBreaker();

  it('has frozen documented defaults', () => {
    expect(KEYED_DEFAULTS).toEqual({ maxKeys: 1_000, idleMs: 600_000, name: 'keyed' });
    expect(Object.isFrozen(KEYED_DEFAULTS)).toBe(true);
    expect(keyed(factory).name).toBe('keyed');
    expect(keyed(factory, { name: 'per-host' }).name).toBe('per-host');
  });

  it.each([
    [{ maxKeys: 0 }, /"maxKeys" must be an integer between 1 and/],
    [{ maxKeys: 1.5 }, /"maxKeys" must be an integer/],
    [{ idleMs: -1 }, /"idleMs" must be a duration/],
    [{ idleMs: 'ten minutes' }, /"idleMs" must be a duration/],
    [{ name: 3 }, /"name" must be a non-empty string/],
    [{ clock: {} }, /"clock" must be a Clock/],
    [{ max: 5 }, /unknown option "max"/],
  ])('rejects %j with a TypeError naming it', (options, message) => {
    expect(() => keyed(factory, options as never)).toThrow(TypeError);
    expect(() => keyed(factory, options as never)).toThrow(message);
    expect(() => keyed(factory, options as never)).toThrow(/^@palisade\/circuit-breaker: /);
  });

  it('rejects a factory that is not a function', () => {
    expect(() => keyed({} as never)).toThrow(/keyed\(\) takes a factory function/);
  });
});
