import { type Clock, systemClock } from './clock.js';
import { type Emit, type EventListener, createEmitter } from './events.js';
import { describe } from './duration.js';

/** What a policy hands to `fn` (and to the policies inside it). */
export interface Context {
  /**
   * Aborted when the caller, a timeout, a deadline or a hedge winner says stop. Pass it to
   * `fetch`/streams so abandoned work really stops. Created on first read, so a call that never
   * looks at it pays nothing for it.
   */
  readonly signal: AbortSignal;
  /** 1-based attempt number, counted by retry and hedge. */
  readonly attempt: number;
  /** The key of per-key state (host, route, user id), when there is one. */
  readonly key?: string | undefined;
  /** Epoch ms by which the whole operation must end, when there is one. */
  readonly deadline?: number | undefined;
}

/** Per-call options of {@link Policy.execute}. */
export interface ExecuteOptions {
  /** Aborting it rejects the call promptly with `signal.reason` and releases everything held. */
  signal?: AbortSignal | undefined;
  /** Selects per-key state (host, route, user id) in keyed policies. */
  key?: string | undefined;
  /** Epoch ms by which the whole operation must end. */
  deadline?: number | undefined;
}

/** The one shape of every palisade pattern. */
export interface Policy {
  /** The instance name (defaults to the pattern kind). */
  readonly name: string;
  /** Runs `fn` under the policy. Errors thrown by `fn` pass through unchanged. */
  execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: ExecuteOptions): Promise<T>;
}

/** The options every policy factory takes. */
export interface PolicyOptions {
  /** Instance name, reported in events and errors. @default the pattern kind, e.g. `"retry"` */
  name?: string;
  /** Source of time for every wait and timestamp. @default systemClock */
  clock?: Clock;
  /**
   * Receives every {@link ResilienceEvent} of this policy. A listener that throws never changes
   * the call's outcome. @example onEvent: metrics.onEvent
   */
  onEvent?: EventListener;
}

/** The resolved common options of a policy. */
export interface PolicyBase {
  readonly name: string;
  readonly clock: Clock;
  /** `undefined` when nobody listens: test it before building an event. */
  readonly emit: Emit | undefined;
}

/**
 * Validates and resolves `name`, `clock` and `onEvent` once, at construction.
 * @param pkg package name used in error messages, e.g. `'@palisade/retry'`
 * @param kind pattern kind, the default name and the `policy` field of events
 */
export function resolvePolicyOptions(pkg: string, kind: string, options: PolicyOptions): PolicyBase {
  const { name = kind, clock = systemClock, onEvent } = options;
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`${pkg}: "name" must be a non-empty string (got ${describe(name)})`);
  }
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.sleep !== 'function'
  ) {
    throw new TypeError(`${pkg}: "clock" must be a Clock with now() and sleep() (got ${describe(clock)})`);
  }
  if (onEvent !== undefined && typeof onEvent !== 'function') {
    throw new TypeError(`${pkg}: "onEvent" must be a function (got ${describe(onEvent)})`);
  }
  return { name, clock, emit: createEmitter(kind, name, clock, onEvent) };
}
