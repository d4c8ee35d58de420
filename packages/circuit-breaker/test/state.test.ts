import { describe, expect, it } from 'vitest';
import { closedState, halfOpenState, isolatedState, openState, rate, tripped } from '../src/state.js';

describe('state machine data', () => {
  it('each state is a plain discriminated object with the time it began', () => {
    expect(closedState(5)).toEqual({ kind: 'closed', since: 5 });
    expect(openState(5, 100)).toEqual({ kind: 'open', since: 5, until: 105 });
    expect(halfOpenState(7)).toEqual({ kind: 'half-open', since: 7, started: 0, ended: 0, failures: 0, slowCalls: 0 });
    expect(isolatedState(9)).toEqual({ kind: 'isolated', since: 9, holds: 1 });
  });

  it('a transition is a new object: state identity is the epoch calls are counted in', () => {
    expect(closedState(1)).not.toBe(closedState(1));
  });

  it.each([
    [0, 0, 0],
    [1, 4, 0.25],
    [4, 4, 1],
  ])('rate(%i, %i) = %d', (part, calls, expected) => {
    expect(rate(part, calls)).toBe(expected);
  });

  const t = { failureRateThreshold: 0.5, slowCallRateThreshold: 1 };
  it.each([
    [0, 0, 0, false],
    [4, 1, 0, false],
    [4, 2, 0, true], // reaching the threshold trips it
    [4, 0, 3, false],
    [4, 0, 4, true],
    [3, 3, 3, true],
  ])('tripped(calls %i, failures %i, slow %i) = %s', (calls, failures, slow, expected) => {
    expect(tripped(calls, failures, slow, t)).toBe(expected);
  });
});
