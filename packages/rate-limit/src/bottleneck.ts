import {
  type Context,
  type Duration,
  type Emit,
  type ExecuteOptions,
  type Policy,
  type PolicyOptions,
  RateLimitedError,
  TimeoutError,
  abortReason,
  callerSignal,
  createValidator,
  describe,
  invoke,
  isAborted,
  optionsObject,
  resolvePolicyOptions,
  toContext,
  offAbort,
  onAbort,
} from '@palisade/core';

/**
 * The part of a bottleneck limiter (`new Bottleneck(...)`, local or clustered on Redis) that
 * {@link fromBottleneck} uses. Declared here so that the types need no `bottleneck` install.
 */
export interface BottleneckLimiter {
  schedule<R, A>(fn: (arg: A) => PromiseLike<R>, arg: A): Promise<R>;
  on(name: 'dropped', fn: (dropped: { readonly args: readonly unknown[] }) => void): void;
}

/** Options of {@link fromBottleneck}. */
export interface FromBottleneckOptions extends PolicyOptions {
  /**
   * What the `RateLimitedError` of a job bottleneck dropped (queue past `highWater`, a `LEAK` or
   * `BLOCK` strategy, `stop()`) tells the caller about coming back, in ms or a duration string:
   * bottleneck itself does not say.
   * @default 1_000
   */
  retryAfterMs?: Duration;
}

/** Defaults of {@link FromBottleneckOptions}. */
export const FROM_BOTTLENECK_DEFAULTS = Object.freeze({ retryAfterMs: 1_000 });

const PKG = '@palisade/rate-limit';
const check = createValidator(PKG);

interface Wrapper {
  readonly emit: Emit | undefined;
  readonly now: () => number;
  readonly retryAfterMs: number;
}

/** One call through the limiter: the job's argument, and the listener on the caller's signal. */
class BottleneckCall<T> {
  readonly wrapper: Wrapper;
  readonly fn: (ctx: Context) => Promise<T> | T;
  readonly ctx: Context;
  readonly scheduledAt: number;
  caller: AbortSignal | undefined = undefined;
  settled = false;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;

  constructor(wrapper: Wrapper, fn: (ctx: Context) => Promise<T> | T, ctx: Context) {
    this.wrapper = wrapper;
    this.fn = fn;
    this.ctx = ctx;
    this.scheduledAt = wrapper.emit ? wrapper.now() : 0;
  }

  /** The caller aborted: reject now; if the job has not started, it will not call `fn`. */
  handleEvent(): void {
    this.fail(this.caller?.reason);
  }

  done(value: T): void {
    if (this.settle()) this.resolve(value);
  }

  fail(reason: unknown): void {
    if (this.settle()) this.reject(reason);
  }

  /** Bottleneck dropped the job: `fn` never ran. */
  dropped(cause: unknown): void {
    const { emit, retryAfterMs } = this.wrapper;
    if (this.settled) return;
    if (emit) emit({ type: 'ratelimit.rejected', key: this.ctx.key, retryAfterMs, limit: 0, remaining: 0 });
    this.fail(
      new RateLimitedError(
        { retryAfterMs, limit: 0, remaining: 0, resetMs: retryAfterMs },
        { policy: 'bottleneck', cause },
      ),
    );
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.caller) offAbort(this.caller, this);
    return true;
  }
}

const SKIPPED: Promise<undefined> = Promise.resolve(undefined);

/** The job bottleneck runs: `fn`, unless the call was settled (aborted, dropped) meanwhile. */
function runJob<T>(call: BottleneckCall<T>): Promise<T | undefined> {
  if (call.settled) return SKIPPED;
  if (isAborted(call.ctx)) {
    call.fail(abortReason(call.ctx));
    return SKIPPED;
  }
  const { emit, now } = call.wrapper;
  if (emit) {
    const waitMs = now() - call.scheduledAt;
    if (waitMs > 0) emit({ type: 'ratelimit.queued', key: call.ctx.key, waitMs });
  }
  return invoke(call.fn, call.ctx);
}

/** bottleneck's own errors (dropped, expired, stopped), told apart from errors thrown by `fn`. */
const isBottleneckError = (error: unknown): error is Error =>
  error instanceof Error && error.constructor.name === 'BottleneckError';

const EXPIRED = /timed out after (\d+) ms/;

/**
 * An existing bottleneck limiter (local, or clustered on Redis) as a palisade Policy, so a codebase
 * can adopt palisade without rewriting its bottleneck setup: every call is scheduled through the
 * limiter; a job it drops (queue full, `LEAK`/`BLOCK` strategies, `stop()`) rejects with a
 * `RateLimitedError` and a `ratelimit.rejected` event; a job past its `expiration` rejects with a
 * `TimeoutError`; a call that waited emits `ratelimit.queued`. Aborting the caller's signal rejects
 * at once, and a job still queued then skips `fn` when bottleneck reaches it (bottleneck cannot
 * take a queued job back). Errors thrown by `fn` pass through unchanged.
 *
 * bottleneck yields to a timer on every job (milliseconds each): fine for pacing a few calls per
 * second, too slow for a hot path — use `throttle()` there.
 *
 * @example
 * const limiter = new Bottleneck({ maxConcurrent: 2, minTime: 100 });
 * const policy = fromBottleneck(limiter, { name: 'github' });
 * await policy.execute(({ signal }) => fetch(url, { signal }));
 */
export function fromBottleneck(limiter: BottleneckLimiter, options?: FromBottleneckOptions): Policy {
  if (
    typeof limiter !== 'object' ||
    limiter === null ||
    typeof limiter.schedule !== 'function' ||
    typeof limiter.on !== 'function'
  ) {
    throw new TypeError(`${PKG}: fromBottleneck() takes a Bottleneck limiter (got ${describe(limiter)})`);
  }
  const opts = optionsObject(PKG, 'fromBottleneck', options);
  check.knownKeys(opts, ['retryAfterMs', 'name', 'clock', 'onEvent']);
  const { name, clock, emit } = resolvePolicyOptions(PKG, 'bottleneck', opts);
  const retryAfterMs = check.duration('retryAfterMs', opts.retryAfterMs, FROM_BOTTLENECK_DEFAULTS.retryAfterMs);
  const wrapper: Wrapper = { emit, now: () => clock.now(), retryAfterMs };

  // One listener for the limiter's lifetime: a dropped job's argument is our call.
  limiter.on('dropped', (info) => {
    const call = info?.args?.[0];
    if (call instanceof BottleneckCall && call.wrapper === wrapper) call.dropped(undefined);
  });

  const failed = <T>(call: BottleneckCall<T>, error: unknown): void => {
    if (call.settled || !isBottleneckError(error)) {
      call.fail(error);
      return;
    }
    const expired = EXPIRED.exec(error.message);
    if (!expired) {
      call.dropped(error);
      return;
    }
    const timeoutMs = Number(expired[1]);
    if (emit) emit({ type: 'timeout', key: call.ctx.key, timeoutMs, deadline: false });
    call.fail(new TimeoutError(timeoutMs, { policy: 'bottleneck', cause: error }));
  };

  return {
    name,
    execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      if (isAborted(executeOptions)) return Promise.reject(abortReason(executeOptions));
      const call = new BottleneckCall(wrapper, fn, toContext(executeOptions));
      return new Promise<T>((resolve, reject) => {
        call.resolve = resolve;
        call.reject = reject;
        const caller = callerSignal(executeOptions);
        if (caller) {
          call.caller = caller;
          onAbort(caller, call);
        }
        limiter.schedule(runJob, call).then(
          (value) => call.done(value as T),
          (error: unknown) => failed(call, error),
        );
      });
    },
  };
}
