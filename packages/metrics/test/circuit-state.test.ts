import { circuitBreaker } from '@palisade/circuit-breaker';
import { FakeClock } from '@palisade/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Metrics, OTEL_ATTRIBUTES, createMetrics, dashboard, prometheusText } from '../src/index.js';
import { emitter } from './fixtures/events.js';
import { otel, point } from './fixtures/otel.js';
import { parseExposition, sampleValue } from './fixtures/prometheus-parse.js';

const T0 = 1_700_000_000_000;
const { kind: KIND, name: NAME, circuitState: STATE } = OTEL_ATTRIBUTES;
const STATES = ['closed', 'open', 'half-open', 'isolated'] as const;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface FrameCircuit {
  state: string;
  since: number;
  until?: number;
  transitions: { state: string }[];
}

/** The breaker `name` as every view of the sink shows it: snapshot, Prometheus, OpenTelemetry, dashboard. */
function views(metrics: Metrics, collect: ReturnType<typeof otel>['collect'], name: string) {
  const dash = dashboard({ metrics });
  cleanups.push(() => dash.close());
  return async () => {
    const snapshot = metrics.snapshot().policies.find((p) => p.name === name)?.circuit;
    const families = parseExposition(prometheusText({ metrics }));
    const prometheus = STATES.filter(
      (state) => sampleValue(families, 'palisade_circuit_state', { policy: 'circuit-breaker', name, state }) === 1,
    );
    const exported = await collect();
    const status = exported.get('palisade.circuit.status');
    const otelStates = STATES.filter(
      (state) => point(status, { [KIND]: 'circuit-breaker', [NAME]: name, [STATE]: state })?.value === 1,
    );
    const frame = (await (await dash.fetch(new Request('http://x/?format=json'))).json()) as {
      policies: { name: string; circuit?: FrameCircuit }[];
    };
    const page = frame.policies.find((p) => p.name === name)?.circuit;
    return { snapshot, prometheus, otel: otelStates, page };
  };
}

describe('breaker state as of now', () => {
  it('turns an open breaker half-open once openMs has passed, with no traffic, in every view', async () => {
    const clock = new FakeClock({ now: T0 });
    const sdk = otel();
    cleanups.push(sdk.shutdown);
    const metrics = createMetrics({ clock, meter: sdk.meter });
    const breaker = circuitBreaker({
      name: 'payments',
      clock,
      onEvent: metrics.onEvent,
      window: { kind: 'count', size: 2 },
      minimumCalls: 2,
      failureRateThreshold: 0.5,
      openMs: 10_000,
      halfOpenMaxCalls: 1,
    });
    const look = views(metrics, sdk.collect, 'payments');
    for (let i = 0; i < 2; i++) await expect(breaker.execute(() => Promise.reject(new Error('503')))).rejects.toThrow();

    let seen = await look();
    expect(seen.snapshot).toMatchObject({ state: 'open', since: T0, until: T0 + 10_000 });
    expect(seen.prometheus).toEqual(['open']);
    expect(seen.otel).toEqual(['open']);
    expect(seen.page).toMatchObject({ state: 'open', since: T0, until: T0 + 10_000 });

    await clock.advance(9_999);
    seen = await look();
    expect(seen.snapshot?.state).toBe('open');
    expect(seen.prometheus).toEqual(['open']);
    expect(seen.otel).toEqual(['open']);
    expect(seen.page?.state).toBe('open');

    // openMs has passed and nobody called: the breaker has not said so, but would let a probe in.
    await clock.advance(1);
    seen = await look();
    expect(seen.snapshot).toEqual({
      state: 'half-open',
      since: T0 + 10_000,
      transitions: [expect.objectContaining({ state: 'open', time: T0, openMs: 10_000 })],
    });
    expect(seen.prometheus).toEqual(['half-open']);
    expect(seen.otel).toEqual(['half-open']);
    expect(seen.page).toMatchObject({ state: 'half-open', since: T0 + 10_000 });
    expect(seen.page?.until).toBeUndefined();
    expect(breaker.state).toBe('half-open'); // what the breaker itself reports (and now announces)

    // The announcement changes nothing the views showed, but the history now has it.
    seen = await look();
    expect(seen.snapshot?.state).toBe('half-open');
    expect(seen.snapshot?.transitions.map((t) => t.state)).toEqual(['half-open', 'open']);
    expect(seen.prometheus).toEqual(['half-open']);

    // A probe that succeeds closes it.
    await breaker.execute(() => 'ok');
    seen = await look();
    expect(seen.snapshot?.state).toBe('closed');
    expect(seen.prometheus).toEqual(['closed']);
    expect(seen.otel).toEqual(['closed']);
    expect(seen.page?.state).toBe('closed');
  });

  it('keeps an isolated breaker isolated, and an open one whose openMs it was not told open', async () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock });
    const isolated = emitter(metrics.onEvent, 'circuit-breaker', 'maintenance', () => clock.now());
    isolated({ type: 'circuit.open', failureRate: 1, slowCallRate: 0, openMs: 1_000 });
    isolated({ type: 'circuit.isolated' });
    // An event from another emitter that lacks openMs: the sink cannot know when it ends.
    metrics.onEvent({ policy: 'circuit-breaker', name: 'legacy', time: T0, type: 'circuit.open' } as never);
    await clock.advance(60_000);
    const byName = Object.fromEntries(metrics.snapshot().policies.map((p) => [p.name, p.circuit]));
    expect(byName.maintenance).toMatchObject({ state: 'isolated', since: T0 });
    expect(byName.legacy).toMatchObject({ state: 'open', since: T0 });
    expect(byName.legacy?.until).toBeUndefined();
  });
});
