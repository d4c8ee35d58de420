import { describe } from './duration.js';
import {
  FUSE,
  type FusablePolicy,
  type FusedOutcome,
  type FusedWork,
  Refusal,
  type Settler,
  isFusable,
} from './fuse.js';
import { invoke } from './noop.js';
import type { Context, ExecuteOptions, Policy } from './policy.js';
import { callerSignal, offAbort, onAbort, toContext } from './signal.js';

/** A {@link Policy} made of others; `policies` lists them outermost first. */
export interface PipelinePolicy extends Policy {
  readonly policies: readonly Policy[];
}

type Fn<T> = (ctx: Context) => Promise<T> | T;

/**
 * Runs `fn` inside the pipeline's policies from `index` inward; `outer`, when given, settles with
 * the outcome first (see {@link executeWith}).
 */
type Run = <T>(index: number, fn: Fn<T>, options: ExecuteOptions | Context | undefined, outer?: Settler) => Promise<T>;

/** A pipeline's {@link executeWith}. */
const WITH = Symbol('palisade.executeWith');

interface WithSettler {
  [WITH]<T>(fn: Fn<T>, options: ExecuteOptions | undefined, outer: Settler): Promise<T>;
}

/**
 * One fused call of the policies `from` to `to - 1` (see `fuse.ts`): their stages, and the one pair
 * of handlers that settles them all, innermost first, when the work inside settles (and again
 * after each continuation a stage hands back).
 */
class FusedCall implements FusedOutcome, FusedWork {
  ok = true;
  result: unknown = undefined;
  aborted = false;
  /**
   * Stages entered, outermost first: the first four in fields (a fused call has two to four, and
   * the adapter's end of the call), any beyond in an array. Fields, not an array: two objects
   * fewer a call.
   */
  #s0: Settler | undefined = undefined;
  #s1: Settler | undefined = undefined;
  #s2: Settler | undefined = undefined;
  #s3: Settler | undefined = undefined;
  #more: Settler[] | undefined = undefined;
  #entered = 0;
  /** Position (0: outermost) of the next stage to settle. */
  #level = -1;
  /** Pipeline index of the stage being settled (for {@link inner}). */
  #index = 0;
  readonly #run: Run;
  readonly #from: number;
  readonly #fn: Fn<unknown>;
  /**
   * The outermost stage this call still settles: 0, until the caller aborts (see
   * {@link handleEvent}); the stages outside it were settled then.
   */
  #floor = 0;
  /** Whether what is awaited is a stage's continuation (a retry's later attempts), not the work. */
  #continued = false;
  #onValue: ((value: unknown) => unknown) | undefined = undefined;
  #onError: ((error: unknown) => unknown) | undefined = undefined;

  constructor(run: Run, from: number, fn: Fn<unknown>) {
    this.#run = run;
    this.#from = from;
    this.#fn = fn;
  }

  /** The stage entered `level`-th (0: outermost). */
  #stage(level: number): Settler {
    switch (level) {
      case 0:
        return this.#s0 as Settler;
      case 1:
        return this.#s1 as Settler;
      case 2:
        return this.#s2 as Settler;
      case 3:
        return this.#s3 as Settler;
      default:
        return (this.#more as Settler[])[level - 4] as Settler;
    }
  }

  /**
   * The handlers of the work's promise (and of a continuation's), made on first need: a call
   * whose adapter runs the work (see `Settler.work`) settles through {@link finish} instead.
   * (Not class fields: esbuild's keepNames, in tsx and vitest, names a class field's arrow
   * function with defineProperty, per instance.)
   */
  get onValue(): (value: unknown) => unknown {
    if (this.#onValue === undefined) this.#makeHandlers();
    return this.#onValue as (value: unknown) => unknown;
  }

  get onError(): (error: unknown) => unknown {
    if (this.#onError === undefined) this.#makeHandlers();
    return this.#onError as (error: unknown) => unknown;
  }

  /** Makes both handlers at once: one closure context for the two. */
  #makeHandlers(): void {
    this.#onValue = (value) => this.finish(true, value);
    this.#onError = (error) => this.finish(false, error);
  }

  finish(ok: boolean, result: unknown): unknown {
    this.ok = ok;
    this.result = result;
    return this.unwind();
  }

  /** The caller's signal, while the call races it. */
  #caller: AbortSignal | undefined = undefined;
  #reject: ((reason: unknown) => void) | undefined = undefined;

  /**
   * The call's promise, racing the caller's signal: one listener for every stage, where layered
   * each policy adds its own. `settled` is the promise of the settled call (the work inside, then
   * the stages). See {@link handleEvent} for the abort.
   */
  race<T>(caller: AbortSignal, settled: Promise<unknown>): Promise<T> {
    const raced = new Promise<unknown>(capture) as Promise<T>;
    const resolve = captured.resolve as (value: unknown) => void;
    this.#reject = captured.reject;
    captured.resolve = captured.reject = undefined;
    this.#caller = caller;
    const aborted = caller.aborted;
    if (!aborted) onAbort(caller, this);
    settled.then(
      (value) => {
        this.#settled();
        resolve(value);
      },
      (error: unknown) => {
        this.#settled();
        this.#reject?.(error);
      },
    );
    // Aborted while the work was being started (by the work itself): as if just after.
    if (aborted) this.handleEvent();
    return raced;
  }

  #settled(): void {
    const caller = this.#caller;
    if (caller === undefined) return;
    this.#caller = undefined;
    offAbort(caller, this);
  }

  /**
   * The caller's signal aborted (the listener object of {@link race}), as layered, where every
   * policy races it: the call rejects now; the stages still waiting are abandoned, outermost first;
   * those outside the innermost one settle now with the abort reason as the outcome, as each would
   * see its inner policy's promise reject with it. The innermost one, which layered sees the work
   * itself, still settles with the work's own outcome when it comes; a retry's continuation, if
   * that is what is awaited, goes on by itself and its outcome is dropped.
   */
  handleEvent(): void {
    const caller = this.#caller;
    if (caller === undefined) return;
    this.#caller = undefined;
    const reason = caller.reason;
    this.#reject?.(reason);
    const waiting = this.#level + 1;
    for (let level = 0; level < waiting; level++) {
      try {
        this.#stage(level).abandon?.(reason);
      } catch {
        // palisade's own bookkeeping: one failing must not keep the others from theirs.
      }
    }
    const now = this.#continued ? waiting : waiting - 1;
    if (now <= 0) return; // settled already, or only the innermost waits (and settles as usual)
    this.#floor = now;
    const rest = new FusedCall(this.#run, this.#from, this.#fn);
    for (let level = 0; level < now; level++) rest.enter(this.#stage(level));
    rest.ok = false;
    rest.result = reason;
    rest.aborted = true;
    rest.start();
    try {
      const next = rest.unwind();
      if (next instanceof Promise) next.then(undefined, ignore);
    } catch {
      // The abort reason, or what a stage made of it: the caller has it already.
    }
  }

  inner(): (ctx: Context) => Promise<unknown> {
    const run = this.#run;
    const fn = this.#fn;
    const next = this.#index + 1;
    return (ctx) => run(next, fn, ctx);
  }

  /** Adds the next stage inward. */
  enter(stage: Settler): void {
    switch (this.#entered++) {
      case 0:
        this.#s0 = stage;
        break;
      case 1:
        this.#s1 = stage;
        break;
      case 2:
        this.#s2 = stage;
        break;
      case 3:
        this.#s3 = stage;
        break;
      default:
        if (this.#more === undefined) this.#more = [stage];
        else this.#more.push(stage);
    }
  }

  /** Settle every stage entered, innermost first (from a refusal, the stage outside the refuser). */
  start(): void {
    this.#level = this.#entered - 1;
  }

  /**
   * Settles the stages left, innermost first. Returns the call's value or throws its error, or,
   * when a stage goes on asynchronously, returns that promise with the stages outside it chained.
   */
  unwind(): unknown {
    const floor = this.#floor;
    for (let level = this.#level; level >= floor; level--) {
      this.#index = this.#from + level;
      let next: Promise<unknown> | undefined;
      try {
        next = this.#stage(level).settle(this);
      } catch (error) {
        this.ok = false;
        this.result = error;
        next = undefined;
      }
      if (next !== undefined) {
        this.#level = level - 1;
        if (level === floor) return floor === 0 ? next : next.then(undefined, ignore);
        this.#continued = true;
        return next.then(this.onValue, this.onError);
      }
    }
    this.#level = floor - 1;
    if (!this.ok) throw this.result;
    return this.result;
  }
}

/**
 * Composes policies into one: the first argument is the outermost, so
 * `pipeline(timeout, retry, breaker)` times the whole retried operation and the breaker sees each
 * attempt. A pipeline is itself a Policy and nests.
 *
 * Neighbouring palisade policies that support it run fused, around a single promise (see
 * `fuse.ts`): what each policy does, and the events it emits, are the same either way.
 */
export function pipeline(...policies: Policy[]): PipelinePolicy {
  policies.forEach((policy, index) => {
    if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
      throw new TypeError(
        `@palisade/core: pipeline() argument ${index + 1} must be a Policy (got ${describe(policy)})`,
      );
    }
  });
  const list = Object.freeze([...policies]);
  const count = list.length;
  const name = `pipeline(${list.map((p) => p.name).join(', ')})`;
  /** `fusedEnd[i]`: where the run of fusable policies starting at `i` ends, if it holds two or more. */
  const fusedEnd = list.map(() => 0);
  for (let i = count - 1; i >= 0; i--) {
    // A fusable policy's run ends where its inner neighbour's does, or just after it.
    if (isFusable(list[i] as Policy)) fusedEnd[i] = (fusedEnd[i + 1] ?? 0) || i + 1;
  }

  const fused = <T>(
    from: number,
    to: number,
    fn: Fn<T>,
    options: ExecuteOptions | Context | undefined,
    outer: Settler | undefined,
  ): Promise<T> => {
    // `outer` settles last, as if it were a policy outside `from`.
    const extra = outer === undefined ? 0 : 1;
    const call = new FusedCall(run, from - extra, fn as Fn<unknown>);
    if (outer !== undefined) call.enter(outer);
    let ctx = options;
    for (let i = from; i < to; i++) {
      const stage = (list[i] as Policy & FusablePolicy)[FUSE](ctx);
      if (stage instanceof Refusal) {
        call.ok = false;
        call.result = stage.error;
        call.start();
        try {
          return Promise.resolve(call.unwind() as T);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      call.enter(stage);
      ctx = stage.ctx;
    }
    call.start();
    let settled: Promise<unknown> | undefined;
    let worked = false;
    try {
      // The adapter ending the call runs the work itself when it can and the group is innermost;
      // else `run(to, …)` runs `fn` itself when the group is innermost, or the policies inside it.
      settled = to === count ? outer?.work?.(ctx as Context, call) : undefined;
      if (settled === undefined) settled = run(to, fn, ctx).then(call.onValue, call.onError);
      else worked = true;
    } catch (error) {
      // A policy inside that threw instead of rejecting: the stages settle with its error.
      settled = Promise.reject(error).then(undefined, call.onError);
    }
    // An adapter's work settles as soon as the caller aborts (see `Settler.work`): its outcome,
    // the abort reason, settles the stages, with no race of the call's own.
    const caller = worked ? undefined : callerSignal(options);
    return caller === undefined ? (settled as Promise<T>) : call.race<T>(caller, settled);
  };

  const run: Run = <T>(
    index: number,
    fn: Fn<T>,
    options: ExecuteOptions | Context | undefined,
    outer?: Settler,
  ): Promise<T> => {
    // Past the innermost policy: `fn` itself (the work inside an innermost fused group, or a retry
    // innermost in one running it again).
    if (index === count) return invoke(fn, options as Context);
    const end = fusedEnd[index] as number;
    if (end > index + 1) return fused(index, end, fn, options, outer);
    const policy = list[index] as Policy;
    const inner = index === count - 1 ? fn : (ctx: Context) => run(index + 1, fn, ctx);
    if (outer === undefined) return policy.execute(inner, options);
    return executeWith(policy, inner, options, outer);
  };

  const composed: PipelinePolicy & WithSettler = {
    name,
    policies: list,
    execute<T>(fn: Fn<T>, options?: ExecuteOptions): Promise<T> {
      if (count === 0) return invoke(fn, toContext(options));
      return run(0, fn, options);
    },
    [WITH]<T>(fn: Fn<T>, options: ExecuteOptions | undefined, outer: Settler): Promise<T> {
      if (count === 0) return settleAfter(invoke(fn, toContext(options)), fn, outer);
      return run(0, fn, options, outer);
    },
  };
  return composed;
}

/** `outer` settled with the outcome of `promise`, in one `then`. */
function settleAfter<T>(promise: Promise<T>, fn: Fn<T>, outer: Settler): Promise<T> {
  const call = new FusedCall(noRun, 0, fn as Fn<unknown>);
  call.enter(outer);
  call.start();
  return promise.then(call.onValue, call.onError) as Promise<T>;
}

const ignore = (): void => {};

/** Where {@link capture} leaves a new promise's resolvers, for the caller to take at once. */
const captured: { resolve: ((value: unknown) => void) | undefined; reject: ((reason: unknown) => void) | undefined } = {
  resolve: undefined,
  reject: undefined,
};

/** A promise executor shared by every race: no closure per call for it. */
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** The `run` of a call whose only stage is an outer settler, which never runs anything again. */
const noRun: Run = () => Promise.reject(new Error('@palisade/core: nothing to run again'));

/**
 * @internal Runs `fn` under `policy`, then settles `outer` with its outcome (which `outer` may
 * change) before the returned promise settles: an adapter's own end of the call (the fetch
 * adapter's, which turns a final retryable status back into its Response), run in a pipeline's
 * single `then` when the pipeline runs fused, rather than in one more of its own.
 */
export function executeWith<T>(
  policy: Policy,
  fn: Fn<T>,
  options: ExecuteOptions | undefined,
  outer: Settler,
): Promise<T> {
  const own = (policy as Partial<WithSettler>)[WITH];
  let promise: Promise<T>;
  try {
    if (own !== undefined) return own.call(policy, fn, options, outer) as Promise<T>;
    promise = policy.execute(fn, options);
  } catch (error) {
    // A policy that threw instead of rejecting: `outer` still ends the call.
    promise = Promise.reject(error);
  }
  return settleAfter(promise, fn, outer);
}
