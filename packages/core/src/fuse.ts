import type { Context, ExecuteOptions } from './policy.js';

/**
 * @internal How {@link pipeline} runs several palisade policies as one: not public API, and free to
 * change with any release.
 *
 * Layered, each policy of a pipeline wraps the next one's promise in one of its own: per policy and
 * per call, a promise, its reaction, a microtask, two closures and (with a `Response` or any
 * object) a lookup of `then` on the value it is resolved with. A fusable policy instead splits its
 * call in two synchronous halves, which the pipeline runs around a single `then` on the innermost
 * promise (timeout + retry + breaker around an always-resolving call: 361 ns against 441 ns
 * layered, and 1,633 against 2,355 ns with a caller signal; bench/core.ts):
 *
 * - `[FUSE](options)`, outermost first: admit the call (or refuse it) and return its
 *   {@link FusedStage}, whose `ctx` is what the next policy inward is given;
 * - `stage.settle(outcome)`, innermost first, once the work inside has settled: record the
 *   outcome, and either change it in place (a timeout's error replacing an abort's) or hand back a
 *   promise that goes on with the call (a retry's next attempts), which the stages outside then
 *   wait for.
 *
 * With a caller signal, the pipeline races it once for all the stages, where layered each policy
 * does: when it aborts, the call rejects at once with its reason; the stages not yet settled are
 * abandoned, outermost first; those outside the innermost one settle with the reason as the
 * outcome (as layered, where each policy's inner promise rejects with it), and the innermost one
 * with the work's own outcome when it comes. An `'aggressive'` timeout, which races its own timer,
 * has no `[FUSE]`.
 */
export const FUSE: unique symbol = Symbol('palisade.fuse');

/** @internal The outcome of the work inside a stage, as a fused pipeline hands it outward. */
export interface FusedOutcome {
  /** Whether it succeeded: `result` is then its value, else the error. */
  ok: boolean;
  result: unknown;
  /**
   * The caller's signal aborted: `result` is its reason, and the work inside was left running.
   * (A timeout aborts its own Context with it then, as its layered `execute` does.)
   */
  readonly aborted: boolean;
  /**
   * The work inside the stage being settled, as a function to run again (the policies inside it
   * around `fn`): what a retry runs its next attempts with. Made on demand.
   */
  inner(): (ctx: Context) => Promise<unknown>;
}

/** @internal A fused call, as an adapter that runs its work sees it (see {@link Settler.work}). */
export interface FusedWork {
  /**
   * The work settled (`ok`: with `result` as its value, else `result` is the error): settles every
   * stage, innermost first, and returns the call's value, or a promise of it (a retry going on),
   * or throws its error. Called once.
   */
  finish(ok: boolean, result: unknown): unknown;
}

/** @internal What settles with a fused call's outcome: a policy's stage, or an adapter's (see {@link executeWith}). */
export interface Settler {
  /**
   * Called once, when the work inside has settled. Records it, may change `outcome` in place, or
   * returns a promise of the call's continuation (which settles the policy itself, as its layered
   * `execute` would); errors thrown here become the outcome.
   */
  settle(outcome: FusedOutcome): Promise<unknown> | undefined;
  /**
   * The caller's signal aborted while this stage waited: called outermost first, before any stage
   * is settled (with `outcome.aborted`), as layered each policy's listener on the caller's signal
   * runs in that order. A timeout aborts its Context here, so the work inside hears of it first.
   */
  abandon?(reason: unknown): void;
  /**
   * An adapter's own end of the call (see {@link executeWith}) may also run the work, in place of
   * `fn(ctx)`, when the fused policies it ends are the innermost: it returns the call's promise,
   * which its own reaction to the work's outcome settles with `call.finish(...)`'s return. The
   * stages then need no promise of their own between the work and the caller. `undefined`: run
   * `fn` as usual.
   *
   * The work must settle within the same turn of the event loop once `ctx` aborts (which the
   * caller's signal does): the call then races no signal of its own, and the caller's abort reaches
   * the stages as the work's outcome, its reason as the error (a breaker, whose Context is then
   * aborted, counts it for nothing, as when it races the caller itself).
   */
  work?(ctx: Context, call: FusedWork): Promise<unknown> | undefined;
}

/** @internal One policy's part of one fused call. */
export interface FusedStage extends Settler {
  /** The Context to hand inward (the policy's own, or the one it was given). */
  readonly ctx: Context;
}

/** @internal A call a policy refused at once (open breaker, past deadline, aborted). */
export class Refusal {
  constructor(readonly error: unknown) {}
}

/** @internal A policy that can run fused inside a pipeline (see {@link FUSE}). */
export interface FusablePolicy {
  [FUSE](options: ExecuteOptions | Context | undefined): FusedStage | Refusal;
}

/** @internal Whether `policy` offers the fused protocol. */
export function isFusable(policy: object): policy is FusablePolicy {
  return typeof (policy as Partial<FusablePolicy>)[FUSE] === 'function';
}
