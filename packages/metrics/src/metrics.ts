import { type EventListener, type ResilienceEvent, describe } from '@palisade/core';
import { bucketFinder } from './histogram.js';
import { type MetricsOptions, type NormalizedMetricsOptions, normalizeMetricsOptions } from './options.js';
import { instrumentOpenTelemetry } from './opentelemetry.js';
import { FAILURE, type PolicySnapshot, PolicyStats, typeIndex } from './series.js';
import type { WatchedSlots } from './slots.js';
import { Timeline } from './timeline.js';

/** Options of {@link Metrics.snapshot}. */
export interface SnapshotOptions {
  /** Include each policy's tracked keys (`PolicySnapshot.keys`). @default true */
  keys?: boolean;
}

/** Everything the sink has aggregated, at one instant. */
export interface MetricsSnapshot {
  /** When it was taken (the metrics clock), epoch ms. */
  time: number;
  /** One entry per policy (kind + name), in the order they were first seen. */
  policies: PolicySnapshot[];
}

/** The sink returned by {@link createMetrics}. */
export interface Metrics {
  /**
   * Receives the events of any policy, pipeline, `createFetch` or middleware: pass it as their
   * `onEvent`. Aggregation is O(1) per event and allocates nothing for known policies and keys.
   * @example const breaker = circuitBreaker({ name: 'payments', onEvent: metrics.onEvent });
   */
  readonly onEvent: EventListener;
  /** Counts, breaker states, queue depths and latency per policy and key, as plain data. */
  snapshot(options?: SnapshotOptions): MetricsSnapshot;
  /**
   * Reads a bulkhead's or concurrency limit's live slots whenever the sink is read (`snapshot()`,
   * a scrape, an OpenTelemetry collection, the dashboard), which adds an executing-calls gauge:
   * no event says when a call starts or ends running. (The queued gauge is exact without it: a
   * bulkhead announces every waiter that arrives, `bulkhead.queued`, and leaves, `bulkhead.dequeued`.)
   * The policy is shown under its events' kind (`concurrency-limit` when it has a `limit`, else
   * `bulkhead`) and name from now on, even before its first event and beyond `maxPolicies`; its
   * queue and limit are read from it too. Returns a function that stops watching it.
   * @example
   * const db = bulkhead({ name: 'db', maxConcurrent: 10, maxQueue: 50, onEvent: metrics.onEvent });
   * metrics.watch(db);
   */
  watch(policy: WatchedSlots): () => void;
  /**
   * Forgets everything aggregated so far (counters restart from 0). Watched policies stay watched,
   * and calls still waiting in a bulkhead's queue stay counted (they will leave it with an event).
   */
  reset(): void;
}

/** What the exporters and the dashboard of this package read; not part of the public API. */
export interface MetricsInternals {
  readonly options: NormalizedMetricsOptions;
  readonly bounds: Float64Array;
  policies(): IterableIterator<PolicyStats>;
  /** Incremented by every `reset()`, so a viewer knows to start over. */
  readonly generation: number;
}

const INTERNALS = new WeakMap<Metrics, MetricsInternals>();

/** The internals of a `createMetrics()` sink, or a `TypeError` naming `option`. */
export function internalsOf(pkgFunction: string, metrics: unknown): MetricsInternals {
  const internals = INTERNALS.get(metrics as Metrics);
  if (internals === undefined) {
    throw new TypeError(
      `@palisade/metrics: ${pkgFunction} "metrics" must be the result of createMetrics() (got ${metrics === null ? 'null' : typeof metrics})`,
    );
  }
  return internals;
}

/** Policies remembered by the sink's most-recently-seen cache (a pipeline's, usually). */
const RECENT = 4;

/** Name of the policy that collects the events of policies beyond `maxPolicies`. */
export const OVERFLOW_NAME = '(overflow)';

/**
 * Creates the one metrics sink of a service: pass `metrics.onEvent` as the `onEvent` of every
 * policy, then read `metrics.snapshot()`, scrape it with `prometheusHandler`, report it through
 * OpenTelemetry (`meter` option) or watch it live with `dashboard`.
 *
 * Memory is bounded: at most `maxPolicies` policies (then one `"(overflow)"` policy per kind), at
 * most `maxKeysPerPolicy` keys each (least recently seen evicted), a fixed timeline per policy.
 *
 * @example
 * const metrics = createMetrics();
 * const api = pipeline(timeout({ ms: '2s', onEvent: metrics.onEvent }), breaker);
 * http.createServer(prometheusHandler({ metrics })).listen(9464);
 */
export function createMetrics(options?: MetricsOptions): Metrics {
  const opts = normalizeMetricsOptions(options);
  const bounds = Float64Array.from(opts.buckets);
  const slots = Math.ceil(opts.historyMs / opts.resolutionMs);
  const byKind = new Map<string, Map<string, PolicyStats>>();
  const byName = new Map<string, PolicyStats>();
  const all: PolicyStats[] = [];
  let record: ((stats: PolicyStats, durationMs: number) => void) | undefined;
  let generation = 0;

  const create = (policy: string, name: string): PolicyStats => {
    const timeline = new Timeline(slots, opts.resolutionMs, bounds.length + 1);
    const stats = new PolicyStats(policy, name, bounds, opts.maxKeysPerPolicy, opts.maxTransitions, timeline);
    all.push(stats);
    return stats;
  };

  let tracked = 0;
  /** @param always track it past `maxPolicies` (a watched policy: named in code, not by traffic) */
  const lookup = (policy: string, name: string, always = false): PolicyStats => {
    let names = byKind.get(policy);
    if (names === undefined) byKind.set(policy, (names = new Map()));
    let stats = names.get(name);
    if (stats !== undefined) return stats;
    if (tracked >= opts.maxPolicies && !always) {
      stats = names.get(OVERFLOW_NAME);
      if (stats === undefined) names.set(OVERFLOW_NAME, (stats = create(policy, OVERFLOW_NAME)));
      return stats;
    }
    tracked++;
    stats = create(policy, name);
    names.set(name, stats);
    if (!byName.has(name)) byName.set(name, stats);
    return stats;
  };

  // The policies of the last events, most recent first: a pipeline's policies take turns, so each
  // event finds its policy by comparing the strings its emitter stamps (the same ones every time:
  // a pointer comparison), not by a map lookup.
  const recent: PolicyStats[] = [];
  const policyOf = (policy: string, name: string): PolicyStats => {
    let i = 1;
    while (i < recent.length) {
      const stats = recent[i] as PolicyStats;
      if (stats.name === name && stats.policy === policy) break;
      i++;
    }
    let stats: PolicyStats | undefined;
    if (i < recent.length) stats = recent[i] as PolicyStats;
    else {
      // One map lookup by name in the usual case (a name belongs to one kind); else the full one.
      stats = byName.get(name);
      if (stats === undefined || stats.policy !== policy) stats = lookup(policy, name);
      if (i < RECENT) recent.push(stats);
      else i = RECENT - 1; // the least recent makes room
    }
    for (; i > 0; i--) recent[i] = recent[i - 1] as PolicyStats;
    recent[0] = stats;
    return stats;
  };
  const bucketOf = bucketFinder(bounds);

  const onEvent: EventListener = (event: ResilienceEvent) => {
    const index = typeIndex(event.type);
    if (index === undefined) return;
    let stats = recent[0];
    if (stats === undefined || stats.name !== event.name || stats.policy !== event.policy) {
      stats = policyOf(event.policy, event.name);
    }
    let durationMs = 0;
    let bucket = -1;
    if (index <= FAILURE) {
      const ms = (event as { durationMs?: number }).durationMs;
      // A duration that is not a finite, non-negative number (a custom clock or a hand-made
      // event) counts the call but not its latency: one Infinity would make sums and the maximum
      // Infinity for good.
      if (typeof ms === 'number' && ms >= 0 && ms < Number.POSITIVE_INFINITY) {
        durationMs = ms;
        bucket = bucketOf(ms);
        if (record !== undefined) record(stats, ms);
      }
    }
    stats.add(event, index, durationMs, bucket);
  };

  /** Watched handles and their kind, re-attached after `reset()`. */
  const watched = new Map<WatchedSlots, string>();
  const attach = (handle: WatchedSlots, kind: string): void => lookup(kind, handle.name, true).slots.watch(handle);

  const metrics: Metrics = {
    onEvent,
    snapshot(snapshotOptions?: SnapshotOptions): MetricsSnapshot {
      const withKeys = snapshotOptions?.keys !== false;
      const now = opts.clock.now();
      return { time: now, policies: all.map((stats) => stats.snapshot(now, opts.recentMs, withKeys)) };
    },
    watch(policy: WatchedSlots): () => void {
      if (
        typeof policy !== 'object' ||
        policy === null ||
        typeof policy.name !== 'string' ||
        policy.name.length === 0 ||
        typeof policy.queued !== 'number' ||
        typeof policy.executing !== 'number'
      ) {
        throw new TypeError(
          `@palisade/metrics: watch() "policy" must be a bulkhead() or concurrencyLimit() (with name, queued and executing) (got ${describe(policy)})`,
        );
      }
      if (watched.has(policy)) return () => {};
      const kind = typeof policy.limit === 'number' ? 'concurrency-limit' : 'bulkhead';
      watched.set(policy, kind);
      attach(policy, kind);
      return () => {
        if (!watched.delete(policy)) return;
        byKind.get(kind)?.get(policy.name)?.slots.unwatch(policy);
      };
    },
    reset(): void {
      const waiting: [PolicyStats, number][] = [];
      for (const stats of all) if (stats.slots.waiting > 0) waiting.push([stats, stats.slots.waiting]);
      byKind.clear();
      byName.clear();
      all.length = 0;
      tracked = 0;
      generation++;
      recent.length = 0;
      for (const [handle, kind] of watched) attach(handle, kind);
      for (const [stats, queued] of waiting) lookup(stats.policy, stats.name, true).slots.carry(queued);
    },
  };
  INTERNALS.set(metrics, {
    options: opts,
    bounds,
    policies: () => all.values(),
    get generation() {
      return generation;
    },
  });
  if (opts.meter) {
    const { clock } = opts;
    record = instrumentOpenTelemetry(
      opts.meter,
      () => all.values(),
      opts.buckets,
      () => clock.now(),
    );
  }
  return metrics;
}
