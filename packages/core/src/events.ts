import type { Clock } from './clock.js';
import { reportCallbackError } from './report.js';

/** Fields every event carries. */
export interface EventBase {
  /** The pattern kind: `'retry'`, `'circuit-breaker'`, `'timeout'`, `'bulkhead'`, … */
  policy: string;
  /** The instance name given to the factory (defaults to the kind). */
  name: string;
  /** The per-key state the event concerns (host, route, client), when there is one. */
  key?: string;
  /** When it happened, from the policy's clock (epoch ms). */
  time: number;
}

/** Per-type fields of {@link ResilienceEvent}. One entry per `type`; the list is fixed. */
export interface ResilienceEventMap {
  /** A call through the policy succeeded. */
  success: { durationMs?: number; attempt?: number };
  /**
   * A call through the policy failed (the error is passed through to the caller). When a returned
   * value was judged a failure (a breaker's `isFailure`, e.g. an HTTP 500), `error` is undefined
   * and `value` holds it.
   */
  failure: { durationMs?: number; attempt?: number; error: unknown; value?: unknown };
  /** A retry is scheduled: attempt `attempt` will start after `delayMs`. */
  retry: { attempt: number; delayMs: number; error?: unknown; value?: unknown };
  /** The retry budget refused a retry. */
  'retry.budget-exhausted': { attempt: number; error?: unknown };
  /** A timeout fired (or a deadline passed, when `deadline` is true). */
  timeout: { timeoutMs: number; deadline: boolean };
  /** The breaker opened; calls are rejected for `openMs`. */
  'circuit.open': { failureRate: number; slowCallRate: number; openMs: number };
  /** The breaker lets probes through. */
  'circuit.half-open': Record<never, never>;
  /** The breaker closed again. */
  'circuit.close': Record<never, never>;
  /** The breaker was isolated (held open by hand). */
  'circuit.isolated': Record<never, never>;
  /** The breaker rejected a call without running it. */
  'circuit.rejected': { state: 'open' | 'half-open' | 'isolated'; retryAfterMs?: number };
  /**
   * A bulkhead or concurrency limit refused a call: no slot nor queue place (`'full'`), or it waited
   * `queueTimeoutMs` (`'queue-timeout'`, after its `bulkhead.dequeued`).
   */
  'bulkhead.rejected': { reason: 'full' | 'queue-timeout' };
  /**
   * A call started to wait for a bulkhead or concurrency limit slot. `queued` is the queue length
   * now, this call included. Every call that queues later leaves with one `bulkhead.dequeued`.
   */
  'bulkhead.queued': { queued: number };
  /**
   * A waiter left a bulkhead's or concurrency limit's queue: let into a freed slot (`'admitted'`),
   * abandoned by its caller's signal (`'aborted'`), or out of time (`'queue-timeout'`, followed by
   * `bulkhead.rejected`). `queued` is the queue length now, after it left. One per
   * `bulkhead.queued`, so the two keep a queue gauge exact from events alone.
   */
  'bulkhead.dequeued': { queued: number; reason: 'admitted' | 'aborted' | 'queue-timeout' };
  /** An adaptive concurrency limit moved. */
  'limit.changed': { limit: number; previous: number };
  /** A rate limiter refused a call. */
  'ratelimit.rejected': { retryAfterMs: number; limit: number; remaining: number };
  /** A throttled call waits `waitMs` for its turn. */
  'ratelimit.queued': { waitMs: number };
  /** The rate limit store failed; `mode` says what the limiter did about it. */
  'ratelimit.store-error': { error: unknown; mode: 'fail-open' | 'fail-closed' };
  /** A hedged attempt was started `afterMs` after the first. */
  'hedge.sent': { attempt: number; afterMs: number };
  /** A hedged call was won by `attempt`. */
  'hedge.won': { attempt: number };
  /** The hedging budget is spent; no hedge was sent. */
  'hedge.budget-exhausted': Record<never, never>;
  /** A fallback handled a failure and returned its own value. */
  fallback: { error: unknown };
}

/** Every event type palisade emits. */
export type ResilienceEventType = keyof ResilienceEventMap;

/**
 * What every policy emits: one discriminated union on `type`. `@palisade/metrics` consumes exactly
 * this; nothing else is needed to observe any policy.
 */
export type ResilienceEvent = {
  [T in ResilienceEventType]: EventBase & { type: T } & ResilienceEventMap[T];
}[ResilienceEventType];

/**
 * The event a policy hands to its emitter: `policy` and `name` are stamped for it, and `time`
 * unless the policy passes the `now` it already read (a clock read saved on a timed call's end).
 */
export type EventInit = {
  [T in ResilienceEventType]: { type: T; key?: string | undefined; time?: number } & ResilienceEventMap[T];
}[ResilienceEventType];

/**
 * The `onEvent` hook every factory takes. A listener that throws never changes a call's outcome;
 * its first error is reported as a `PalisadeWarning` (see `reportCallbackError`).
 */
export type EventListener = (event: ResilienceEvent) => void;

/** Stamps and delivers events for one policy. Only exists when the user passed `onEvent`. */
export type Emit = (event: EventInit) => void;

/**
 * Builds the emitter for one policy, or `undefined` when there is no listener — policies test it
 * before building an event, so an unobserved policy allocates nothing and reads no clock for events.
 * The emitter reads `clock` only for an event that comes without a `time`.
 */
export function createEmitter(
  policy: string,
  name: string,
  clock: Clock,
  onEvent: EventListener | undefined,
): Emit | undefined {
  if (!onEvent) return undefined;
  return (init) => {
    const event = init as ResilienceEvent;
    event.policy = policy;
    event.name = name;
    if (event.time === undefined) event.time = clock.now();
    try {
      onEvent(event);
    } catch (error) {
      // A listener's failure must never change the outcome of the call it observes.
      reportCallbackError('onEvent', onEvent, error);
    }
  };
}

/** Combines listeners into one (undefined ones are skipped). */
export function combineListeners(...listeners: (EventListener | undefined)[]): EventListener | undefined {
  const present = listeners.filter((l): l is EventListener => typeof l === 'function');
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return (event) => {
    for (const listener of present) {
      try {
        listener(event);
      } catch (error) {
        reportCallbackError('onEvent', listener, error); // see createEmitter
      }
    }
  };
}
