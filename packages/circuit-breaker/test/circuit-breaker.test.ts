import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type ResilienceEvent,
  TimeoutError,
  fromSpec,
  isRejection,
} from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { type CircuitBreakerOptions, circuitBreaker } from '../src/index.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Collects the messages of process warnings until `stop()` (after a tick: Node emits them on the next one). */
async function collectWarnings(): Promise<{ stop(): Promise<string[]> }> {
  await tick();
  const messages: string[] = [];
  const listener = (warning: Error) => messages.push(warning.message);
  process.on('warning', listener);
  return {
    async stop() {
      await tick();
      process.off('warning', listener);
      return messages;
    },
  };
}

const boom = () => Promise.reject(new Error('boom'));
const ok = () => 'ok';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
const deferred = <T = string>(): Deferred<T> => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const setup = (options: CircuitBreakerOptions = {}) => {
  const clock = new FakeClock({ now: 1_000_000 });
  const events: ResilienceEvent[] = [];
  const breaker = circuitBreaker({
    window: { kind: 'count', size: 10 },
    minimumCalls: 4,
    openMs: 1_000,
    halfOpenMaxCalls: 2,
    clock,
    onEvent: (e) => events.push(e),
    ...options,
  });
  const types = () => events.map((e) => e.type).filter((t) => t.startsWith('circuit.'));
  const fail = (n: number) => Promise.all(Array.from({ length: n }, () => breaker.execute(boom).catch(() => {})));
  const succeed = (n: number) => Promise.all(Array.from({ length: n }, () => breaker.execute(ok)));
  return { clock, events, breaker, types, fail, succeed };
};

describe('closed → open', () => {
  it('opens when the failure rate reaches the threshold once minimumCalls are recorded', async () => {
    const { breaker, succeed, fail, types, events } = setup();
    await succeed(2);
    await fail(1);
    expect(breaker.state).toBe('closed'); // 3 calls < minimumCalls 4
    await fail(1); // 2/4 = 0.5 ≥ 0.5
    expect(breaker.state).toBe('open');
    expect(types()).toEqual(['circuit.open']);
    const open = events.find((e) => e.type === 'circuit.open');
    expect(open).toMatchObject({ failureRate: 0.5, slowCallRate: 0, openMs: 1_000, policy: 'circuit-breaker' });
  });

  it('stays closed below the threshold', async () => {
    const { breaker, succeed, fail } = setup();
    await succeed(7);
    await fail(3); // 3/10
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ calls: 10, failures: 3, failureRate: 0.3 });
  });

  it('the count window forgets the oldest outcomes', async () => {
    const { breaker, succeed, fail } = setup({ failureRateThreshold: 0.6, minimumCalls: 10 });
    await fail(5);
    await succeed(5); // 5/10
    await succeed(5); // failures evicted: 0/10
    expect(breaker.stats()).toMatchObject({ calls: 10, failures: 0 });
    await fail(5); // 5/10 < 0.6
    expect(breaker.state).toBe('closed');
    await fail(1); // 6/10
    expect(breaker.state).toBe('open');
  });

  it('minimumCalls above a count window size acts as the size', async () => {
    const { breaker, fail } = setup({ minimumCalls: 1_000, window: { kind: 'count', size: 3 } });
    await fail(2);
    expect(breaker.state).toBe('closed');
    await fail(1);
    expect(breaker.state).toBe('open');
  });

  it('a success can trip it when it brings the count to minimumCalls', async () => {
    const { breaker, succeed, fail } = setup({ minimumCalls: 4 });
    await fail(3);
    expect(breaker.state).toBe('closed');
    await succeed(1); // 3/4
    expect(breaker.state).toBe('open');
  });

  it('opens on the slow-call rate (slow successes count as slow, not as failures)', async () => {
    const { breaker, clock, events } = setup({ slowCallDurationMs: 100, slowCallRateThreshold: 0.5 });
    const slowCall = async () => {
      const p = breaker.execute(() => clock.sleep(100).then(() => 'slow'));
      await clock.advance(100);
      return p;
    };
    await breaker.execute(ok);
    await breaker.execute(ok);
    await slowCall();
    expect(breaker.state).toBe('closed');
    await slowCall(); // 2 slow of 4
    expect(breaker.state).toBe('open');
    expect(events.find((e) => e.type === 'circuit.open')).toMatchObject({ failureRate: 0, slowCallRate: 0.5 });
    const durations = events.filter((e) => e.type === 'success').map((e) => (e as { durationMs?: number }).durationMs);
    expect(durations).toEqual([0, 0, 100, 100]);
  });

  it('a call just under slowCallDurationMs is not slow; Infinity turns detection off', async () => {
    const a = setup({ slowCallDurationMs: 100, slowCallRateThreshold: 0.25, minimumCalls: 1 });
    const p = a.breaker.execute(() => a.clock.sleep(99));
    await a.clock.advance(99);
    await p;
    expect(a.breaker.stats().slowCalls).toBe(0);

    const b = setup({ slowCallDurationMs: Number.POSITIVE_INFINITY, slowCallRateThreshold: 0.25, minimumCalls: 1 });
    const q = b.breaker.execute(() => b.clock.sleep(1e9));
    await b.clock.advance(1e9);
    await q;
    expect(b.breaker.stats()).toMatchObject({ calls: 1, slowCalls: 0, state: 'closed' });
  });
});

describe('cost', () => {
  it('reads no clock while closed with defaults (count window, no slow calls, no listener)', async () => {
    const clock = new FakeClock();
    let reads = 0;
    const counting = {
      now: () => {
        reads++;
        return clock.now();
      },
      sleep: clock.sleep.bind(clock),
    };
    const breaker = circuitBreaker({ clock: counting, minimumCalls: 1_000 });
    reads = 0;
    for (let i = 0; i < 10; i++) await breaker.execute(ok);
    for (let i = 0; i < 10; i++) await breaker.execute(boom).catch(() => {});
    expect(reads).toBe(0);
    expect(breaker.stats().calls).toBe(20);
  });

  it('reads the clock twice per call when timing is needed (slow calls or a listener)', async () => {
    const clock = new FakeClock();
    let reads = 0;
    const counting = {
      now: () => {
        reads++;
        return clock.now();
      },
      sleep: clock.sleep.bind(clock),
    };
    const timed = circuitBreaker({ clock: counting, slowCallDurationMs: '1s' });
    reads = 0;
    await timed.execute(ok);
    expect(reads).toBe(2);
  });
});

describe('open', () => {
  it('rejects at once without calling fn, with retryAfterMs = time left until half-open', async () => {
    const { breaker, fail, clock, events } = setup();
    await fail(4);
    await clock.advance(300);
    let called = false;
    const error = await breaker
      .execute(() => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(error).toMatchObject({ state: 'open', retryAfterMs: 700, code: 'PALISADE_BROKEN_CIRCUIT' });
    expect(isRejection(error)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'circuit.rejected', state: 'open', retryAfterMs: 700 });
    expect(breaker.stats()).toMatchObject({ state: 'open', retryAfterMs: 700, openings: 1 });
  });

  it('owns no timer: half-open is decided by the next call after openMs', async () => {
    const { breaker, fail, clock, types } = setup();
    await fail(4);
    expect(clock.pending).toBe(0);
    await clock.advance(999);
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(BrokenCircuitError);
    await clock.advance(1);
    expect(types()).toEqual(['circuit.open', 'circuit.rejected']); // nothing happened by itself
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(types()).toEqual(['circuit.open', 'circuit.rejected', 'circuit.half-open']);
  });

  it('reading state after openMs reports (and enters) half-open', async () => {
    const { breaker, fail, clock } = setup();
    await fail(4);
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
  });

  it('openMs as a backoff: repeated openings wait longer (capped exponential)', async () => {
    const seen: number[] = [];
    const { breaker, fail, clock, events } = setup({
      openMs: (openings) => {
        seen.push(openings);
        return Math.min(1_000 * 2 ** (openings - 1), 4_000);
      },
      halfOpenMaxCalls: 1,
    });
    await fail(4);
    for (const wait of [1_000, 2_000, 4_000, 4_000]) {
      expect(breaker.stats().retryAfterMs).toBe(wait);
      await clock.advance(wait);
      await fail(1); // the probe fails: open again, for longer
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(events.filter((e) => e.type === 'circuit.open').map((e) => (e as { openMs: number }).openMs)).toEqual([
      1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
    // closing resets the count
    await clock.advance(4_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await fail(4);
    expect(seen.at(-1)).toBe(1);
  });

  it('a backoff returning NaN, a negative number or throwing opens for 0 ms (a throw is reported)', async () => {
    const warnings = await collectWarnings();
    for (const openMs of [
      () => Number.NaN,
      () => -5,
      () => {
        throw new Error('bug in openMs');
      },
    ]) {
      const { breaker, fail } = setup({ openMs });
      await fail(4);
      expect(breaker.stats().retryAfterMs).toBe(0);
      expect(breaker.state).toBe('half-open');
    }
    expect(await warnings.stop()).toEqual([
      expect.stringContaining('the openMs callback threw (Error: bug in openMs)'),
    ]);
  });
});

describe('half-open', () => {
  const toHalfOpen = async (options: CircuitBreakerOptions = {}) => {
    const t = setup(options);
    await t.fail(4);
    await t.clock.advance(1_000);
    return t;
  };

  it('closes when all probes succeed, with an empty window', async () => {
    const { breaker, succeed, types } = await toHalfOpen();
    await succeed(2);
    expect(breaker.state).toBe('closed');
    expect(types()).toEqual(['circuit.open', 'circuit.half-open', 'circuit.close']);
    expect(breaker.stats()).toMatchObject({ calls: 0, failures: 0, openings: 0 });
  });

  it('re-opens when the probes failure rate reaches the threshold', async () => {
    const { breaker, succeed, fail, types } = await toHalfOpen();
    await succeed(1);
    expect(breaker.state).toBe('half-open');
    await fail(1); // 1/2 ≥ 0.5
    expect(breaker.state).toBe('open');
    expect(types()).toEqual(['circuit.open', 'circuit.half-open', 'circuit.open']);
  });

  it('closes when the probes failure rate is under the threshold', async () => {
    const { breaker, succeed, fail } = await toHalfOpen({ halfOpenMaxCalls: 4 });
    await fail(1);
    await succeed(3); // 1/4 < 0.5
    expect(breaker.state).toBe('closed');
  });

  it('many simultaneous callers: exactly halfOpenMaxCalls probes run, the others are rejected', async () => {
    const { breaker, events } = await toHalfOpen({ halfOpenMaxCalls: 3 });
    const gates = Array.from({ length: 3 }, () => deferred());
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const results = Array.from({ length: 50 }, () =>
      breaker
        .execute(async () => {
          const gate = gates[calls++] as Deferred<string>;
          running++;
          maxRunning = Math.max(maxRunning, running);
          try {
            return await gate.promise;
          } finally {
            running--;
          }
        })
        .then(
          (v) => v,
          (e: unknown) => e,
        ),
    );
    await Promise.resolve();
    expect(calls).toBe(3);
    const rejected = events.filter((e) => e.type === 'circuit.rejected');
    expect(rejected).toHaveLength(47);
    expect(rejected[0]).toMatchObject({ state: 'half-open' });
    // Still busy: more callers are rejected too.
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'half-open' });
    for (const g of gates) g.resolve('probe');
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === 'probe')).toHaveLength(3);
    expect(settled.filter((r) => r instanceof BrokenCircuitError)).toHaveLength(47);
    expect(maxRunning).toBe(3);
    expect(breaker.state).toBe('closed');
  });

  it('after all probes were admitted but before they end, nobody else gets in', async () => {
    const { breaker } = await toHalfOpen({ halfOpenMaxCalls: 1 });
    const probe = deferred();
    const p = breaker.execute(() => probe.promise);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'half-open', retryAfterMs: undefined });
    probe.resolve('done');
    await p;
    expect(breaker.state).toBe('closed');
  });

  it('slow probes re-open it', async () => {
    const { breaker, clock } = await toHalfOpen({ slowCallDurationMs: 50, slowCallRateThreshold: 0.5 });
    const p1 = breaker.execute(() => clock.sleep(60));
    const p2 = breaker.execute(ok);
    await clock.advance(60);
    await Promise.all([p1, p2]);
    expect(breaker.state).toBe('open');
  });

  it('a probe rejected by an inner policy counts as neither and frees its slot', async () => {
    const { breaker } = await toHalfOpen({ halfOpenMaxCalls: 1 });
    await expect(breaker.execute(() => Promise.reject(new BulkheadRejectedError('full')))).rejects.toBeInstanceOf(
      BulkheadRejectedError,
    );
    expect(breaker.stats()).toMatchObject({ state: 'half-open', calls: 0 });
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });
});

describe('what counts', () => {
  it("palisade's own rejections from inner policies are neither failures nor successes", async () => {
    const { breaker, events } = setup({ minimumCalls: 1 });
    for (let i = 0; i < 5; i++) {
      await breaker.execute(() => Promise.reject(new BulkheadRejectedError('full'))).catch(() => {});
    }
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 0 });
    expect(events.filter((e) => e.type === 'success' || e.type === 'failure')).toEqual([]);
  });

  it('an inner timeout is a failure (it is not a rejection)', async () => {
    const { breaker } = setup({ minimumCalls: 1 });
    await breaker.execute(() => Promise.reject(new TimeoutError(10))).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('isFailure can count a value as a failure (an HTTP 500) and an error as a success', async () => {
    class NotFound extends Error {}
    const { breaker, events } = setup({
      minimumCalls: 2,
      isFailure: ({ ok, value, error }) =>
        ok ? (value as { status: number }).status >= 500 : !(error instanceof NotFound),
    });
    await expect(breaker.execute(() => Promise.reject(new NotFound()))).rejects.toBeInstanceOf(NotFound);
    await expect(breaker.execute(() => ({ status: 200 }))).resolves.toEqual({ status: 200 });
    expect(breaker.stats()).toMatchObject({ calls: 2, failures: 0 });
    await breaker.execute(() => ({ status: 503 }));
    await breaker.execute(() => ({ status: 500 }));
    expect(breaker.state).toBe('open');
    const failure = events.find((e) => e.type === 'failure');
    expect(failure).toMatchObject({ error: undefined, value: { status: 503 } });
  });

  it('a throwing isFailure falls back to the default (errors fail, values do not), and is reported once', async () => {
    const warnings = await collectWarnings();
    const { breaker } = setup({
      minimumCalls: 2,
      isFailure: () => {
        throw new Error('bug in isFailure');
      },
    });
    await breaker.execute(ok);
    await breaker.execute(boom).catch(() => {});
    expect(breaker.stats()).toMatchObject({ calls: 2, failures: 1 });
    expect(await warnings.stop()).toEqual([
      expect.stringContaining('the isFailure callback threw (Error: bug in isFailure)'),
    ]);
  });

  it('errors and values from fn pass through unchanged; sync throws become rejections', async () => {
    const { breaker } = setup();
    const error = new Error('mine');
    await expect(
      breaker.execute(() => {
        throw error;
      }),
    ).rejects.toBe(error);
    const value = { a: 1 };
    await expect(breaker.execute(() => value)).resolves.toBe(value);
  });

  it('an outcome admitted before a transition does not count after it', async () => {
    const { breaker, fail, clock } = setup({ halfOpenMaxCalls: 1 });
    const late = deferred();
    const p = breaker.execute(() => late.promise);
    await fail(4); // opens while `late` is in flight
    await clock.advance(1_000);
    const probe = breaker.execute(ok); // half-open
    late.reject(new Error('late'));
    await p.catch(() => {});
    await probe;
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().calls).toBe(0);
  });
});

describe('time window', () => {
  it('counts only the last `ms` and forgets across long idle gaps', async () => {
    const { breaker, fail, succeed, clock } = setup({
      window: { kind: 'time', ms: 1_000, buckets: 10 },
      minimumCalls: 4,
    });
    await fail(3);
    await clock.advance(1_000); // the 3 failures leave the window
    await fail(1);
    expect(breaker.stats()).toMatchObject({ calls: 1, failures: 1, state: 'closed' });
    await clock.advance(1e9); // a very long idle gap
    expect(breaker.stats()).toMatchObject({ calls: 0, failures: 0 });
    await succeed(2);
    await fail(2); // 2/4 within one window
    expect(breaker.state).toBe('open');
  });

  it('failures spread over more than a window never accumulate', async () => {
    const { breaker, fail, succeed, clock } = setup({
      window: { kind: 'time', ms: 1_000, buckets: 10 },
      minimumCalls: 4,
    });
    for (let i = 0; i < 20; i++) {
      await succeed(2);
      await fail(1);
      await clock.advance(400);
    }
    expect(breaker.state).toBe('closed');
  });
});

describe('isolate and reset', () => {
  it('isolate() holds it open until every handle is disposed, then closes', async () => {
    const { breaker, types, clock } = setup();
    const a = breaker.isolate();
    const b = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(error).toMatchObject({ state: 'isolated', retryAfterMs: undefined });
    await clock.advance(1e6);
    expect(breaker.state).toBe('isolated');
    a.dispose();
    a.dispose(); // harmless
    expect(breaker.state).toBe('isolated');
    b.dispose();
    expect(breaker.state).toBe('closed');
    expect(types()).toEqual(['circuit.isolated', 'circuit.rejected', 'circuit.close']);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('isolate() works from open and half-open; the handle supports Symbol.dispose', async () => {
    const { breaker, fail, clock } = setup();
    await fail(4);
    {
      const hold = breaker.isolate();
      expect(breaker.state).toBe('isolated');
      (hold as unknown as Record<symbol, () => void>)[Symbol.dispose]?.();
    }
    expect(breaker.state).toBe('closed');
    await fail(4);
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    const hold = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    hold.dispose();
    expect(breaker.state).toBe('closed');
  });

  it('reset() closes, forgets outcomes and openings, and ends isolation (old handles do nothing)', async () => {
    const { breaker, fail, types } = setup();
    await fail(3);
    breaker.reset();
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 0 });
    expect(types()).toEqual([]); // it was closed already
    await fail(4);
    breaker.reset();
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 0, openings: 0 });
    const hold = breaker.isolate();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    const again = breaker.isolate();
    hold.dispose(); // belongs to the ended isolation
    expect(breaker.state).toBe('isolated');
    again.dispose();
    expect(types()).toEqual([
      'circuit.open',
      'circuit.close',
      'circuit.isolated',
      'circuit.close',
      'circuit.isolated',
      'circuit.close',
    ]);
  });
});

describe('stats and events', () => {
  it('stats() reports the state, since when, counts and rates', async () => {
    const { breaker, fail, succeed, clock } = setup({ minimumCalls: 10 });
    const since = clock.now();
    await clock.advance(5);
    await succeed(3);
    await fail(1);
    expect(breaker.stats()).toEqual({
      state: 'closed',
      since,
      calls: 4,
      failures: 1,
      slowCalls: 0,
      failureRate: 0.25,
      slowCallRate: 0,
      openings: 0,
      retryAfterMs: undefined,
    });
  });

  it('success and failure events carry durationMs, the key and the error', async () => {
    const { breaker, events, clock } = setup();
    const error = new Error('x');
    const p = breaker.execute(() => clock.sleep(30).then(() => Promise.reject(error)), { key: 'api' }).catch(() => {});
    await clock.advance(30);
    await p;
    await breaker.execute(ok, { key: 'api' });
    expect(events).toMatchObject([
      { type: 'failure', policy: 'circuit-breaker', name: 'circuit-breaker', key: 'api', durationMs: 30, error },
      { type: 'success', key: 'api', durationMs: 0 },
    ]);
  });

  it('a throwing listener changes nothing', async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({
      clock,
      minimumCalls: 1,
      onEvent: () => {
        throw new Error('listener');
      },
    });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
  });

  it('has the given name', () => {
    expect(circuitBreaker().name).toBe('circuit-breaker');
    expect(circuitBreaker({ name: 'users-db' }).name).toBe('users-db');
  });
});

describe('declarative specs', () => {
  it('fromSpec() builds it from plain JSON data, validating at construction', async () => {
    const clock = new FakeClock();
    const json = JSON.parse(
      '{ "circuitBreaker": { "minimumCalls": 2, "window": { "kind": "time", "ms": "10s" }, "openMs": "5s" } }',
    );
    const policy = fromSpec(json, { factories: { circuitBreaker }, clock });
    await policy.execute(boom).catch(() => {});
    await policy.execute(boom).catch(() => {});
    await expect(policy.execute(ok)).rejects.toMatchObject({ state: 'open', retryAfterMs: 5_000 });
    expect(fromSpec({ circuitBreaker: true }, { factories: { circuitBreaker } }).name).toBe('circuitBreaker');
    expect(() => fromSpec({ circuitBreaker: { openMs: 'soon' } }, { factories: { circuitBreaker } })).toThrow(
      /circuitBreaker: @palisade\/circuit-breaker: "openMs" must be a duration/,
    );
  });
});
