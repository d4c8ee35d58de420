// The breaker against a small reference model of its state machine, on random sequences of calls
// (succeeding, failing, slow, concurrent, aborted), clock advances, isolations and resets.
import { BrokenCircuitError, type ResilienceEvent } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type CircuitBreakerOptions, type IsolationHandle, circuitBreaker } from '../src/index.js';

type WindowConfig = { kind: 'count'; size: number } | { kind: 'time'; ms: number; buckets: number };

interface Config {
  window: WindowConfig;
  minimumCalls: number;
  failureRateThreshold: number;
  slowCallRateThreshold: number;
  slowCallDurationMs: number;
  openMs: number;
  backoff: boolean;
  halfOpenMaxCalls: number;
}

/** A deliberately naive model: lists instead of rings, numbers instead of state objects. */
class Model {
  state: 'closed' | 'open' | 'half-open' | 'isolated' = 'closed';
  epoch = 0;
  outcomes: { bucket: number; failed: boolean; slow: boolean }[] = [];
  until = 0;
  openings = 0;
  started = 0;
  ended = 0;
  probeFailures = 0;
  probeSlow = 0;
  holds = 0;
  transitions: string[] = [];

  constructor(readonly c: Config) {}

  openFor(openings: number): number {
    return this.c.backoff ? Math.min(this.c.openMs * 2 ** (openings - 1), this.c.openMs * 4) : this.c.openMs;
  }

  bucket(now: number): number {
    const w = this.c.window;
    return w.kind === 'time' ? Math.floor(now / (w.ms / w.buckets)) : 0;
  }

  live(now: number) {
    const w = this.c.window;
    if (w.kind === 'count') return this.outcomes.slice(-w.size);
    const current = this.bucket(now);
    return this.outcomes.filter((o) => o.bucket > current - w.buckets);
  }

  trips(calls: number, failures: number, slow: number): boolean {
    return (
      calls > 0 && (failures / calls >= this.c.failureRateThreshold || slow / calls >= this.c.slowCallRateThreshold)
    );
  }

  enter(state: Model['state'], now: number): void {
    this.state = state;
    this.epoch++;
    this.transitions.push(state);
    if (state === 'open') this.until = now + this.openFor(++this.openings);
    if (state === 'half-open') this.started = this.ended = this.probeFailures = this.probeSlow = 0;
    if (state === 'closed') {
      this.outcomes = [];
      this.openings = 0;
    }
  }

  read(now: number): Model['state'] {
    if (this.state === 'open' && now >= this.until) this.enter('half-open', now);
    return this.state;
  }

  /** The epoch the call was admitted in, or undefined when rejected. */
  admit(now: number): number | undefined {
    const state = this.read(now);
    if (state === 'closed') return this.epoch;
    if (state === 'half-open' && this.started < this.c.halfOpenMaxCalls) {
      this.started++;
      return this.epoch;
    }
    return undefined;
  }

  neither(epoch: number): void {
    if (epoch === this.epoch && this.state === 'half-open') this.started--;
  }

  settle(epoch: number, now: number, failed: boolean, slow: boolean): void {
    if (epoch !== this.epoch) return;
    if (this.state === 'closed') {
      this.outcomes.push({ bucket: this.bucket(now), failed, slow });
      const live = this.live(now);
      const w = this.c.window;
      const minimum = w.kind === 'count' ? Math.min(this.c.minimumCalls, w.size) : this.c.minimumCalls;
      const failures = live.filter((o) => o.failed).length;
      const slowCalls = live.filter((o) => o.slow).length;
      if (live.length >= minimum && this.trips(live.length, failures, slowCalls)) this.enter('open', now);
    } else if (this.state === 'half-open') {
      this.ended++;
      if (failed) this.probeFailures++;
      if (slow) this.probeSlow++;
      if (this.ended === this.c.halfOpenMaxCalls) {
        this.enter(this.trips(this.ended, this.probeFailures, this.probeSlow) ? 'open' : 'closed', now);
      }
    }
  }

  isolate(now: number): number {
    if (this.state === 'isolated') this.holds++;
    else {
      this.enter('isolated', now);
      this.holds = 1;
    }
    return this.epoch;
  }

  dispose(epoch: number, now: number): void {
    if (epoch === this.epoch && --this.holds === 0) this.enter('closed', now);
  }

  reset(now: number): void {
    const announce = this.state !== 'closed';
    this.enter('closed', now);
    if (!announce) this.transitions.pop();
  }

  stats(now: number) {
    if (this.state === 'half-open') {
      return { calls: this.ended, failures: this.probeFailures, slowCalls: this.probeSlow };
    }
    const live = this.live(now);
    return {
      calls: live.length,
      failures: live.filter((o) => o.failed).length,
      slowCalls: live.filter((o) => o.slow).length,
    };
  }
}

type Command =
  | { type: 'start'; fail: boolean; signal: boolean; burst: number }
  | { type: 'settle'; index: number }
  | { type: 'abort'; index: number }
  | { type: 'advance'; ms: number }
  | { type: 'isolate' }
  | { type: 'dispose'; index: number }
  | { type: 'reset' }
  | { type: 'read' };

// Biased towards what reaches the interesting states: failures (to open), caller signals and aborts
// (to free probe places), exact threshold spans (slow calls, openMs).
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('start' as const),
      fail: fc.integer({ min: 0, max: 9 }).map((n) => n < 6),
      signal: fc.integer({ min: 0, max: 9 }).map((n) => n < 7),
      burst: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 6, arbitrary: fc.record({ type: fc.constant('settle' as const), index: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('abort' as const), index: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.constantFrom(50, 100, 200, 1_000),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 500, max: 5_000 }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'isolate' as const }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('dispose' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ type: 'reset' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'read' as const }) },
);

const config: fc.Arbitrary<Config> = fc.record({
  window: fc.oneof(
    fc.record({ kind: fc.constant('count' as const), size: fc.integer({ min: 1, max: 8 }) }),
    fc.record({
      kind: fc.constant('time' as const),
      ms: fc.integer({ min: 100, max: 2_000 }),
      buckets: fc.integer({ min: 1, max: 5 }),
    }),
  ),
  minimumCalls: fc.integer({ min: 1, max: 4 }),
  failureRateThreshold: fc.constantFrom(0.25, 0.5, 0.75, 1),
  slowCallRateThreshold: fc.constantFrom(0.5, 1),
  slowCallDurationMs: fc.constantFrom(50, 200),
  openMs: fc.constantFrom(0, 100, 1_000),
  backoff: fc.boolean(),
  halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
});

interface Pending {
  promise: Promise<unknown>;
  settle: () => void;
  controller: AbortController | undefined;
  epoch: number;
  start: number;
  fail: boolean;
}

const TRANSITIONS: Record<string, string> = {
  'circuit.open': 'open',
  'circuit.half-open': 'half-open',
  'circuit.close': 'closed',
  'circuit.isolated': 'isolated',
};

async function run(c: Config, commands: Command[]): Promise<void> {
  const clock = new FakeClock({ now: 1_700_000_000_000 });
  const events: ResilienceEvent[] = [];
  const { backoff: _, ...breakerConfig } = c;
  const options: CircuitBreakerOptions = {
    ...breakerConfig,
    openMs: c.backoff ? (n) => Math.min(c.openMs * 2 ** (n - 1), c.openMs * 4) : c.openMs,
    clock,
    onEvent: (e) => events.push(e),
  };
  const breaker = circuitBreaker(options);
  const model = new Model(c);
  const pending: Pending[] = [];
  const handles: { handle: IsolationHandle; epoch: number }[] = [];
  const check = (where: string) => {
    const now = clock.now();
    const expected = { state: model.state, ...model.stats(now), openings: model.openings };
    const s = breaker.stats();
    const actual = {
      state: s.state,
      calls: s.calls,
      failures: s.failures,
      slowCalls: s.slowCalls,
      openings: s.openings,
    };
    const transitions = events.filter((e) => e.type in TRANSITIONS).map((e) => TRANSITIONS[e.type]);
    if (
      JSON.stringify(actual) !== JSON.stringify(expected) ||
      JSON.stringify(transitions) !== JSON.stringify(model.transitions)
    ) {
      throw new Error(
        `after ${where}: breaker ${JSON.stringify(actual)} ${transitions.join('>')}, model ${JSON.stringify(expected)} ${model.transitions.join('>')}`,
      );
    }
  };

  for (const [i, cmd] of commands.entries()) {
    const now = clock.now();
    switch (cmd.type) {
      case 'start': {
        for (let b = 0; b < cmd.burst; b++) {
          const epoch = model.admit(now);
          let settle!: () => void;
          let called = false;
          const controller = cmd.signal ? new AbortController() : undefined;
          const promise = breaker
            .execute(
              () => {
                called = true;
                return new Promise((resolve, reject) => {
                  settle = () => (cmd.fail ? reject(new Error('fail')) : resolve('ok'));
                });
              },
              { signal: controller?.signal },
            )
            .catch((e: unknown) => e);
          if ((epoch !== undefined) !== called) {
            throw new Error(
              `command ${i}: model ${epoch === undefined ? 'rejects' : 'admits'}, breaker ${called ? 'admitted' : 'rejected'}`,
            );
          }
          if (epoch === undefined) {
            const error = await promise;
            if (!(error instanceof BrokenCircuitError)) throw new Error(`command ${i}: rejected with ${String(error)}`);
          } else pending.push({ promise, settle, controller, epoch, start: now, fail: cmd.fail });
        }
        break;
      }
      case 'settle': {
        if (pending.length === 0) break;
        const [call] = pending.splice(cmd.index % pending.length, 1) as [Pending];
        call.settle();
        await call.promise;
        model.settle(call.epoch, now, call.fail, now - call.start >= c.slowCallDurationMs);
        break;
      }
      case 'abort': {
        const withSignal = pending.filter((p) => p.controller);
        if (withSignal.length === 0) break;
        const call = withSignal[cmd.index % withSignal.length] as Pending;
        pending.splice(pending.indexOf(call), 1);
        call.controller?.abort('caller gone');
        const reason = await call.promise;
        if (reason !== 'caller gone') throw new Error(`command ${i}: abort rejected with ${String(reason)}`);
        model.neither(call.epoch);
        call.settle(); // the late outcome must count for nothing
        await clock.flush();
        break;
      }
      case 'advance':
        await clock.advance(cmd.ms);
        break;
      case 'isolate':
        handles.push({ handle: breaker.isolate(), epoch: model.isolate(now) });
        break;
      case 'dispose': {
        if (handles.length === 0) break;
        const [h] = handles.splice(cmd.index % handles.length, 1) as [(typeof handles)[number]];
        h.handle.dispose();
        model.dispose(h.epoch, now);
        break;
      }
      case 'reset':
        breaker.reset();
        model.reset(now);
        break;
      case 'read': {
        const state = breaker.state;
        if (state !== model.read(now)) throw new Error(`command ${i}: state ${state}, model ${model.state}`);
        break;
      }
    }
    check(`command ${i} (${cmd.type})`);
  }
}

describe('model-based', () => {
  it('matches the reference state machine on random sequences', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(command, { minLength: 1, maxLength: 80, size: 'max' }), (c, commands) =>
        run(c, commands),
      ),
      { numRuns: 500 },
    );
  });
});
