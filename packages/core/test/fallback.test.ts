import { describe, expect, it } from 'vitest';
import { TimeoutError, isResilienceError } from '../src/errors.js';
import type { ResilienceEvent } from '../src/events.js';
import { fallback } from '../src/fallback.js';

describe('fallback()', () => {
  it('returns the handler value on failure and emits an event', async () => {
    const events: ResilienceEvent[] = [];
    const error = new Error('down');
    const p = fallback({
      handler: ({ error: e }) => `cached (${(e as Error).message})`,
      onEvent: (e) => events.push(e),
    });
    await expect(p.execute(() => Promise.reject(error))).resolves.toBe('cached (down)');
    await expect(p.execute(() => 'live')).resolves.toBe('live');
    expect(events).toMatchObject([{ type: 'fallback', policy: 'fallback', name: 'fallback', error }]);
  });

  it('lets shouldHandle choose which failures to take', async () => {
    const p = fallback({ handler: () => 'stale', shouldHandle: ({ error }) => isResilienceError(error) });
    await expect(p.execute(() => Promise.reject(new TimeoutError(10)))).resolves.toBe('stale');
    const mine = new Error('bug');
    await expect(p.execute(() => Promise.reject(mine))).rejects.toBe(mine);
  });

  it('never handles an abort by the caller', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    const p = fallback({ handler: () => 'x' });
    await expect(
      p.execute(() => Promise.reject(controller.signal.reason), { signal: controller.signal }),
    ).rejects.toThrow('user left');
  });

  it('validates its options at construction', () => {
    expect(() => fallback({} as never)).toThrow('@palisade/core: "handler" must be a function (got undefined)');
    expect(() => fallback({ handler: () => 1, shouldHandle: 3 as never })).toThrow('"shouldHandle" must be a function');
  });
});
