import type { Context, ExecuteOptions } from './policy.js';

/**
 * A {@link Context} owned by a policy: it can abort its own signal (timeout, hedge loser) and must
 * be disposed in the `finally` of the call that created it.
 */
export interface PolicyContext extends Context {
  key: string | undefined;
  deadline: number | undefined;
  /** True once this context or any context above it was aborted (reading it creates no signal). */
  readonly aborted: boolean;
  /** The abort reason, once aborted. */
  readonly reason: unknown;
  /** Aborts this context's signal (and the contexts below it) with `reason`. */
  abort(reason: unknown): void;
  /** Detaches from the parent's signal. Call in `finally`. */
  dispose(): void;
}

/** What {@link onAbort} calls: an object with `handleEvent()` (no closure needed) or a function. */
export type AbortListener = { handleEvent(): void } | (() => void);

/**
 * Every palisade listener of one signal, behind ONE listener on the signal itself. On Node, adding
 * and removing an `abort` listener costs ~330 ns (an array push and swap-remove here, ~25 ns), and
 * a pipeline used to add one per policy (timeout, retry, breaker, bulkhead ... each racing the
 * caller): now the first one pays it and the others share it. The runtime listener goes when the
 * last palisade listener does, so nothing stays on a caller's signal after a call.
 */
class AbortFanout {
  readonly listeners: AbortListener[];

  /** `[first]`, not `[]` then push: V8 gives an empty array's first push room for 17 elements. */
  constructor(first: AbortListener) {
    this.listeners = [first];
  }

  /**
   * The signal comes from the event, not from a field: a fanout that referred to its signal, the
   * key it is stored under in a WeakMap, cost ~2.3 µs more per signal (a fresh signal per call,
   * the common case) in the garbage collector's ephemeron work.
   */
  handleEvent(event: Event): void {
    const listeners = this.listeners.splice(0);
    (event.target as AbortSignal).removeEventListener('abort', this);
    for (const listener of listeners) callListener(listener);
  }
}

/** Calls one abort listener. As EventTarget does, a throw neither stops the others nor is swallowed. */
function callListener(listener: AbortListener): void {
  try {
    if (typeof listener === 'function') listener();
    else listener.handleEvent();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

const fanouts = new WeakMap<AbortSignal, AbortFanout>();

/**
 * Calls `listener` once when `signal` aborts, unless {@link offAbort} removed it first. Meant for
 * a signal that is not aborted yet (check `signal.aborted` first). Many listeners on one signal
 * share one runtime listener.
 */
export function onAbort(signal: AbortSignal, listener: AbortListener): void {
  const fanout = fanouts.get(signal);
  if (fanout === undefined) {
    const created = new AbortFanout(listener);
    fanouts.set(signal, created);
    signal.addEventListener('abort', created);
    return;
  }
  const { listeners } = fanout;
  if (listeners.length === 0) signal.addEventListener('abort', fanout);
  listeners.push(listener);
}

/** Removes a listener added with {@link onAbort} (a no-op when it is not there any more). */
export function offAbort(signal: AbortSignal, listener: AbortListener): void {
  const fanout = fanouts.get(signal);
  if (fanout === undefined) return;
  const { listeners } = fanout;
  // The newest listener is usually the one leaving (calls nest): search from the end.
  const index = listeners.lastIndexOf(listener);
  if (index < 0) return;
  const last = listeners.pop() as AbortListener;
  if (index < listeners.length) listeners[index] = last;
  if (listeners.length === 0) signal.removeEventListener('abort', fanout);
}

/**
 * The Context implementation. Its `signal` is created on first read and only then linked to the
 * parent's, so a pipeline whose `fn` never reads the signal creates no AbortController, listener
 * or abort: the cost cockatiel pays on every call.
 *
 * Contexts link to each other in plain JavaScript (a parent keeps the children that must hear of
 * its abort), not through AbortSignal listeners: reading the innermost signal of a pipeline creates
 * one AbortController, not one per policy, and adds an event listener only to the caller's own
 * signal (on Node, a listener on an AbortSignal costs several times a whole plain-object link).
 */
class CallContext implements PolicyContext {
  attempt: number;
  key: string | undefined;
  deadline: number | undefined;
  /** The caller's own signal at the top of the chain, if they passed one. */
  readonly root: AbortSignal | undefined;
  readonly #parent: ExecuteOptions | undefined;
  #controller: AbortController | undefined = undefined;
  /** What this context listens to while linked: the parent Context, or the caller's signal. */
  #link: CallContext | AbortSignal | undefined = undefined;
  /** Linked children, told when this context aborts. */
  #children: CallContext[] | undefined = undefined;
  /**
   * Listeners added with {@link onContextAbort}, told of an abort without any signal: the one
   * listener itself (the usual case, an attempt's), or an array once there are more.
   */
  #listeners: AbortListener | AbortListener[] | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;
  /** A context nobody aborts: it hands out the caller's own signal and never listens to it. */
  readonly #passThrough: boolean;

  constructor(parent: ExecuteOptions | undefined, attempt: number, passThrough = false) {
    this.#parent = parent;
    this.attempt = attempt;
    this.#passThrough = passThrough;
    if (parent !== undefined) {
      this.key = parent.key;
      this.deadline = parent.deadline;
      this.root = parent instanceof CallContext ? parent.root : (parent.signal ?? undefined);
    }
  }

  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller) return controller.signal;
    if (this.#passThrough && !this.#aborted) {
      const callerSignal = this.#parent?.signal;
      if (callerSignal) return callerSignal;
    }
    controller = this.#controller = new AbortController();
    if (this.#aborted) controller.abort(this.#reason);
    else this.#follow();
    return controller.signal;
  }

  /** Makes sure an abort above reaches this context (aborting it now if one already happened). */
  #follow(): void {
    if (this.#link !== undefined || this.#aborted) return;
    let parent = this.#parent;
    if (parent instanceof CallContext && parent.#passThrough) parent = parent.#parent;
    if (parent instanceof CallContext) {
      if (parent.aborted) {
        this.abort(parent.reason);
        return;
      }
      this.#link = parent;
      // `[this]`, not `[]` then push: V8 gives an empty array's first push room for 17 elements.
      if (parent.#children === undefined) parent.#children = [this];
      else parent.#children.push(this);
      parent.#follow();
    } else {
      const parentSignal = parent?.signal;
      if (!parentSignal) return;
      if (parentSignal.aborted) {
        this.abort(parentSignal.reason);
        return;
      }
      this.#link = parentSignal;
      onAbort(parentSignal, this);
    }
  }

  /** A child no longer needs to hear of aborts; with no child and no signal, neither does this. */
  #release(child: CallContext): void {
    const children = this.#children;
    if (children === undefined) return;
    const index = children.indexOf(child);
    if (index < 0) return;
    const last = children.pop() as CallContext;
    if (index < children.length) children[index] = last;
    if (children.length === 0 && this.#controller === undefined && this.#listeners === undefined) this.dispose();
  }

  /** @internal see {@link onContextAbort} */
  listen(listener: AbortListener): void {
    if (this.#aborted) {
      callListener(listener);
      return;
    }
    const listeners = this.#listeners;
    if (listeners === undefined) this.#listeners = listener;
    else if (Array.isArray(listeners)) listeners.push(listener);
    else this.#listeners = [listeners, listener];
    this.#follow();
  }

  /**
   * @internal the caller's abort listener (an object listener: no closure per context). The reason
   * is read from the parent, not from `#link`: the fan-out calls a copy of its listener list, so
   * this may run after an earlier listener disposed this context (and cleared `#link`).
   */
  handleEvent(): void {
    this.abort(abortReason(this.#parent));
  }

  get aborted(): boolean {
    return this.#aborted || (this.#parent !== undefined && isAborted(this.#parent));
  }

  get reason(): unknown {
    if (this.#aborted) return this.#reason;
    return this.#parent === undefined ? undefined : abortReason(this.#parent);
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    if (listeners !== undefined) {
      this.#listeners = undefined;
      if (!Array.isArray(listeners)) callListener(listeners);
      else for (const listener of listeners) callListener(listener);
    }
    const children = this.#children;
    if (children !== undefined) {
      this.#children = undefined;
      for (const child of children) {
        child.#link = undefined;
        child.abort(reason);
      }
    }
    this.dispose();
  }

  dispose(): void {
    const link = this.#link;
    if (link === undefined) return;
    this.#link = undefined;
    if (link instanceof CallContext) link.#release(this);
    else offAbort(link, this);
  }
}

/**
 * Creates the Context a policy hands to `fn`, as a child of the caller's options (or of an outer
 * policy's Context): it inherits `key` and `deadline`, and its signal follows the parent's.
 * @param attempt 1-based attempt number; defaults to the parent's (or 1)
 */
export function createContext(parent?: ExecuteOptions | Context, attempt?: number): PolicyContext {
  return new CallContext(parent, attempt ?? (parent as Partial<Context> | undefined)?.attempt ?? 1);
}

/**
 * The Context to hand to `fn` for a policy that needs no signal of its own: the outer policy's
 * Context as it is, or a new one for plain caller options whose `signal` is the caller's own (so
 * it adds no listener and needs no `dispose`). Never `abort()` what this returns.
 */
export function toContext(options?: ExecuteOptions | Context): Context {
  return options instanceof CallContext ? options : new CallContext(options, 1, true);
}

/**
 * Calls `listener` once when `ctx` aborts (a timeout, a losing hedge, the caller's signal while the
 * call runs), at once if it already has, without creating `ctx.signal`: for an adapter that can
 * stop its work by other means than an `AbortSignal` (on Node, an AbortController and what `fetch`
 * hangs on its signal cost several µs a call). Returns `false`, adding nothing, when `ctx` is not
 * a palisade Context: use `ctx.signal` then. The listener cannot be removed; it is dropped with
 * the Context, which a caller abort no longer reaches once the policy that made it has settled.
 */
export function onContextAbort(ctx: Context, listener: AbortListener): boolean {
  if (!(ctx instanceof CallContext)) return false;
  ctx.listen(listener);
  return true;
}

/** True when `options` came from an outer policy (its signal is lazy: don't read it needlessly). */
export function isPolicyContext(options: ExecuteOptions | Context | undefined): options is PolicyContext {
  return options instanceof CallContext;
}

/** Whether the caller (or an outer policy) has aborted, without creating any signal. */
export function isAborted(options: ExecuteOptions | Context | undefined): boolean {
  if (options === undefined) return false;
  if (options instanceof CallContext) return options.aborted;
  return options.signal?.aborted === true;
}

/** The abort reason of `options`, once aborted, without creating any signal. */
export function abortReason(options: ExecuteOptions | Context | undefined): unknown {
  if (options === undefined) return undefined;
  if (options instanceof CallContext) return options.reason;
  return options.signal?.reason;
}

/**
 * The signal to listen to for a prompt rejection when the caller aborts: the `signal` the caller
 * passed at the top of the chain, or `undefined` when they passed none. Reading it never creates
 * a lazy Context signal, so a call without a caller signal adds no listener.
 */
export function callerSignal(options: ExecuteOptions | Context | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options instanceof CallContext) return options.root;
  return options.signal ?? undefined;
}
