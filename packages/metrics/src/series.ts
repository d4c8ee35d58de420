import type { ResilienceEvent, ResilienceEventType } from '@palisade/core';
import { Histogram, type HistogramSnapshot, quantile } from './histogram.js';
import { KeyTable } from './keys.js';
import { type BulkheadSnapshot, SlotGauges } from './slots.js';
import { LATENCY_OFFSET, TIMELINE_COLUMNS, type Timeline, type TimelineColumn } from './timeline.js';

/**
 * Position of each event type in a series' counters. A `Record` over the union, so adding a type
 * to core's `ResilienceEventMap` fails to compile here until it is counted.
 */
const TYPE_INDEX: Readonly<Record<ResilienceEventType, number>> = Object.freeze({
  success: 0,
  failure: 1,
  retry: 2,
  timeout: 3,
  'circuit.rejected': 4,
  'bulkhead.rejected': 5,
  'ratelimit.rejected': 6,
  'ratelimit.queued': 7,
  'hedge.sent': 8,
  'hedge.won': 9,
  fallback: 10,
  'retry.budget-exhausted': 11,
  'hedge.budget-exhausted': 12,
  'ratelimit.store-error': 13,
  // From here on, events that change state (see STATEFUL).
  'bulkhead.queued': 14,
  'bulkhead.dequeued': 15,
  'limit.changed': 16,
  'circuit.open': 17,
  'circuit.half-open': 18,
  'circuit.close': 19,
  'circuit.isolated': 20,
});

/** Every event type, in counter order. */
export const EVENT_TYPES: readonly ResilienceEventType[] = Object.freeze(
  (Object.keys(TYPE_INDEX) as ResilienceEventType[]).sort((a, b) => TYPE_INDEX[a] - TYPE_INDEX[b]),
);
const TYPE_COUNT = EVENT_TYPES.length;
/** Counter index of `failure`: types up to it (`success`, `failure`) carry `durationMs`. */
export const FAILURE: number = TYPE_INDEX.failure;
const STATEFUL = TYPE_INDEX['bulkhead.queued'];

/**
 * The counter index of an event type, or `undefined` for a type this version does not know. The
 * frequent types are compared first (a switch on interned strings is ~3x cheaper than a keyed
 * property lookup); the rest fall back to the table.
 */
export function typeIndex(type: string): number | undefined {
  switch (type) {
    case 'success':
      return 0;
    case 'failure':
      return 1;
    case 'retry':
      return 2;
    case 'timeout':
      return 3;
    case 'circuit.rejected':
      return 4;
    case 'bulkhead.rejected':
      return 5;
    case 'ratelimit.rejected':
      return 6;
    default:
      return TYPE_INDEX[type as ResilienceEventType];
  }
}

/** Timeline column of each event type (-1: not on the timeline). */
const COLUMN: Int8Array = (() => {
  const column = new Int8Array(TYPE_COUNT).fill(-1);
  const set = (type: ResilienceEventType, name: TimelineColumn) => {
    column[TYPE_INDEX[type]] = TIMELINE_COLUMNS.indexOf(name);
  };
  set('success', 'success');
  set('failure', 'failure');
  set('retry', 'retry');
  set('timeout', 'timeout');
  set('circuit.rejected', 'rejected');
  set('bulkhead.rejected', 'rejected');
  set('ratelimit.rejected', 'rejected');
  return column;
})();

/** A circuit breaker's state. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_OF: Partial<Record<ResilienceEventType, CircuitState>> = {
  'circuit.open': 'open',
  'circuit.half-open': 'half-open',
  'circuit.close': 'closed',
  'circuit.isolated': 'isolated',
};

/** How many events of each type a series has seen. */
export type EventCounts = Record<ResilienceEventType, number>;

/** What a snapshot reports for a policy or one of its keys. */
export interface SeriesSnapshot {
  /** Events seen, per type (every type is present, most are 0). */
  counts: EventCounts;
  /** Calls that ended: `success + failure`. */
  calls: number;
  /** Calls shed without running: `circuit.rejected + bulkhead.rejected + ratelimit.rejected`. */
  rejected: number;
  /** `failure / calls`, or `undefined` before the first call. */
  errorRate: number | undefined;
  /** Durations of calls (`durationMs` of `success` and `failure` events). */
  latency: HistogramSnapshot;
  /** Time of the last event (the policy's clock), 0 if none. */
  lastEventTime: number;
}

/** One key of a policy (`event.key`), in a snapshot. */
export interface KeySnapshot extends SeriesSnapshot {
  key: string;
}

/** A breaker state change, as kept in a policy's history. */
export interface CircuitTransition {
  /** When it changed (the policy's clock). */
  time: number;
  /** The state it entered. */
  state: CircuitState;
  /** The key of the call that caused it, when the event had one. */
  key?: string;
  /** For `open`: the failure rate (0–1) that tripped it. */
  failureRate?: number;
  /** For `open`: the slow-call rate (0–1) that tripped it. */
  slowCallRate?: number;
  /** For `open`: how long it stays open, in ms. */
  openMs?: number;
}

/**
 * A breaker's state in a snapshot, as the breaker would report it at the snapshot's `time`: an
 * open breaker whose `openMs` has passed reads `half-open` (since the end of `openMs`), though the
 * breaker itself only says so (`circuit.half-open`) when the next call or read of its `state`
 * comes.
 */
export interface CircuitSnapshot {
  state: CircuitState;
  /** When it entered `state` (the policy's clock). */
  since: number;
  /** While `open`: when it lets probes through (`time + openMs` of its `circuit.open`), epoch ms. */
  until?: number;
  /** The last state changes, newest first (at most `maxTransitions`). */
  transitions: CircuitTransition[];
}

/** Rates and percentiles over the last `windowMs`, read from the timeline. */
export interface RecentSnapshot {
  windowMs: number;
  /** Events per second over the window. `rejected` = calls shed by breakers, bulkheads and limiters. */
  perSecond: Record<TimelineColumn, number>;
  /** `failure / (success + failure)` over the window, or `undefined` when no call ended. */
  errorRate: number | undefined;
  /** Latency percentiles over the window, in ms (`undefined` when no call ended). */
  p50: number | undefined;
  p90: number | undefined;
  p99: number | undefined;
}

/** One policy (kind + name) in a snapshot. */
export interface PolicySnapshot extends SeriesSnapshot {
  /** The pattern kind (`event.policy`): `'retry'`, `'circuit-breaker'`, … */
  policy: string;
  /** The instance name (`event.name`). `"(overflow)"` collects policies beyond `maxPolicies`. */
  name: string;
  /** Present for breakers (kind `circuit-breaker`, or any policy that emitted `circuit.*`). */
  circuit?: CircuitSnapshot;
  /** Present once a bulkhead reported its queue (`bulkhead.queued`, `.dequeued`) or is watched (`metrics.watch`). */
  bulkhead?: BulkheadSnapshot;
  /** The concurrency limit: a watched `concurrencyLimit()`'s, else the last `limit.changed`. */
  limit?: number;
  /** Rates and percentiles over the last `recentMs`. */
  recent: RecentSnapshot;
  /** Keys tracked now, most recently seen first (empty when the snapshot was taken without keys). */
  keys: KeySnapshot[];
  /** How many keys are tracked (≤ `maxKeysPerPolicy`). */
  trackedKeys: number;
  /** Keys evicted so far to respect `maxKeysPerPolicy`. */
  evictedKeys: number;
}

/** Counters and latency of one policy or key. */
export class Series {
  readonly counts = new Float64Array(TYPE_COUNT);
  readonly latency: Histogram;
  lastTime = 0;

  constructor(bounds: Float64Array) {
    this.latency = new Histogram(bounds);
  }

  add(index: number, time: number, durationMs: number, bucket: number): void {
    this.counts[index] = (this.counts[index] as number) + 1;
    this.lastTime = time;
    if (bucket >= 0) this.latency.add(durationMs, bucket);
  }

  snapshot(): SeriesSnapshot {
    const counts = {} as EventCounts;
    for (let i = 0; i < TYPE_COUNT; i++) counts[EVENT_TYPES[i] as ResilienceEventType] = this.counts[i] as number;
    const calls = counts.success + counts.failure;
    return {
      counts,
      calls,
      rejected: counts['circuit.rejected'] + counts['bulkhead.rejected'] + counts['ratelimit.rejected'],
      errorRate: calls === 0 ? undefined : counts.failure / calls,
      latency: this.latency.snapshot(),
      lastEventTime: this.lastTime,
    };
  }
}

/** Everything kept for one policy: totals, bounded keys, breaker history, timeline. */
export class PolicyStats {
  readonly policy: string;
  readonly name: string;
  readonly total: Series;
  /** Its keys, least recently seen evicted past `maxKeysPerPolicy`; none with a cap of 0. */
  readonly keys: KeyTable | undefined;
  readonly timeline: Timeline;
  readonly transitions: CircuitTransition[] = [];
  /** The state the breaker last announced (see {@link circuitAt} for the state as of now). */
  circuit: CircuitState | undefined;
  circuitSince = 0;
  /** After `circuit.open`: when probes may start (`time + openMs`); NaN when not known. */
  openUntil = Number.NaN;
  /** Queue, running calls and adaptive limit (bulkheads and concurrency limits). */
  readonly slots = new SlotGauges();
  /** OpenTelemetry attributes of this policy, built once (see opentelemetry.ts). */
  attributes: Readonly<Record<string, string>> | undefined;
  readonly #bounds: Float64Array;
  readonly #maxTransitions: number;
  /** No event counted yet: the first one starts a breaker's `closed` state. */
  #fresh = true;
  #lastKey: string | undefined;
  #lastSeries: Series | undefined;

  constructor(
    policy: string,
    name: string,
    bounds: Float64Array,
    maxKeys: number,
    maxTransitions: number,
    timeline: Timeline,
  ) {
    this.policy = policy;
    this.name = name;
    this.#bounds = bounds;
    this.#maxTransitions = maxTransitions;
    this.total = new Series(bounds);
    this.timeline = timeline;
    this.keys = maxKeys > 0 ? new KeyTable(maxKeys, () => new Series(bounds)) : undefined;
    if (policy === 'circuit-breaker') this.circuit = 'closed';
  }

  /** Keys evicted so far to respect `maxKeysPerPolicy`. */
  get evictedKeys(): number {
    return this.keys?.evicted ?? 0;
  }

  /**
   * Counts one event (`index` from {@link typeIndex}) with its latency bucket (-1: none). O(1): a
   * key seen before costs a `Map.get` and a relink, none when it is the previous event's.
   */
  add(event: ResilienceEvent, index: number, durationMs: number, bucket: number): void {
    const time = event.time;
    if (this.#fresh) {
      this.#fresh = false;
      if (this.circuit === 'closed') this.circuitSince = time;
    }
    this.total.add(index, time, durationMs, bucket);
    const key = event.key;
    if (key !== undefined && this.keys !== undefined) {
      let series = this.#lastSeries;
      if (key !== this.#lastKey || series === undefined) {
        series = this.keys.touch(key);
        this.#lastKey = key;
        this.#lastSeries = series;
      }
      series.add(index, time, durationMs, bucket);
    }
    this.timeline.add(time, COLUMN[index] as number, bucket);
    if (index >= STATEFUL) this.#change(event);
  }

  #change(event: ResilienceEvent): void {
    if (event.type === 'bulkhead.queued') {
      this.slots.enqueued();
      return;
    }
    if (event.type === 'bulkhead.dequeued') {
      this.slots.dequeued();
      return;
    }
    if (event.type === 'limit.changed') {
      this.slots.limitChanged(event.limit);
      return;
    }
    const state = STATE_OF[event.type];
    if (state === undefined) return;
    this.circuit = state;
    this.circuitSince = event.time;
    const openMs = (event as { openMs?: unknown }).openMs;
    this.openUntil = state === 'open' && typeof openMs === 'number' ? event.time + openMs : Number.NaN;
    if (this.#maxTransitions === 0) return;
    const transition: CircuitTransition = { time: event.time, state };
    if (event.key !== undefined) transition.key = event.key;
    if (event.type === 'circuit.open') {
      transition.failureRate = event.failureRate;
      transition.slowCallRate = event.slowCallRate;
      transition.openMs = event.openMs;
    }
    this.transitions.push(transition);
    if (this.transitions.length > this.#maxTransitions) this.transitions.shift();
  }

  /**
   * The breaker's state as it would report it at `now` (no event needed, nothing changed): an open
   * breaker turns half-open once `openMs` has passed, but only announces it on its next call.
   */
  circuitAt(now: number): CircuitState | undefined {
    const state = this.circuit;
    return state === 'open' && now >= this.openUntil ? 'half-open' : state;
  }

  /** The breaker's state at `now` for a snapshot (see {@link circuitAt}). */
  circuitSnapshot(now: number): CircuitSnapshot | undefined {
    const announced = this.circuit;
    if (announced === undefined) return undefined;
    const state = this.circuitAt(now) as CircuitState;
    const snap: CircuitSnapshot = {
      state,
      since: state === announced ? this.circuitSince : this.openUntil,
      transitions: [...this.transitions].reverse(),
    };
    if (state === 'open' && !Number.isNaN(this.openUntil)) snap.until = this.openUntil;
    return snap;
  }

  /** Rates and percentiles over the `windowMs` that ends at `now`. */
  recent(now: number, windowMs: number): RecentSnapshot {
    const { timeline } = this;
    const to = timeline.epochOf(now);
    const slots = Math.max(1, Math.round(windowMs / timeline.resolutionMs));
    const sums = timeline.sum(to - slots + 1, to, new Float64Array(timeline.width));
    const seconds = windowMs / 1_000;
    const perSecond = {} as Record<TimelineColumn, number>;
    TIMELINE_COLUMNS.forEach((column, i) => {
      perSecond[column] = (sums[i] as number) / seconds;
    });
    const calls = (sums[0] as number) + (sums[1] as number);
    return {
      windowMs,
      perSecond,
      errorRate: calls === 0 ? undefined : (sums[1] as number) / calls,
      p50: quantile(this.#bounds, sums, 0.5, LATENCY_OFFSET),
      p90: quantile(this.#bounds, sums, 0.9, LATENCY_OFFSET),
      p99: quantile(this.#bounds, sums, 0.99, LATENCY_OFFSET),
    };
  }

  snapshot(now: number, recentMs: number, withKeys: boolean): PolicySnapshot {
    const snap: PolicySnapshot = {
      policy: this.policy,
      name: this.name,
      ...this.total.snapshot(),
      recent: this.recent(now, recentMs),
      keys: [],
      trackedKeys: this.keys?.size ?? 0,
      evictedKeys: this.evictedKeys,
    };
    const circuit = this.circuitSnapshot(now);
    if (circuit !== undefined) snap.circuit = circuit;
    const bulkhead = this.slots.snapshot();
    if (bulkhead !== undefined) snap.bulkhead = bulkhead;
    const limit = this.slots.limit();
    if (limit !== undefined) snap.limit = limit;
    if (withKeys && this.keys) {
      for (const [key, series] of this.keys.entries()) snap.keys.push({ key, ...series.snapshot() });
    }
    return snap;
  }
}
