import { describe, expect, it } from 'vitest';
import { createValidator, optionsObject } from '../src/validate.js';

const check = createValidator('@palisade/test');

describe('createValidator', () => {
  it('returns the fallback for undefined and the value when valid', () => {
    expect(check.integer('maxAttempts', undefined, 3, { min: 1 })).toBe(3);
    expect(check.integer('maxAttempts', 5, 3, { min: 1 })).toBe(5);
    expect(check.fraction('ratio', 0.2, 0.1)).toBe(0.2);
    expect(check.percent('budgetPercent', 10, 5)).toBe(10);
    expect(check.duration('openMs', '2s', 1)).toBe(2_000);
    expect(check.oneOf('strategy', 'aggressive', ['cooperative', 'aggressive'], 'cooperative')).toBe('aggressive');
    expect(check.boolean('flag', false, true)).toBe(false);
    expect(check.string('name', 'x', 'y')).toBe('x');
    const f = () => 1;
    expect(check.func('fn', f)).toBe(f);
    expect(check.func('fn', undefined)).toBeUndefined();
  });

  it('throws one message format naming package, option and value', () => {
    expect(() => check.integer('maxAttempts', 0, 3, { min: 1 })).toThrow(
      new TypeError('@palisade/test: "maxAttempts" must be an integer ≥ 1 (got 0)'),
    );
    expect(() => check.integer('n', 1.5, 3)).toThrow('"n" must be an integer (got 1.5)');
    expect(() => check.fraction('ratio', 2, 0)).toThrow('"ratio" must be a fraction between 0 and 1 (got 2)');
    expect(() => check.percent('p', -1, 0)).toThrow('"p" must be a percentage between 0 and 100 (got -1)');
    expect(() => check.duration('ms', '2 weeks', 0)).toThrow(/"ms" must be a duration .*\(got "2 weeks"\)/);
    expect(() => check.duration('ms', 0, 1, { min: 1 })).toThrow(/"ms" must be a duration ≥ 1 ms/);
    expect(() => check.oneOf('strategy', 'eager', ['a', 'b'], 'a')).toThrow(
      `"strategy" must be one of 'a', 'b' (got "eager")`,
    );
    expect(() => check.func('isFailure', 'yes')).toThrow('"isFailure" must be a function (got "yes")');
    expect(() => check.number('x', Number.NaN, 0)).toThrow('"x" must be a finite number (got NaN)');
    expect(() => check.boolean('b', 'true', false)).toThrow('"b" must be true or false (got "true")');
  });

  it('names unknown keys, with their path', () => {
    expect(() => check.knownKeys({ maxAtempts: 3 }, ['maxAttempts'], 'retry')).toThrow(
      '@palisade/test: unknown option "retry.maxAtempts" (known: maxAttempts)',
    );
    expect(() => check.knownKeys({ maxAttempts: 3 }, ['maxAttempts'])).not.toThrow();
  });

  it('optionsObject accepts undefined and objects only', () => {
    expect(optionsObject('@palisade/test', 'retry', undefined)).toEqual({});
    expect(() => optionsObject('@palisade/test', 'retry', 3 as never)).toThrow(
      '@palisade/test: retry() takes an options object (got 3)',
    );
  });
});
