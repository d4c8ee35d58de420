// A pipeline of fusable policies (cooperative timeout, retry, circuit breaker) runs a call without a
// caller signal around one promise; with a signal, layered, each policy around the next. Users
// must not be able to tell the two apart except by speed: same outcome, same events, same state.
import { bulkhead } from '@palisade/bulkhead';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { type RetryOutcome, retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, TimeoutError } from '../src/errors.js';
import type { ResilienceEvent } from '../src/events.js';
import { type Settler, isFusable } from '../src/fuse.js';
import { executeWith, pipeline } from '../src/pipeline.js';
import { invoke } from '../src/noop.js';
import type { Context, ExecuteOptions, Policy } from '../src/policy.js';
import { abortReason, onContextAbort } from '../src/signal.js';
import { FakeClock, countAbortListeners } from '../src/testing/index.js';

class Transient extends Error {
  override name = 'Transient';
}

interface Scenario {
  name: string;
  /** What attempt `n` (1-based) does, given the clock. */
  attempt: (n: number, ctx: Context, clock: FakeClock) => Promise<string> | string;
  /** Calls made one after another (a breaker's window fills across them). */
  calls?: number;
  retryValues?: boolean;
  /** When (clock ms) the caller aborts its signal, if it does. */
  abortAt?: number | undefined;
  /** The timeout outside retry. @default 1_000 */
  timeoutMs?: number;
  /** A timeout of each attempt, innermost (inside the breaker), if any. */
  attemptTimeoutMs?: number | undefined;
  /** The order of timeout (0), retry (1) and breaker (2), outermost first. @default [0, 1, 2] */
  order?: readonly number[];
  /** Where a bulkhead (which never fuses) goes in the pipeline, if anywhere. */
  bulkheadAt?: number | undefined;
}

const wait = (clock: FakeClock, ms: number, value: string, signal?: AbortSignal) =>
  clock.sleep(ms, signal).then(() => value);

const SCENARIOS: Scenario[] = [
  { name: 'succeeds at once', attempt: () => Promise.resolve('ok') },
  { name: 'succeeds synchronously', attempt: () => 'ok' },
  {
    name: 'fails twice, then succeeds',
    attempt: (n) => (n < 3 ? Promise.reject(new Transient(`attempt ${n}`)) : Promise.resolve('ok')),
  },
  {
    name: 'throws synchronously, then succeeds',
    attempt: (n) => {
      if (n === 1) throw new Transient('sync');
      return 'ok';
    },
  },
  { name: 'always fails', attempt: (n) => Promise.reject(new Transient(`attempt ${n}`)) },
  {
    name: 'outlasts the timeout, cooperatively ending on its signal',
    attempt: (_n, ctx, clock) => wait(clock, 5_000, 'late', ctx.signal),
  },
  { name: 'outlasts the timeout, ignoring its signal', attempt: (_n, _ctx, clock) => wait(clock, 5_000, 'late') },
  { name: 'returns a value retryOn retries', attempt: (n) => (n < 3 ? 'busy' : 'ok'), retryValues: true },
  {
    name: 'fails until the breaker opens, then is refused',
    attempt: (n) => Promise.reject(new Transient(`attempt ${n}`)),
    calls: 4,
  },
  {
    name: 'the caller aborts during attempt 1, which ends on its signal',
    attempt: (_n, ctx, clock) => wait(clock, 5_000, 'late', ctx.signal),
    abortAt: 50,
  },
  {
    name: 'the caller aborts during attempt 1, which ignores it and succeeds later',
    attempt: (_n, _ctx, clock) => wait(clock, 500, 'late'),
    abortAt: 50,
  },
  {
    name: 'retry innermost: the caller aborts during attempt 1, which ignores it and succeeds later',
    attempt: (_n, _ctx, clock) => wait(clock, 500, 'late'),
    abortAt: 50,
    order: [0, 2, 1],
  },
  {
    name: 'the caller aborts during the backoff',
    attempt: (n) => Promise.reject(new Transient(`attempt ${n}`)),
    abortAt: 50,
  },
  {
    name: 'the caller aborts during attempt 2',
    attempt: (n, ctx, clock) =>
      n === 1 ? Promise.reject(new Transient('attempt 1')) : wait(clock, 5_000, 'late', ctx.signal),
    abortAt: 150,
  },
];

/** The same policy, without the fused protocol: what a pipeline runs layered. */
const layer = (policy: Policy): Policy => ({
  name: policy.name,
  execute: (fn, options) => policy.execute(fn, options),
});

/**
 * `fn`, stopping when its Context aborts: settled with the Context's reason a microtask later,
 * whatever `fn` does, as an adapter's work does (createFetch's attempt has undici fail the request).
 */
function honouring<T>(fn: (ctx: Context) => Promise<T> | T): (ctx: Context) => Promise<T> {
  return (ctx) =>
    new Promise<T>((resolve, reject) => {
      const stop = () => queueMicrotask(() => reject(abortReason(ctx)));
      if (!onContextAbort(ctx, stop)) throw new Error('not a palisade Context');
      invoke(fn, ctx).then(resolve, reject);
    });
}

/**
 * An adapter's own end of the call that runs the work itself (see `Settler.work`), the way
 * createFetch does: `fn` as {@link honouring} has it, its outcome settling the fused call.
 */
function adapter(fn: (ctx: Context) => Promise<unknown> | unknown): Settler {
  return {
    settle: () => undefined,
    work: (ctx, call) =>
      honouring(fn)(ctx).then(
        (value) => call.finish(true, value),
        (error: unknown) => call.finish(false, error),
      ),
  };
}

/**
 * Runs a scenario through timeout(retry(breaker(fn))), fused or layered, with or without a caller
 * signal; returns everything a user could observe. `'adapter'`: fused, its work run by an adapter
 * (see {@link adapter}); compare it with `'layered-honouring'`, layered around the same work.
 */
async function play(scenario: Scenario, mode: boolean | 'adapter' | 'layered-honouring', withSignal: boolean) {
  const fused = mode === true || mode === 'adapter';
  const clock = new FakeClock();
  const events: string[] = [];
  const onEvent = (e: ResilienceEvent) => {
    const detail = 'attempt' in e ? ` #${e.attempt}` : '';
    const error = 'error' in e && e.error instanceof Error ? ` ${e.error.name}: ${e.error.message}` : '';
    events.push(`${clock.now()} ${e.policy} ${e.type}${detail}${error}`);
  };
  const breaker = circuitBreaker({ clock, onEvent, minimumCalls: 4, failureRateThreshold: 0.5, openMs: 60_000 });
  const three: Policy[] = [
    timeout({ ms: scenario.timeoutMs ?? 1_000, clock, onEvent }),
    retry({
      clock,
      onEvent,
      maxAttempts: 3,
      budget: false,
      backoff: () => 100,
      ...(scenario.retryValues ? { retryOn: (o: RetryOutcome) => 'value' in o && o.value === 'busy' } : {}),
    }),
    breaker,
  ];
  const policies = (scenario.order ?? [0, 1, 2]).map((i) => three[i] as Policy);
  if (scenario.attemptTimeoutMs !== undefined) {
    policies.push(timeout({ ms: scenario.attemptTimeoutMs, clock, onEvent, name: 'attempt' }));
  }
  if (scenario.bulkheadAt !== undefined) {
    policies.splice(scenario.bulkheadAt, 0, bulkhead({ maxConcurrent: 1, maxQueue: 0, clock, onEvent }));
  }
  const p = pipeline(...(fused ? policies : policies.map(layer)));
  const outcomes: string[] = [];
  for (let call = 0; call < (scenario.calls ?? 1); call++) {
    let n = 0;
    const controller = new AbortController();
    if (scenario.abortAt !== undefined) clock.setTimer(scenario.abortAt, () => controller.abort(new Error('gone')));
    const options: ExecuteOptions = withSignal ? { signal: controller.signal, key: 'k' } : { key: 'k' };
    const keys: (string | undefined)[] = [];
    const attempt = (ctx: Context) => {
      keys.push(ctx.key);
      return scenario.attempt(++n, ctx, clock);
    };
    const run =
      mode === 'adapter'
        ? executeWith(p, honouring(attempt), options, adapter(attempt))
        : p.execute(mode === 'layered-honouring' ? honouring(attempt) : attempt, options);
    const settled = run.then(
      (value) => `value ${value} at ${clock.now()}`,
      (error: Error) => `error ${error.name}: ${error.message} at ${clock.now()}`,
    );
    await clock.runAll();
    outcomes.push(`${await settled} after ${n} attempt(s), keys ${keys.join(',')}`);
  }
  return { outcomes, events, breaker: breaker.stats(), pending: clock.pending };
}

describe('pipeline(timeout, retry, circuitBreaker) fused', () => {
  it('offers the fused protocol on the policies that can run fused, and not on an aggressive timeout', () => {
    expect(isFusable(timeout({ ms: 10 }))).toBe(true);
    expect(isFusable(retry())).toBe(true);
    expect(isFusable(circuitBreaker())).toBe(true);
    expect(isFusable(timeout({ ms: 10, strategy: 'aggressive' }))).toBe(false);
    expect(isFusable(bulkhead({ maxConcurrent: 1 }))).toBe(false);
  });

  const CASES = SCENARIOS.flatMap((scenario) =>
    (scenario.abortAt === undefined ? [false, true] : [true]).map((withSignal) => ({
      ...scenario,
      withSignal,
      signal: withSignal ? 'with a caller signal' : 'no caller signal',
    })),
  );
  it.each(CASES)('$name, $signal: the same outcome, events and breaker state as layered', async (c) => {
    const fused = await play(c, true, c.withSignal);
    const layered = await play(c, false, c.withSignal);
    expect(fused).toEqual(layered);
    expect(fused.outcomes.length).toBe(c.calls ?? 1);
  });

  it.each(CASES)(
    '$name, $signal: with an adapter running the work, the same as layered around that work',
    async (c) => {
      const byAdapter = await play(c, 'adapter', c.withSignal);
      expect(byAdapter).toEqual(await play(c, 'layered-honouring', c.withSignal));
      expect(byAdapter.outcomes.length).toBe(c.calls ?? 1);
    },
  );

  it('the scenarios end as intended (so that the comparison above compares something)', async () => {
    const [
      once,
      ,
      flaky,
      ,
      failing,
      cooperative,
      ignoring,
      values,
      opening,
      abort1,
      ignored,
      innermost,
      backoff,
      abort2,
    ] = await Promise.all(SCENARIOS.map((s) => play(s, true, s.abortAt !== undefined)));
    expect(once?.outcomes).toEqual(['value ok at 0 after 1 attempt(s), keys k']);
    expect(flaky?.outcomes).toEqual(['value ok at 200 after 3 attempt(s), keys k,k,k']);
    expect(failing?.outcomes).toEqual(['error Transient: attempt 3 at 200 after 3 attempt(s), keys k,k,k']);
    expect(cooperative?.outcomes[0]).toMatch(/^error TimeoutError: .* at 1000 after 1 attempt/);
    // A timeout that fired wins over a late value only when the work fails: cooperative.
    expect(ignoring?.outcomes).toEqual(['value late at 5000 after 1 attempt(s), keys k']);
    expect(values?.outcomes).toEqual(['value ok at 200 after 3 attempt(s), keys k,k,k']);
    expect(opening?.outcomes[3]).toMatch(/^error BrokenCircuitError: .* after 0 attempt/);
    expect(opening?.events.filter((e) => e.includes('circuit.'))).not.toHaveLength(0);
    // A caller's abort rejects at once, whatever the attempt does, and is never retried.
    expect(abort1?.outcomes).toEqual(['error Error: gone at 50 after 1 attempt(s), keys k']);
    expect(ignored?.outcomes).toEqual(['error Error: gone at 50 after 1 attempt(s), keys k']);
    expect(ignored?.breaker).toMatchObject({ calls: 0 });
    expect(innermost?.outcomes).toEqual(['error Error: gone at 50 after 1 attempt(s), keys k']);
    // Retry innermost sees the attempt itself: it reports its success when it comes, as layered.
    expect(innermost?.events).toEqual(['500 retry success #1']);
    expect(backoff?.outcomes).toEqual(['error Error: gone at 50 after 1 attempt(s), keys k']);
    expect(abort2?.outcomes).toEqual(['error Error: gone at 150 after 2 attempt(s), keys k,k']);
  });

  it('resolves the pipeline with the value once: one lookup of `then` on it, not one per policy', async () => {
    // Every promise resolved with an object looks up its `then`: layered, each policy's promise
    // does; fused, only the pipeline's. (On `fetch`, the value is a Response: ~270 instructions each.)
    let lookups = 0;
    const value = {
      // biome-ignore lint/suspicious/noThenProperty: a getter that counts the lookups, never a thenable
      get then() {
        lookups++;
        return undefined;
      },
    };
    const policies = [timeout({ ms: 1_000 }), retry(), circuitBreaker()];
    const ready = Promise.resolve().then(() => value);
    await ready;
    const count = async (p: Policy, options?: ExecuteOptions) => {
      lookups = 0;
      expect(await p.execute(() => ready, options)).toBe(value);
      return lookups;
    };
    expect(await count(pipeline(...policies))).toBe(1);
    expect(await count(pipeline(...policies.map(layer)))).toBe(3);
    // With a caller signal: the race's own promise, and no more.
    const signal = new AbortController().signal;
    expect(await count(pipeline(...policies), { signal })).toBe(2);
    expect(await count(pipeline(...policies.map(layer)), { signal })).toBeGreaterThan(3);
  });

  it('a refusal inside settles the stages outside it: the timeout entered before it never fires', async () => {
    const clock = new FakeClock();
    const events: ResilienceEvent[] = [];
    const breaker = circuitBreaker({ clock });
    const p = pipeline(timeout({ ms: 1_000, clock, onEvent: (e) => events.push(e) }), retry({ clock }), breaker);
    const hold = breaker.isolate();
    let seen: Context | undefined;
    const error = await p.execute((ctx) => (seen = ctx)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(seen).toBeUndefined();
    await clock.advance(5_000);
    expect(events.filter((e) => e.type === 'timeout')).toEqual([]);
    hold.dispose();
    expect(await p.execute(() => 'back')).toBe('back');
  });

  it("an adapter's own end of the call may run the work: its reaction settles every stage, and its promise is the call's", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ clock });
    const events: ResilienceEvent[] = [];
    const policies = [
      timeout({ ms: 1_000, clock, onEvent: (e) => events.push(e) }),
      retry({ clock, budget: false, backoff: () => 0 }),
      breaker,
    ];
    const attempts: number[] = [];
    const fn = (ctx: Context) => {
      attempts.push(ctx.attempt);
      return 'from fn';
    };
    const worked: Context[] = [];
    const ended: unknown[] = [];
    const outer: Settler = {
      settle(outcome) {
        ended.push(outcome.result);
        return undefined;
      },
      work(ctx, call) {
        worked.push(ctx);
        return Promise.reject(new Transient('attempt 1')).then(undefined, (error: unknown) =>
          call.finish(false, error),
        );
      },
    };
    // Attempt 1 is the adapter's work; the breaker counts its failure; retry runs attempt 2 through
    // fn; the adapter's settle sees the outcome last; the timeout is over.
    const own = executeWith(pipeline(...policies), fn, undefined, outer);
    expect(await own).toBe('from fn');
    expect(worked.map((ctx) => ctx.attempt)).toEqual([1]);
    expect(attempts).toEqual([2]);
    expect(breaker.stats()).toMatchObject({ calls: 2, failures: 1 });
    expect(ended).toEqual(['from fn']);
    await clock.advance(5_000);
    expect(events.filter((e) => e.type === 'timeout')).toEqual([]);
    // Not when the fused group is not the innermost: what is inside it runs `fn` as usual.
    worked.length = 0;
    attempts.length = 0;
    const inner = executeWith(pipeline(...policies, bulkhead({ maxConcurrent: 1 })), fn, undefined, outer);
    expect(await inner).toBe('from fn');
    expect(worked).toEqual([]);
    expect(attempts).toEqual([1]);
  });

  it('a caller signal the work aborts as it starts: the call rejects with its reason and the timeout stops, as layered', async () => {
    for (const fused of [true, false]) {
      const clock = new FakeClock();
      const events: ResilienceEvent[] = [];
      const policies = [
        timeout({ ms: 1_000, clock, onEvent: (e) => events.push(e) }),
        retry({ clock }),
        circuitBreaker({ clock }),
      ];
      const p = pipeline(...(fused ? policies : policies.map(layer)));
      const controller = new AbortController();
      const reason = new Error('changed my mind');
      const call = p.execute(
        () => {
          controller.abort(reason);
          return clock.sleep(5_000).then(() => 'late');
        },
        { signal: controller.signal },
      );
      await expect(call).rejects.toBe(reason);
      await clock.advance(5_000);
      expect(events.filter((e) => e.type === 'timeout')).toEqual([]);
      expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    }
  });

  it('a timeout that fires during a fused call aborts the attempt and rejects with TimeoutError', async () => {
    const clock = new FakeClock();
    const p = pipeline(timeout({ ms: 100, clock }), retry({ clock }), circuitBreaker({ clock }));
    let signal: AbortSignal | undefined;
    const settled = p.execute((ctx) => {
      signal = ctx.signal;
      return clock.sleep(1_000, ctx.signal);
    });
    const caught = settled.catch((e: unknown) => e);
    await clock.advance(100);
    expect(signal?.aborted).toBe(true);
    expect(await caught).toBeInstanceOf(TimeoutError);
  });

  it('fuses the neighbours of a policy that cannot be fused, which still runs layered between them', async () => {
    const clock = new FakeClock();
    const gate = bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const breaker = circuitBreaker({ clock, minimumCalls: 2 });
    const p = pipeline(timeout({ ms: 1_000, clock }), retry({ clock, budget: false, backoff: () => 0 }), gate, breaker);
    let n = 0;
    const value = await p.execute(() => {
      expect(gate.executing).toBe(1);
      return ++n < 2 ? Promise.reject(new Transient('once')) : 'ok';
    });
    expect(value).toBe('ok');
    expect(n).toBe(2);
    expect(gate.executing).toBe(0);
    expect(breaker.stats()).toMatchObject({ calls: 2, failures: 1 });
  });

  it('hands a retry its inner policies again: the breaker inside sees every attempt', async () => {
    const clock = new FakeClock();
    const events: string[] = [];
    const breaker = circuitBreaker({ clock, onEvent: (e) => events.push(`${e.policy} ${e.type}`) });
    const p = pipeline(retry({ clock, budget: false, maxAttempts: 4, backoff: () => 0 }), breaker);
    let n = 0;
    const attempts: number[] = [];
    const value = await p.execute((ctx) => {
      attempts.push(ctx.attempt);
      return ++n < 4 ? Promise.reject(new Transient(`#${n}`)) : 'ok';
    });
    expect(value).toBe('ok');
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(events).toEqual([
      'circuit-breaker failure',
      'circuit-breaker failure',
      'circuit-breaker failure',
      'circuit-breaker success',
    ]);
  });
  it("a caller's abort frees a half-open breaker's probe slot at once, as layered", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({
      clock,
      minimumCalls: 2,
      failureRateThreshold: 0.5,
      openMs: 1_000,
      halfOpenMaxCalls: 1,
    });
    const p = pipeline(timeout({ ms: 10_000, clock }), retry({ clock, budget: false, backoff: () => 0 }), breaker);
    await p.execute(() => Promise.reject(new Transient('down'))).catch(() => {});
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    const controller = new AbortController();
    const probe = p.execute(() => new Promise<string>(() => {}), { signal: controller.signal });
    expect(breaker.stats()).toMatchObject({ state: 'half-open' });
    controller.abort(new Error('gone'));
    await expect(probe).rejects.toThrow('gone');
    // The slot is free: the next call is the probe, and closes the breaker.
    expect(await p.execute(() => 'up')).toBe('up');
    expect(breaker.state).toBe('closed');
  });

  it('leaves no listener on a long-lived caller signal, and answers its abort at once', async () => {
    const controller = new AbortController();
    const counts = countAbortListeners(controller.signal);
    const p = pipeline(timeout({ ms: 10_000 }), retry(), circuitBreaker());
    for (let i = 0; i < 100; i++) {
      expect(await p.execute((ctx) => (ctx.signal.aborted ? 'aborted' : 'ok'), { signal: controller.signal })).toBe(
        'ok',
      );
    }
    expect(counts.removed).toBe(counts.added);
    const hung = p.execute(() => new Promise<string>(() => {}), { signal: controller.signal });
    controller.abort(new Error('gone'));
    await expect(hung).rejects.toThrow('gone');
    expect(counts.removed).toBe(counts.added);
  });
  it('any mix of attempts, orders, timeouts, aborts and breaker states: fused and layered cannot be told apart', async () => {
    const behaviour = fc.record({
      kind: fc.constantFrom('ok', 'fail', 'throw', 'busy'),
      delayMs: fc.constantFrom(0, 0, 50, 150, 400, 2_000),
      honoursSignal: fc.boolean(),
    });
    type Behaviour = { kind: 'ok' | 'fail' | 'throw' | 'busy'; delayMs: number; honoursSignal: boolean };
    const act = (b: Behaviour, n: number): Promise<string> | string => {
      if (b.kind === 'throw') throw new Transient(`thrown #${n}`);
      if (b.kind === 'fail') return Promise.reject(new Transient(`failed #${n}`));
      return b.kind === 'busy' ? 'busy' : `ok #${n}`;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(behaviour, { minLength: 1, maxLength: 4 }),
        fc.record({
          abortAt: fc.option(fc.integer({ min: 0, max: 700 }), { nil: undefined }),
          withSignal: fc.boolean(),
          timeoutMs: fc.constantFrom(250, 1_000),
          attemptTimeoutMs: fc.constantFrom(undefined, 120, 300),
          retryValues: fc.boolean(),
          calls: fc.integer({ min: 1, max: 3 }),
          order: fc.constantFrom([0, 1, 2], [0, 1, 2], [1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0]),
          bulkheadAt: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        }),
        async (behaviours, settings) => {
          const { withSignal, ...rest } = settings;
          const scenario: Scenario = {
            name: 'generated',
            ...rest,
            attempt: (n, ctx, clock) => {
              const b = behaviours[(n - 1) % behaviours.length] as Behaviour;
              if (b.delayMs === 0) return act(b, n);
              return clock.sleep(b.delayMs, b.honoursSignal ? ctx.signal : undefined).then(() => act(b, n));
            },
          };
          expect(await play(scenario, true, withSignal)).toEqual(await play(scenario, false, withSignal));
          expect(await play(scenario, 'adapter', withSignal)).toEqual(
            await play(scenario, 'layered-honouring', withSignal),
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
