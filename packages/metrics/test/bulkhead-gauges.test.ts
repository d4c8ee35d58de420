import { bulkhead, concurrencyLimit } from '@palisade/bulkhead';
import { BulkheadRejectedError } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Metrics, OTEL_ATTRIBUTES, createMetrics, dashboard, prometheusText } from '../src/index.js';
import { otel, point } from './fixtures/otel.js';
import { parseExposition, sampleValue } from './fixtures/prometheus-parse.js';

const T0 = 1_700_000_000_000;
const { kind: KIND, name: NAME } = OTEL_ATTRIBUTES;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A call that runs until the test ends it. */
function held() {
  let end = (): void => {};
  const fn = () =>
    new Promise<string>((resolve) => {
      end = () => resolve('done');
    });
  return { fn, end: () => end() };
}

/** Lets settled promises run their reactions (the bulkhead hands a freed slot over in one). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Gauges {
  queued: number | undefined;
  executing: number | undefined;
}

/** A bulkhead's queued and executing gauges as every view of the sink shows them. */
function views(metrics: Metrics, collect: ReturnType<typeof otel>['collect'], kind: string, name: string) {
  const dash = dashboard({ metrics });
  cleanups.push(() => dash.close());
  return async () => {
    const snap = metrics.snapshot().policies.find((p) => p.policy === kind && p.name === name)?.bulkhead;
    const families = parseExposition(prometheusText({ metrics }));
    const labels = { policy: kind, name };
    const exported = await collect();
    const attributes = { [KIND]: kind, [NAME]: name };
    const frame = (await (await dash.fetch(new Request('http://x/?format=json'))).json()) as {
      policies: { policy: string; name: string; bulkhead?: { queued: number; executing?: number } }[];
    };
    const page = frame.policies.find((p) => p.policy === kind && p.name === name)?.bulkhead;
    const all: Record<string, Gauges> = {
      snapshot: { queued: snap?.queued, executing: snap?.executing },
      prometheus: {
        queued: sampleValue(families, 'palisade_bulkhead_queued_calls', labels),
        executing: sampleValue(families, 'palisade_bulkhead_executing_calls', labels),
      },
      otel: {
        queued: point(exported.get('palisade.bulkhead.queued_calls'), attributes)?.value as number | undefined,
        executing: point(exported.get('palisade.bulkhead.executing_calls'), attributes)?.value as number | undefined,
      },
      dashboard: { queued: page?.queued, executing: page?.executing },
    };
    return all;
  };
}

const everywhere = (gauges: Gauges) => ({ snapshot: gauges, prometheus: gauges, otel: gauges, dashboard: gauges });

/**
 * A bulkhead `db` (2 slots, a queue of 3, 1 s queue timeout) on a FakeClock, reporting to a sink
 * with an OpenTelemetry meter; `look` reads its gauges in every view.
 */
function observedBulkhead() {
  const clock = new FakeClock({ now: T0 });
  const sdk = otel();
  cleanups.push(sdk.shutdown);
  const metrics = createMetrics({ clock, meter: sdk.meter });
  const db = bulkhead({
    name: 'db',
    clock,
    onEvent: metrics.onEvent,
    maxConcurrent: 2,
    maxQueue: 3,
    queueTimeoutMs: 1_000,
  });
  return { clock, metrics, db, look: views(metrics, sdk.collect, 'bulkhead', 'db') };
}

describe('bulkhead gauges', () => {
  it('are exact for a watched bulkhead whatever way a waiter leaves the queue, and a drained one reads 0 and 0', async () => {
    const { clock, metrics, db, look } = observedBulkhead();
    metrics.watch(db);
    expect(await look()).toEqual(everywhere({ queued: 0, executing: 0 }));

    const running = [held(), held()];
    const calls = running.map((call) => db.execute(call.fn));
    const caller = new AbortController();
    const waiters = [held(), held(), held()];
    const aborted = db.execute(waiters[0]?.fn ?? held().fn, { signal: caller.signal });
    const admitted = db.execute(waiters[1]?.fn ?? held().fn);
    const expired = db.execute(waiters[2]?.fn ?? held().fn);
    const full = db.execute(() => 'never');
    await expect(full).rejects.toMatchObject({ reason: 'full' });
    expect(await look()).toEqual(everywhere({ queued: 3, executing: 2 }));

    // Its caller aborts while it waits.
    caller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(await look()).toEqual(everywhere({ queued: 2, executing: 2 }));

    // A slot frees: the first waiter is let in.
    running[0]?.end();
    await expect(calls[0]).resolves.toBe('done');
    await settle();
    expect(await look()).toEqual(everywhere({ queued: 1, executing: 2 }));

    // The last one waits past queueTimeoutMs.
    const timedOut = expect(expired).rejects.toBeInstanceOf(BulkheadRejectedError);
    await clock.advance(1_000);
    await timedOut;
    expect(await look()).toEqual(everywhere({ queued: 0, executing: 2 }));

    running[1]?.end();
    waiters[1]?.end();
    await expect(Promise.all([calls[1], admitted])).resolves.toEqual(['done', 'done']);
    await settle();
    expect(db).toMatchObject({ queued: 0, executing: 0 });
    expect(await look()).toEqual(everywhere({ queued: 0, executing: 0 }));
    expect(metrics.snapshot().policies[0]?.bulkhead).toEqual({ queued: 0, maxQueued: 3, executing: 0, watched: true });
  });

  it('are exact from events alone for an unwatched bulkhead, whatever way a waiter leaves (no executing gauge)', async () => {
    const { clock, metrics, db, look } = observedBulkhead();
    const queued = (n: number) => everywhere({ queued: n, executing: undefined });

    const running = [held(), held()];
    const calls = running.map((call) => db.execute(call.fn));
    const caller = new AbortController();
    const admittedCall = held();
    const aborted = db.execute(() => 'never', { signal: caller.signal });
    const admitted = db.execute(admittedCall.fn);
    const expired = db.execute(() => 'late');
    expect(await look()).toEqual(queued(3));

    caller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(await look()).toEqual(queued(2));

    running[0]?.end();
    await expect(calls[0]).resolves.toBe('done');
    await settle();
    expect(await look()).toEqual(queued(1));

    const timedOut = expect(expired).rejects.toBeInstanceOf(BulkheadRejectedError);
    await clock.advance(1_000);
    await timedOut;
    expect(await look()).toEqual(queued(0));

    running[1]?.end();
    admittedCall.end();
    await expect(Promise.all([calls[1], admitted])).resolves.toEqual(['done', 'done']);
    expect(metrics.snapshot().policies[0]?.bulkhead).toEqual({ queued: 0, maxQueued: 3, watched: false });
    const families = parseExposition(prometheusText({ metrics }));
    expect(families.has('palisade_bulkhead_executing_calls')).toBe(false);
  });

  it.each([
    ['let in as slots free', 'admitted'],
    ['abandoned by their callers', 'aborted'],
  ] as const)('read exactly 0 once an unwatched queue drains, its waiters %s', async (_how, exit) => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock });
    // No queue timeout: only the way under test can empty the queue.
    const db = bulkhead({ name: 'db', clock, onEvent: metrics.onEvent, maxConcurrent: 1, maxQueue: 5 });
    const gauge = () => ({
      snapshot: metrics.snapshot().policies.find((p) => p.name === 'db')?.bulkhead?.queued,
      prometheus: sampleValue(parseExposition(prometheusText({ metrics })), 'palisade_bulkhead_queued_calls', {
        policy: 'bulkhead',
        name: 'db',
      }),
    });
    const running = held();
    const call = db.execute(running.fn);
    const callers = [1, 2, 3].map(() => new AbortController());
    const waiters = callers.map((caller) => db.execute(() => 'waited', { signal: caller.signal }));
    expect(gauge()).toEqual({ snapshot: 3, prometheus: 3 });

    if (exit === 'aborted') {
      for (const caller of callers) caller.abort(new Error('gone'));
      for (const waiter of waiters) await expect(waiter).rejects.toThrow('gone');
      running.end();
    } else {
      running.end();
      await expect(Promise.all(waiters)).resolves.toEqual(['waited', 'waited', 'waited']);
    }
    await call;
    await settle();
    expect(db.queued).toBe(0);
    expect(gauge()).toEqual({ snapshot: 0, prometheus: 0 });
    expect(metrics.snapshot().policies[0]?.counts['bulkhead.dequeued']).toBe(3);
  });

  it('sums the queues of unwatched bulkheads sharing a name (createFetch builds one per host)', async () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock });
    const perHost = () =>
      bulkhead({ name: 'fetch.bulkhead', clock, onEvent: metrics.onEvent, maxConcurrent: 1, maxQueue: 5 });
    const [a, b] = [perHost(), perHost()];
    const queued = () => metrics.snapshot().policies[0]?.bulkhead?.queued;
    const runningA = held();
    const runningB = held();
    const callA = a?.execute(runningA.fn, { key: 'a.example' });
    const callB = b?.execute(runningB.fn, { key: 'b.example' });
    const waitersA = [1, 2].map(() => a?.execute(() => 'a', { key: 'a.example' }));
    const caller = new AbortController();
    const waiterB = b?.execute(() => 'b', { key: 'b.example', signal: caller.signal });
    expect(queued()).toBe(3);

    runningA.end();
    await expect(Promise.all([callA, ...waitersA])).resolves.toEqual(['done', 'a', 'a']);
    expect(queued()).toBe(1);
    caller.abort(new Error('gone'));
    await expect(waiterB).rejects.toThrow('gone');
    expect(queued()).toBe(0);
    runningB.end();
    await callB;
  });

  it('keeps counting the calls still waiting across reset(), so the queue drains to 0', async () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock });
    const db = bulkhead({ name: 'db', clock, onEvent: metrics.onEvent, maxConcurrent: 1, maxQueue: 5 });
    const running = held();
    const call = db.execute(running.fn);
    const waiters = [1, 2].map(() => db.execute(() => 'waited'));
    metrics.reset();
    const [policy] = metrics.snapshot().policies;
    expect(policy?.bulkhead).toEqual({ queued: 2, maxQueued: 2, watched: false });
    expect(policy?.counts['bulkhead.queued']).toBe(0);

    running.end();
    await expect(Promise.all([call, ...waiters])).resolves.toEqual(['done', 'waited', 'waited']);
    expect(metrics.snapshot().policies[0]?.bulkhead).toEqual({ queued: 0, maxQueued: 2, watched: false });
    // A sink cleared with an empty queue shows nothing until the bulkhead reports again.
    metrics.reset();
    expect(metrics.snapshot().policies).toEqual([]);
  });

  it('watches a concurrency limit under its own kind, with its limit from the first read', async () => {
    const clock = new FakeClock({ now: T0 });
    const sdk = otel();
    cleanups.push(sdk.shutdown);
    const metrics = createMetrics({ clock, meter: sdk.meter });
    const api = concurrencyLimit({ name: 'api', clock, onEvent: metrics.onEvent, initial: 1, min: 1, maxQueue: 2 });
    const look = views(metrics, sdk.collect, 'concurrency-limit', 'api');
    metrics.watch(api);
    const running = held();
    const call = api.execute(running.fn);
    const caller = new AbortController();
    const waiter = api.execute(() => 'never', { signal: caller.signal });
    expect(await look()).toEqual(everywhere({ queued: 1, executing: 1 }));
    expect(metrics.snapshot().policies[0]).toMatchObject({ policy: 'concurrency-limit', limit: 1 });

    caller.abort(new Error('gone'));
    await expect(waiter).rejects.toThrow('gone');
    running.end();
    await call;
    await settle();
    expect(await look()).toEqual(everywhere({ queued: 0, executing: 0 }));
  });

  it('stops reading a policy when told, keeps watching across reset(), and refuses what is not one', async () => {
    const clock = new FakeClock({ now: T0 });
    const metrics = createMetrics({ clock, maxPolicies: 1 });
    metrics.onEvent({ policy: 'retry', name: 'api', time: T0, type: 'retry', attempt: 2, delayMs: 1 });
    const db = bulkhead({ name: 'db', clock, onEvent: metrics.onEvent, maxConcurrent: 1 });
    const unwatch = metrics.watch(db);
    // A watched policy is tracked by name even past maxPolicies: it is not traffic-made.
    expect(metrics.snapshot().policies.map((p) => `${p.policy}/${p.name}`)).toEqual(['retry/api', 'bulkhead/db']);
    const running = held();
    const call = db.execute(running.fn);
    expect(metrics.snapshot().policies[1]?.bulkhead).toEqual({ queued: 0, maxQueued: 0, executing: 1, watched: true });

    metrics.reset();
    expect(metrics.snapshot().policies.map((p) => p.name)).toEqual(['db']);
    expect(metrics.snapshot().policies[0]?.bulkhead).toMatchObject({ executing: 1, watched: true });

    unwatch();
    unwatch();
    expect(metrics.snapshot().policies[0]?.bulkhead).toBeUndefined();
    running.end();
    await call;

    for (const bad of [undefined, null, 'db', {}, { name: 'x', queued: 0 }, { name: '', queued: 0, executing: 0 }]) {
      expect(() => metrics.watch(bad as never)).toThrow(TypeError);
    }
    expect(() => metrics.watch({} as never)).toThrow(
      /^@palisade\/metrics: watch\(\) "policy" must be a bulkhead\(\) or concurrencyLimit\(\)/,
    );
  });
});
