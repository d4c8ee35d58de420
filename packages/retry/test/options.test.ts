import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import {
  RETRY_BUDGET_DEFAULTS,
  RETRY_DEFAULTS,
  constant,
  exponential,
  normalizeRetryOptions,
  retry,
  retryBudget,
} from '../src/index.js';

describe('retry options', () => {
  it('normalizes {} to the documented defaults', () => {
    const n = normalizeRetryOptions({});
    expect({ maxAttempts: n.maxAttempts, maxDelayMs: n.maxDelayMs, retryOn: n.retryOn, random: n.random }).toEqual({
      maxAttempts: RETRY_DEFAULTS.maxAttempts,
      maxDelayMs: RETRY_DEFAULTS.maxDelayMs,
      retryOn: RETRY_DEFAULTS.retryOn,
      random: RETRY_DEFAULTS.random,
    });
    expect(n.backoff).toMatchObject(RETRY_DEFAULTS.backoff);
    expect(n.budget).toMatchObject(RETRY_DEFAULTS.budget);
    expect(RETRY_DEFAULTS.budget).toEqual(RETRY_BUDGET_DEFAULTS);
    expect(n.name).toBe('retry');
    expect(n.checkValues).toBe(false);
    expect(n.emit).toBeUndefined();
    expect(normalizeRetryOptions()).toMatchObject({ maxAttempts: 3, maxDelayMs: 30_000 });
  });

  it('has frozen defaults with the documented values', () => {
    expect(Object.isFrozen(RETRY_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(RETRY_DEFAULTS.backoff)).toBe(true);
    expect(Object.isFrozen(RETRY_DEFAULTS.budget)).toBe(true);
    expect(RETRY_DEFAULTS).toMatchObject({
      maxAttempts: 3,
      backoff: { type: 'exponential', initialMs: 100, maxMs: 10_000, factor: 2, jitter: 'full' },
      budget: { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 },
      maxDelayMs: 30_000,
      random: Math.random,
    });
  });

  it('accepts duration strings wherever a time is asked for', () => {
    const n = normalizeRetryOptions({
      maxDelayMs: '5s',
      backoff: { type: 'exponential', initialMs: '250ms', maxMs: '1m' },
      budget: { windowMs: '30s' },
    });
    expect(n.maxDelayMs).toBe(5_000);
    expect(n.backoff).toMatchObject({ initialMs: 250, maxMs: 60_000 });
    expect(n.budget?.windowMs).toBe(30_000);
    expect(constant({ ms: '1.5s' }).ms).toBe(1_500);
  });

  it('takes backoffs in every form', () => {
    const made = exponential({ jitter: 'equal' });
    expect(normalizeRetryOptions({ backoff: made }).backoff).toBe(made);
    const fn = (n: number) => n;
    expect(normalizeRetryOptions({ backoff: fn }).backoff).toBe(fn);
    expect(normalizeRetryOptions({ backoff: { type: 'constant', ms: 20 } }).backoff).toMatchObject({
      type: 'constant',
      ms: 20,
    });
    expect(normalizeRetryOptions({ backoff: { type: 'exponential' } }).backoff).toMatchObject(RETRY_DEFAULTS.backoff);
  });

  it('takes budgets in every form', () => {
    const shared = retryBudget();
    expect(normalizeRetryOptions({ budget: shared }).budget).toBe(shared);
    expect(normalizeRetryOptions({ budget: false }).budget).toBeUndefined();
    expect(normalizeRetryOptions({ budget: { ratio: 0.5 } }).budget).toMatchObject({
      ratio: 0.5,
      minPerSecond: 10,
      windowMs: 10_000,
    });
  });

  it('a given retryOn also sees values', () => {
    expect(normalizeRetryOptions({ retryOn: () => false }).checkValues).toBe(true);
  });

  it.each([
    [{ maxAttempts: 0 }, /"maxAttempts" must be an integer ≥ 1 \(got 0\)/],
    [{ maxAttempts: 2.5 }, /"maxAttempts" must be an integer/],
    [{ maxAttempts: '3' }, /"maxAttempts" must be an integer .*got "3"/],
    [{ maxAttempts: Number.POSITIVE_INFINITY }, /"maxAttempts" must be an integer/],
    [{ maxDelayMs: -1 }, /"maxDelayMs" must be a duration/],
    [{ maxDelayMs: '5 seconds' }, /"maxDelayMs" must be a duration .*got "5 seconds"/],
    [{ retryOn: true }, /"retryOn" must be a function \(got true\)/],
    [{ random: 0.5 }, /"random" must be a function \(got 0.5\)/],
    [{ backoff: 100 }, /"backoff" must be a backoff: constant/],
    [{ backoff: null }, /"backoff" must be a backoff/],
    [{ backoff: { type: 'linear' } }, /"backoff.type" must be one of 'constant', 'exponential' \(got "linear"\)/],
    [{ backoff: {} }, /"backoff.type" must be one of/],
    [{ backoff: { type: 'constant' } }, /"backoff.ms" must be a duration/],
    [{ backoff: { type: 'constant', ms: '1 sec' } }, /"backoff.ms" must be a duration/],
    [{ backoff: { type: 'constant', ms: 5, initialMs: 1 } }, /unknown option "backoff.initialMs"/],
    [{ backoff: { type: 'exponential', initialMs: -1 } }, /"backoff.initialMs" must be a duration/],
    [{ backoff: { type: 'exponential', initialMs: 500, maxMs: 100 } }, /"backoff.maxMs" must be a duration ≥ 500/],
    [{ backoff: { type: 'exponential', factor: 0.5 } }, /"backoff.factor" must be a finite number ≥ 1/],
    [
      { backoff: { type: 'exponential', jitter: 'half' } },
      /"backoff.jitter" must be one of 'none', 'full', 'equal', 'decorrelated'/,
    ],
    [{ backoff: { type: 'exponential', base: 5 } }, /unknown option "backoff.base"/],
    [{ budget: true }, /"budget" must be a retryBudget\(\), budget options or false \(got true\)/],
    [{ budget: 0.2 }, /"budget" must be a retryBudget/],
    [{ budget: { ratio: -0.1 } }, /"budget.ratio" must be a finite number ≥ 0/],
    [{ budget: { minPerSecond: 'ten' } }, /"budget.minPerSecond" must be a finite number ≥ 0/],
    [{ budget: { windowMs: 0 } }, /"budget.windowMs" must be a duration ≥ 10/],
    [{ budget: { percent: 20 } }, /unknown option "budget.percent"/],
    [{ name: '' }, /"name" must be a non-empty string/],
    [{ clock: {} }, /"clock" must be a Clock/],
    [{ onEvent: 'log' }, /"onEvent" must be a function/],
    [{ retries: 2 }, /unknown option "retries"/],
  ])('rejects %j at construction with a TypeError naming it', (options, message) => {
    expect(() => retry(options as never)).toThrow(TypeError);
    expect(() => retry(options as never)).toThrow(message);
    expect(() => retry(options as never)).toThrow(/^@palisade\/retry: /);
  });

  it('rejects a non-object options argument', () => {
    expect(() => retry(3 as never)).toThrow(/@palisade\/retry: retry\(\) takes an options object \(got 3\)/);
  });

  it.each([
    [() => constant({} as never), /"ms" must be a duration/],
    [() => constant(5 as never), /constant\(\) takes an options object/],
    [() => constant({ ms: 5, type: 'constant' } as never), /unknown option "type"/],
    [() => exponential({ initialMs: '1 sec' as never }), /"initialMs" must be a duration/],
    [() => exponential({ factor: Number.NaN }), /"factor" must be a finite number ≥ 1/],
    [() => exponential({ jitter: 'random' as never }), /"jitter" must be one of/],
    [() => exponential({ maxMs: 10, initialMs: 20 }), /"maxMs" must be a duration ≥ 20/],
    [() => retryBudget({ ratio: Number.NaN }), /"ratio" must be a finite number ≥ 0/],
    [() => retryBudget({ windowMs: '1 day' as never }), /"windowMs" must be a duration/],
    [() => retryBudget({ clock: { now: 5 } as never }), /"clock" must be a Clock/],
    [() => retryBudget({ perSecond: 5 } as never), /unknown option "perSecond"/],
  ])('backoff and budget factories validate too (%#)', (make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
    expect(make).toThrow(/^@palisade\/retry: /);
  });

  it('never validates at call time', async () => {
    const r = retry({ clock: new FakeClock() });
    await expect(r.execute(() => 1)).resolves.toBe(1);
  });
});
