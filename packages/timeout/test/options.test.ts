import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { TIMEOUT_DEFAULTS, normalizeTimeoutOptions, timeout } from '../src/index.js';

describe('timeout options', () => {
  it('normalizes {} to the documented defaults', () => {
    const { ms, strategy, name } = normalizeTimeoutOptions({});
    expect({ ms, strategy }).toEqual(TIMEOUT_DEFAULTS);
    expect(name).toBe('timeout');
    expect(Object.isFrozen(TIMEOUT_DEFAULTS)).toBe(true);
  });

  it('accepts duration strings', () => {
    expect(timeout({ ms: '2s' }).ms).toBe(2_000);
    expect(timeout({ ms: '250ms', strategy: 'aggressive' })).toMatchObject({ ms: 250, strategy: 'aggressive' });
  });

  it.each([
    [{ ms: 0 }, /"ms" must be a duration ≥ 1 ms/],
    [{ ms: -5 }, /"ms" must be a duration/],
    [{ ms: '2 seconds' }, /"ms" must be a duration .*got "2 seconds"/],
    [{ ms: Number.NaN }, /"ms" must be a duration/],
    [{ strategy: 'eager' }, /"strategy" must be one of 'cooperative', 'aggressive' \(got "eager"\)/],
    [{ name: '' }, /"name" must be a non-empty string/],
    [{ clock: {} }, /"clock" must be a Clock/],
    [{ onEvent: 'log' }, /"onEvent" must be a function/],
    [{ msec: 5 }, /unknown option "msec"/],
  ])('rejects %j at construction with a TypeError naming it', (options, message) => {
    expect(() => timeout(options as never)).toThrow(TypeError);
    expect(() => timeout(options as never)).toThrow(message);
    expect(() => timeout(options as never)).toThrow(/^@palisade\/timeout: /);
  });

  it('never validates at call time', async () => {
    const t = timeout({ ms: 10, clock: new FakeClock() });
    await expect(t.execute(() => 1)).resolves.toBe(1);
  });
});
