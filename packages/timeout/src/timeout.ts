import {
  type CancelTimer,
  type Context,
  DeadlineExceededError,
  type ExecuteOptions,
  FUSE,
  type FusablePolicy,
  type FusedOutcome,
  type FusedStage,
  type Policy,
  type PolicyContext,
  type QueuedTimer,
  type TimerQueue,
  Refusal,
  TimeoutError,
  abortReason,
  callerSignal,
  createContext,
  invoke,
  isAborted,
  startTimer,
  timerQueue,
  offAbort,
  onAbort,
} from '@palisade/core';
import {
  type NormalizedTimeoutOptions,
  type TimeoutOptions,
  type TimeoutStrategy,
  normalizeTimeoutOptions,
} from './options.js';

/** The policy returned by {@link timeout}. */
export interface TimeoutPolicy extends Policy {
  /** The configured timeout, in ms. */
  readonly ms: number;
  /** The configured strategy. */
  readonly strategy: TimeoutStrategy;
}

/**
 * State of one call. It is the argument of the shared timer queue and the listener object on the
 * caller's signal, so a call allocates this, its Context, a queue entry and the two handlers of
 * `fn`'s outcome — no closure for the timer or the signal, no AbortController (unless `fn` reads
 * `ctx.signal`), no runtime timer.
 */
class TimeoutCall implements FusedStage {
  readonly ctx: PolicyContext;
  readonly policy: NormalizedTimeoutOptions;
  readonly queue: TimerQueue;
  readonly ms: number;
  readonly byDeadline: boolean;
  timer: QueuedTimer | undefined = undefined;
  cancelTimer: CancelTimer | undefined = undefined;
  caller: AbortSignal | undefined = undefined;
  reject: ((reason: unknown) => void) | undefined = undefined;
  error: TimeoutError | DeadlineExceededError | undefined = undefined;
  settled = false;

  constructor(
    ctx: PolicyContext,
    policy: NormalizedTimeoutOptions,
    queue: TimerQueue,
    ms: number,
    byDeadline: boolean,
  ) {
    this.ctx = ctx;
    this.policy = policy;
    this.queue = queue;
    this.ms = ms;
    this.byDeadline = byDeadline;
  }

  /** Caller's signal aborted: reject at once with its reason (both strategies). */
  handleEvent(): void {
    const reason = this.caller?.reason;
    this.abandon(reason);
    this.reject?.(reason);
  }

  /** Its part of a fused pipeline's call (cooperative): as {@link cooperative} and {@link raced}. */
  settle(outcome: FusedOutcome): undefined {
    // The caller aborted: abandoned already, as handleEvent; its reason stands, even over a timeout
    // that fired before it.
    if (outcome.aborted) return undefined;
    this.finish();
    if (!outcome.ok && this.error !== undefined) outcome.result = this.error;
    return undefined;
  }

  /** The caller aborted: abort the work inside with its reason and stop the timer. */
  abandon(reason: unknown): void {
    this.ctx.abort(reason);
    this.finish();
  }

  finish(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) this.queue.cancel(this.timer);
    this.cancelTimer?.();
    if (this.caller) offAbort(this.caller, this);
    this.ctx.dispose();
  }
}

function onTimeout(call: TimeoutCall): void {
  if (call.settled) return;
  call.timer = undefined;
  call.cancelTimer = undefined;
  const { policy, ctx } = call;
  const error = call.byDeadline
    ? new DeadlineExceededError(ctx.deadline as number, { policy: 'timeout' })
    : new TimeoutError(call.ms);
  call.error = error;
  if (policy.emit) policy.emit({ type: 'timeout', key: ctx.key, timeoutMs: call.ms, deadline: call.byDeadline });
  ctx.abort(error);
  if (policy.strategy === 'aggressive') {
    call.finish();
    call.reject?.(error);
  }
}

/**
 * `fn`'s promise, settled through the call: a `then` rather than an async function, whose frame,
 * promise and await plumbing cost about twice the allocation on every call.
 */
function cooperative<T>(fn: (ctx: Context) => Promise<T> | T, call: TimeoutCall): Promise<T> {
  return invoke(fn, call.ctx).then(
    (value) => {
      call.finish();
      return value;
    },
    (error: unknown) => {
      call.finish();
      throw call.error ?? error;
    },
  );
}

function raced<T>(fn: (ctx: Context) => Promise<T> | T, call: TimeoutCall): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    call.reject = reject;
    if (call.caller) onAbort(call.caller, call);
    invoke(fn, call.ctx).then(
      (value) => {
        call.finish();
        resolve(value);
      },
      (error: unknown) => {
        call.finish();
        reject(call.error ?? error);
      },
    );
  });
}

/**
 * Bounds how long a call may run. When `ms` elapses, `ctx.signal` is aborted with a `TimeoutError`
 * and the call rejects with it — at once (`'aggressive'`) or when `fn` settles (`'cooperative'`,
 * the default; if `fn` still resolves, its value is returned). Inner policies see the deadline
 * (`ctx.deadline`), so a retry inside never sleeps past it. An incoming deadline that ends sooner
 * shortens the timeout and fails with `DeadlineExceededError`; one already past rejects without
 * calling `fn`.
 *
 * @example
 * const withTimeout = timeout({ ms: '2s' });
 * const res = await withTimeout.execute(({ signal }) => fetch(url, { signal }));
 */
export function timeout(options?: TimeoutOptions): TimeoutPolicy {
  const policy = normalizeTimeoutOptions(options);
  const { clock, strategy } = policy;
  const q = timerQueue(clock, policy.ms);

  /** Admits a call: its state with the timer started, or why it ends at once. */
  const begin = (executeOptions: ExecuteOptions | undefined): TimeoutCall | Refusal => {
    if (isAborted(executeOptions)) return new Refusal(abortReason(executeOptions));
    const now = clock.now();
    let ms = policy.ms;
    let byDeadline = false;
    const incoming = executeOptions?.deadline;
    if (incoming !== undefined) {
      const left = incoming - now;
      if (left <= 0) {
        if (policy.emit) policy.emit({ type: 'timeout', key: executeOptions?.key, timeoutMs: 0, deadline: true });
        return new Refusal(new DeadlineExceededError(incoming, { policy: 'timeout' }));
      }
      if (left < ms) {
        ms = left;
        byDeadline = true;
      }
    }
    const ctx = createContext(executeOptions);
    ctx.deadline = now + ms;
    const call = new TimeoutCall(ctx, policy, q, ms, byDeadline);
    if (byDeadline) call.cancelTimer = startTimer(clock, ms, () => onTimeout(call), true);
    else call.timer = q.add(onTimeout, call, now);
    return call;
  };

  const timeoutPolicy: TimeoutPolicy & Partial<FusablePolicy> = {
    name: policy.name,
    ms: policy.ms,
    strategy,
    execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      const call = begin(executeOptions);
      if (call instanceof Refusal) return Promise.reject(call.error);
      const caller = callerSignal(executeOptions);
      if (caller === undefined && strategy === 'cooperative') return cooperative(fn, call);
      call.caller = caller;
      return raced(fn, call);
    },
  };
  // An aggressive timeout races the work, which a fused pipeline's one promise cannot.
  if (strategy === 'cooperative') timeoutPolicy[FUSE] = begin;
  return timeoutPolicy;
}
