import { describe, expect, it } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  DeadlineExceededError,
  RateLimitedError,
  ResilienceError,
  RetryBudgetExhaustedError,
  TimeoutError,
  isRejection,
  isResilienceError,
} from '../src/errors.js';

describe('error family', () => {
  const cause = new Error('boom');
  const cases = [
    [new TimeoutError(250), 'PALISADE_TIMEOUT', 'timeout', undefined],
    [new DeadlineExceededError(1_000), 'PALISADE_DEADLINE_EXCEEDED', 'timeout', undefined],
    [new BrokenCircuitError('open', { retryAfterMs: 1_500 }), 'PALISADE_BROKEN_CIRCUIT', 'circuit-breaker', 1_500],
    [new BulkheadRejectedError('full'), 'PALISADE_BULKHEAD_REJECTED', 'bulkhead', undefined],
    [
      new RateLimitedError({ limit: 10, remaining: 0, resetMs: 900, retryAfterMs: 100 }),
      'PALISADE_RATE_LIMITED',
      'rate-limit',
      100,
    ],
    [new RetryBudgetExhaustedError({ cause }), 'PALISADE_RETRY_BUDGET_EXHAUSTED', 'retry', undefined],
  ] as const;

  it.each(cases)('%s has its code, policy and retryAfterMs', (error, code, policy, retryAfterMs) => {
    expect(error).toBeInstanceOf(ResilienceError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.policy).toBe(policy);
    expect(error.retryAfterMs).toBe(retryAfterMs);
    expect(error.name).toBe(error.constructor.name);
    expect(isResilienceError(error)).toBe(true);
  });

  it('carries cause and the rate limit info', () => {
    expect(new RetryBudgetExhaustedError({ cause }).cause).toBe(cause);
    const limited = new RateLimitedError({ limit: 10, remaining: 0, resetMs: 900, retryAfterMs: 100, windowMs: 1_000 });
    expect(limited).toMatchObject({ limit: 10, remaining: 0, resetMs: 900, retryAfterMs: 100, windowMs: 1_000 });
    expect(new TimeoutError(250).timeoutMs).toBe(250);
    expect(new BulkheadRejectedError('queue-timeout').reason).toBe('queue-timeout');
    expect(new BrokenCircuitError('half-open').state).toBe('half-open');
  });

  it('recognises an error from another copy of core by its brand', () => {
    const foreign = Object.assign(new Error('x'), { code: 'PALISADE_RATE_LIMITED' });
    Object.defineProperty(foreign, Symbol.for('palisade.resilience-error'), { value: true });
    expect(foreign instanceof ResilienceError).toBe(false);
    expect(isResilienceError(foreign)).toBe(true);
    expect(isRejection(foreign)).toBe(true);
    expect(isResilienceError(new Error('x'))).toBe(false);
    expect(isResilienceError(null)).toBe(false);
  });

  it('isRejection is true only for "fn never ran, do not come back yet"', () => {
    expect(isRejection(new BrokenCircuitError('open'))).toBe(true);
    expect(isRejection(new BulkheadRejectedError('full'))).toBe(true);
    expect(isRejection(new RetryBudgetExhaustedError())).toBe(true);
    expect(isRejection(new TimeoutError(1))).toBe(false);
    expect(isRejection(new Error('x'))).toBe(false);
  });
});
