import {
  type Clock,
  type Context,
  type ExecuteOptions,
  type HttpErrorResponse,
  type PalisadeRequestInfo,
  type ResilienceError,
  type SerializedHttpResponse,
  createContext,
  failedResponse,
  reportCallbackError,
  serializeHttpResponse,
  toHttpResponse,
} from '@palisade/core';
import type { Request, Response } from 'express';
import type { NormalizedExpressOptions } from './options.js';

const STATE = Symbol('palisade.request-state');
type WithState = Response & { [STATE]?: RequestState };

const passThrough = (): void => {};
const returnThis = function (this: unknown): unknown {
  return this;
};

/** Entity headers a handler may have set that must not leak onto palisade's own response. */
const ENTITY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-range',
  'content-disposition',
  'etag',
  'last-modified',
  'location',
  'transfer-encoding',
] as const;

/** Writes a serialized response as raw Node output: no Express `send` (no ETag, no freshness work). */
export function writeSerialized(res: Response, response: SerializedHttpResponse): void {
  // Only headers that are there: removing an absent Content-Length or Transfer-Encoding would make
  // Node send the response with no framing at all.
  for (const name of ENTITY_HEADERS) if (res.hasHeader(name)) res.removeHeader(name);
  res.writeHead(response.status, response.headers as Record<string, string>);
  res.end(response.body);
}

/** Calls a write's callback (its last function argument) as if the write had gone through. */
function callBack(args: readonly unknown[]): void {
  const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
  if (cb) queueMicrotask(() => cb());
}

/** The methods through which a response starts: held back once the route's time is up. */
const STARTERS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type Starter = (typeof STARTERS)[number];
type Method = (...args: unknown[]) => unknown;

/**
 * Lets a handler that is still running after palisade answered finish in silence: its writes are
 * dropped and `headersSent` reads `false`, so Express's own error handling neither throws
 * "headers already sent" nor destroys the connection.
 */
function seal(res: Response): void {
  const r = res as unknown as Record<string, unknown>;
  r.setHeader = returnThis;
  r.appendHeader = returnThis;
  r.removeHeader = passThrough;
  r.writeHead = returnThis;
  r.flushHeaders = passThrough;
  r.addTrailers = passThrough;
  r.write = (...args: unknown[]): boolean => {
    callBack(args);
    return true;
  };
  r.end = function end(this: unknown, ...args: unknown[]): unknown {
    callBack(args);
    return this;
  };
  Object.defineProperty(res, 'headersSent', { configurable: true, get: () => false });
}

const clientClosed = (): Error =>
  new DOMException('The client closed the connection before the response was sent', 'AbortError');

/**
 * The state palisade keeps for one request, shared by every palisade middleware it passes through.
 * The promise each middleware hands to `execute` settles when the response has been ended and
 * handed to Node (`prefinish`), when palisade answered for it, or when the client went away, so
 * slots are held exactly as long as the request is in progress, and a timeout never fires for a
 * response that was complete in time but is still on its way to a slow client.
 */
export class RequestState implements PalisadeRequestInfo {
  readonly req: Request;
  readonly res: Response;
  /** The innermost palisade Context: the handler's signal and deadline. */
  ctx: Context | undefined = undefined;
  /** Some middleware handed the request on (a handler may be running). */
  nextCalled = false;
  /** palisade sent its own response (`error` says why). */
  answered = false;
  error: unknown = undefined;
  /** The client went away before the response was sent. */
  aborted = false;
  status = 0;
  #done = false;
  /** The innermost timeout's Context and clock, once a timeout guard ran (see `holdWhenTimeUp`). */
  #timed: Context | undefined = undefined;
  #clock: Clock | undefined = undefined;
  /** The response's starters go through palisade's (see `holdWhenTimeUp`). */
  #hooked = false;
  /** Calls that started the response after the time was up, waiting for the timeout to fire. */
  #held: [Method, unknown[]][] | undefined = undefined;
  /**
   * A starter let through is running: the calls it makes itself (Node's `end` calls `writeHead`
   * and `write`) go through too. Held on their own, they would let the outer call write the body
   * with no status line or headers before it: a broken response on a keep-alive connection.
   */
  #passing = 0;
  #root: AbortController | undefined = undefined;
  #settled: Promise<void> | undefined = undefined;
  #resolve: (() => void) | undefined = undefined;

  constructor(req: Request, res: Response) {
    this.req = req;
    this.res = res;
    res.once('prefinish', () => this.#onEnd());
    res.once('close', () => this.#onClose());
  }

  /** The state of this request, created by the first palisade middleware it reaches. */
  static of(req: Request, res: Response): RequestState {
    let state = (res as WithState)[STATE];
    if (state === undefined) {
      state = new RequestState(req, res);
      (res as WithState)[STATE] = state;
      res.locals.palisade = state;
      Object.defineProperty(req, 'signal', { configurable: true, enumerable: false, get: () => state?.signal });
    }
    return state;
  }

  get signal(): AbortSignal {
    return this.ctx ? this.ctx.signal : this.#rootController().signal;
  }

  get deadline(): number | undefined {
    return this.ctx?.deadline;
  }

  #rootController(): AbortController {
    let root = this.#root;
    if (root === undefined) {
      root = this.#root = new AbortController();
      if (this.aborted) root.abort(clientClosed());
    }
    return root;
  }

  /**
   * What a middleware passes to `execute`: the outer palisade Context (so deadlines and aborts
   * flow inward), or the request's own signal for the outermost one. `deadline` (an inbound
   * deadline) only ever shortens what is already there.
   */
  executeOptions(deadline: number | undefined): ExecuteOptions | Context {
    const outer = this.ctx;
    if (outer === undefined) return { signal: this.#rootController().signal, deadline };
    if (deadline === undefined || (outer.deadline !== undefined && outer.deadline <= deadline)) return outer;
    const ctx = createContext(outer);
    ctx.deadline = deadline;
    return ctx;
  }

  /**
   * Settles when the request is over; then resolves, or rejects with what the policies should see:
   * palisade's own error when it answered, the abort reason when the client went away, a
   * `FailedResponseError` when `isFailure` says the handler's response is a failure.
   */
  outcome(isFailure: (response: { status: number }) => boolean): Promise<void> {
    let settled = this.#settled;
    if (settled === undefined) {
      settled = this.#settled = this.#done
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#resolve = resolve;
          });
    }
    return settled.then(() => {
      if (this.answered) throw this.error;
      if (this.aborted) throw this.#rootController().signal.reason;
      if (isFailure({ status: this.status })) throw failedResponse(this.status);
    });
  }

  /**
   * Sends palisade's response for `error` (mapped by core's `toHttpResponse`, or `onRejected`'s),
   * unless the response has started already. Returns whether palisade answered.
   */
  answer(error: unknown, options: NormalizedExpressOptions): boolean {
    if (this.answered) return true;
    if (this.#done || this.res.headersSent) return false;
    const response = toHttpResponse(error, options.http);
    if (response === undefined) return false;
    this.answered = true;
    this.error = error;
    this.send(response, error as ResilienceError, options);
    if (this.nextCalled) seal(this.res);
    this.#finish();
    return true;
  }

  /**
   * From now on, a response the chain starts after `ctx`'s deadline has passed (read on `clock`),
   * while its timeout has not fired yet, is held back until it fires; the guard then answers with
   * the timeout's 504 and the held response is dropped ({@link release}). So a request whose time
   * is up gets the route's own timeout, whichever timer ran first: the timeout's, or that of an
   * outbound call bounded by the same deadline whose error the handler passed on. The innermost
   * timeout guard's call wins (its deadline is the soonest).
   */
  holdWhenTimeUp(ctx: Context, clock: Clock): void {
    this.#timed = ctx;
    this.#clock = clock;
    if (this.#hooked) return;
    this.#hooked = true;
    const res = this.res as unknown as Record<Starter, Method>;
    for (const name of STARTERS) {
      const own = res[name];
      res[name] = (...args: unknown[]): unknown => this.#start(name, own, args);
    }
  }

  #start(name: Starter, own: Method, args: unknown[]): unknown {
    // palisade's own answer (and whatever follows it) goes through, and so does what a call let
    // through calls itself.
    if (this.answered || this.#done || this.#passing > 0) return this.#pass(own, args);
    let held = this.#held;
    if (held === undefined) {
      if (!this.#timeUp()) return this.#pass(own, args);
      held = this.#held = [];
    }
    held.push([own, args]);
    if (name === 'write') return true;
    return name === 'flushHeaders' ? undefined : this.res;
  }

  #pass(own: Method, args: unknown[]): unknown {
    this.#passing++;
    try {
      return own.apply(this.res, args);
    } finally {
      this.#passing--;
    }
  }

  /** The innermost timeout's deadline has passed, its timer has not fired, and no response has started. */
  #timeUp(): boolean {
    const ctx = this.#timed as Context;
    const deadline = ctx.deadline;
    return (
      deadline !== undefined && !this.res.headersSent && !ctx.signal.aborted && (this.#clock as Clock).now() >= deadline
    );
  }

  /**
   * Ends the hold of {@link holdWhenTimeUp}, once the timeout fired: the held response is dropped
   * when palisade answered or the client left, and sent as it was otherwise.
   */
  release(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    if (this.answered || this.aborted) {
      for (const [, args] of held) callBack(args);
      return;
    }
    for (const [own, args] of held) this.#pass(own, args);
  }

  /** Sends `response` (or what `onRejected` makes of it). */
  send(response: HttpErrorResponse, error: ResilienceError, options: NormalizedExpressOptions): void {
    const res = this.res;
    let chosen = response;
    if (options.onRejected) {
      try {
        const custom = options.onRejected({ error, response, req: this.req, res });
        if (res.headersSent) return;
        if (custom) chosen = custom;
      } catch (error) {
        // A failing custom handler still leaves the client with palisade's own answer.
        reportCallbackError('onRejected', options.onRejected, error);
        if (res.headersSent) return;
      }
    }
    writeSerialized(res, serializeHttpResponse(chosen));
  }

  /** The response was ended and handed to Node: the request is over for the policies. */
  #onEnd(): void {
    if (this.#done) return;
    this.status = this.res.statusCode;
    this.#finish();
  }

  #onClose(): void {
    if (this.#done) return;
    if (this.res.writableFinished) this.status = this.res.statusCode;
    else {
      this.aborted = true;
      this.#root?.abort(clientClosed());
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#resolve?.();
  }
}
