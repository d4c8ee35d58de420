const BRAND: unique symbol = Symbol.for('palisade.resilience-error') as never;

/** The stable `code` of every palisade error. Prefixed so it never collides with Node's codes. */
export type ResilienceErrorCode =
  | 'PALISADE_TIMEOUT'
  | 'PALISADE_DEADLINE_EXCEEDED'
  | 'PALISADE_BROKEN_CIRCUIT'
  | 'PALISADE_BULKHEAD_REJECTED'
  | 'PALISADE_RATE_LIMITED'
  | 'PALISADE_RETRY_BUDGET_EXHAUSTED'
  /** `@palisade/fetch`: a response with a retryable status, as a failure inside the pipeline. */
  | 'PALISADE_HTTP_STATUS';

/** What every palisade error may carry beside its message. */
export interface ResilienceErrorOptions {
  /** The policy kind that threw (`'timeout'`, `'circuit-breaker'`, …). */
  policy?: string;
  /** The error that led to this one, if any. */
  cause?: unknown;
  /** How long the caller should wait before trying again, in ms. */
  retryAfterMs?: number;
}

/**
 * The base of every error palisade throws. Errors thrown by your own `fn` pass through unchanged
 * and never extend this. Use {@link isResilienceError} rather than `instanceof` across packages.
 */
export class ResilienceError extends Error {
  /** Stable machine-readable code, e.g. `PALISADE_TIMEOUT`. */
  readonly code: ResilienceErrorCode;
  /** The policy kind that threw. */
  readonly policy: string;
  /** When set, how long in ms the caller should wait before coming back. */
  readonly retryAfterMs: number | undefined;
  declare readonly [BRAND]: true;

  constructor(code: ResilienceErrorCode, message: string, options: ResilienceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.policy = options.policy ?? 'unknown';
    this.retryAfterMs = options.retryAfterMs;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** A timeout policy gave up on the call: `ctx.signal` was aborted with this error. */
export class TimeoutError extends ResilienceError {
  /** The timeout that elapsed, in ms. */
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options: ResilienceErrorOptions = {}) {
    super('PALISADE_TIMEOUT', `Operation timed out after ${timeoutMs} ms`, { policy: 'timeout', ...options });
    this.timeoutMs = timeoutMs;
  }
}

/** The operation's deadline (`ExecuteOptions.deadline`) has passed or would pass before it could finish. */
export class DeadlineExceededError extends ResilienceError {
  /** The deadline, in epoch ms. */
  readonly deadline: number;
  constructor(deadline: number, options: ResilienceErrorOptions = {}) {
    super('PALISADE_DEADLINE_EXCEEDED', 'Deadline exceeded', { policy: 'timeout', ...options });
    this.deadline = deadline;
  }
}

/** The circuit is open (or isolated, or half-open with all probes taken): `fn` was not called. */
export class BrokenCircuitError extends ResilienceError {
  /** The breaker state that rejected the call. */
  readonly state: 'open' | 'half-open' | 'isolated';
  constructor(state: 'open' | 'half-open' | 'isolated', options: ResilienceErrorOptions = {}) {
    super('PALISADE_BROKEN_CIRCUIT', `Circuit is ${state}: call rejected`, {
      policy: 'circuit-breaker',
      ...options,
    });
    this.state = state;
  }
}

/** A bulkhead or concurrency limit refused the call: `fn` was not called. */
export class BulkheadRejectedError extends ResilienceError {
  /** Why: every slot and queue place was taken, or the call waited in the queue too long. */
  readonly reason: 'full' | 'queue-timeout';
  constructor(reason: 'full' | 'queue-timeout', options: ResilienceErrorOptions = {}) {
    super(
      'PALISADE_BULKHEAD_REJECTED',
      reason === 'full' ? 'Bulkhead is full: call rejected' : 'Call waited too long in the bulkhead queue',
      { policy: 'bulkhead', ...options },
    );
    this.reason = reason;
  }
}

/** Everything an HTTP adapter needs for the IETF `RateLimit` headers. */
export interface RateLimitInfo {
  /** The limit in force (requests per window). */
  limit: number;
  /** Requests left in the current window. */
  remaining: number;
  /** Time in ms until the quota is fully restored. */
  resetMs: number;
  /** The window the limit applies to, in ms. */
  windowMs?: number;
}

/** A rate limiter refused the call: `fn` was not called. `retryAfterMs` says when to come back. */
export class RateLimitedError extends ResilienceError {
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
  readonly windowMs: number | undefined;
  declare readonly retryAfterMs: number;
  constructor(
    info: RateLimitInfo & { retryAfterMs: number },
    options: Omit<ResilienceErrorOptions, 'retryAfterMs'> = {},
  ) {
    super('PALISADE_RATE_LIMITED', `Rate limit exceeded: retry after ${Math.ceil(info.retryAfterMs)} ms`, {
      policy: 'rate-limit',
      ...options,
      retryAfterMs: info.retryAfterMs,
    });
    this.limit = info.limit;
    this.remaining = info.remaining;
    this.resetMs = info.resetMs;
    this.windowMs = info.windowMs;
  }
}

/** A retry budget is spent: the failed call was not retried. `cause` is the last attempt's error. */
export class RetryBudgetExhaustedError extends ResilienceError {
  constructor(options: ResilienceErrorOptions = {}) {
    super('PALISADE_RETRY_BUDGET_EXHAUSTED', 'Retry budget exhausted', { policy: 'retry', ...options });
  }
}

/**
 * True for any palisade error, even one thrown by a second copy of `@palisade/core`
 * (dual ESM/CJS loading), which `instanceof` would miss.
 */
export function isResilienceError(error: unknown): error is ResilienceError {
  return (
    error instanceof ResilienceError ||
    (typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true)
  );
}

const REJECTION_CODES: ReadonlySet<string> = new Set([
  'PALISADE_BROKEN_CIRCUIT',
  'PALISADE_BULKHEAD_REJECTED',
  'PALISADE_RATE_LIMITED',
  'PALISADE_RETRY_BUDGET_EXHAUSTED',
]);

/**
 * True for palisade's own refusals, where `fn` never ran and the caller is told not to come back
 * at once (open circuit, rate limited, bulkhead full, retry budget spent). Retries skip them and
 * breakers do not count them as failures of the dependency.
 */
export function isRejection(error: unknown): error is ResilienceError {
  return isResilienceError(error) && REJECTION_CODES.has(error.code);
}
