import { type FusedWork, type PolicyContext, onContextAbort } from '@palisade/core';

/**
 * Stopping an attempt without an AbortSignal, on Node's own `fetch` (undici).
 *
 * A timeout or a hedge must be able to abort the request it started, and the plain way is to
 * hand `fetch` a signal. On Node that is the dearest part of the call: an AbortController, then
 * undici's Request follows the signal with a listener, a WeakRef and a FinalizationRegistry entry.
 * Measured against a local server (bench/fetch.ts), a fresh signal adds 7–14% to the client's
 * CPU per request; palisade's own JavaScript for timeout + retry + breaker, about 2%.
 *
 * undici's `fetch` takes a `dispatcher` (its documented extension of RequestInit, the one proxy
 * agents use). Each attempt of a call made without a signal of the caller's (handing undici that
 * one would leave a listener on it per request until garbage collection) passes one of these: it
 * forwards to the caller's `init.dispatcher` or to the global one, and keeps the handler undici
 * dispatched, which holds the `abort` function undici hands it when the request is written
 * (`onConnect`). When the attempt's Context aborts, that function ends the request (undici then
 * destroys the socket: the server sees the connection close, as with a signal) and fails it, and
 * the attempt rejects within the same turn of the event loop with the Context's reason, as
 * `fetch` does with a signal's. Before the request is written (still connecting, or queued in the
 * pool), the dispatcher fails the handler itself, and the request is ended as soon as undici
 * starts it. (Both rely on the dispatcher behind failing the handler when its `abort` is called,
 * as undici's do and the Dispatcher API asks.)
 */

/** The symbol under which undici (Node's bundled copy and the npm package alike) keeps the global dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** Ends a request undici has started: its `abort` (legacy handler API) or `controller.abort`. */
type AbortRequest = (reason: Error) => void;

/** The part of an undici dispatch handler this file touches: both handler APIs. */
interface DispatchHandler {
  /** undici's fetch handler: `null` until the request starts, then the function that ends it. */
  abort?: AbortRequest | null;
  onConnect?: (abort: AbortRequest, context?: unknown) => void;
  onRequestStart?: (controller: { abort(reason: Error): void }, context?: unknown) => void;
  onError?: (error: Error) => void;
}

/** undici's dispatch options: the part this file touches. */
interface DispatchOptions {
  /** As the Dispatcher API documents it: an object, a flat `[name, value, …]` array, or null. */
  headers?: Record<string, string | string[] | undefined> | (string | string[])[] | null;
}

/** The part of an undici Dispatcher this file uses. */
export interface Dispatcher {
  dispatch(options: DispatchOptions, handler: DispatchHandler): boolean;
  readonly isMockActive?: boolean;
}

/**
 * Node's `fetch` as it was when this module loaded, when it is undici's (Node 18+). A `fetch`
 * replaced since (a test's interceptor, a polyfill) may not honour `dispatcher`: calls through
 * it keep to signals.
 */
const nodeFetch: typeof fetch | undefined =
  typeof process === 'object' && typeof process.versions?.undici === 'string' ? globalThis.fetch : undefined;

/**
 * The dispatcher an attempt of `fetchFn` would use, when attempts can be stopped through it:
 * `fetchFn` is Node's own `fetch`, and there is a dispatcher (the caller's `init.dispatcher`, else
 * undici's global one, which exists once Node's `fetch` has run once). `undefined`: use a signal.
 */
export function baseDispatcher(fetchFn: typeof fetch, init: RequestInit | undefined): Dispatcher | undefined {
  if (fetchFn !== nodeFetch || nodeFetch === undefined) return undefined;
  const own = (init as { dispatcher?: Dispatcher } | undefined)?.dispatcher;
  const base = own ?? (globalThis as { [GLOBAL_DISPATCHER]?: Dispatcher })[GLOBAL_DISPATCHER];
  return typeof base?.dispatch === 'function' ? base : undefined;
}

/**
 * Adds one header to `options`, in whichever of the Dispatcher API's forms its headers are. In
 * place: the options and their headers are the ones undici's `fetch` builds afresh for this one
 * dispatch (the only caller of an attempt's dispatcher), and copying them cost more than anything
 * else palisade does per request (a spread of both objects, ~0.5% of a request's CPU).
 */
function addHeader(options: DispatchOptions, name: string, value: string): void {
  const { headers } = options;
  if (headers === undefined || headers === null) options.headers = { [name]: value };
  else if (Array.isArray(headers)) headers.push(name, value);
  else if (typeof (headers as unknown as Iterable<unknown>)[Symbol.iterator] !== 'function') headers[name] = value;
  else {
    // An iterable of pairs (a Headers, a Map): flattened, as the Dispatcher API also takes.
    const flat: (string | string[])[] = [];
    for (const [key, v] of headers as unknown as Iterable<[string, string | string[]]>) flat.push(key, v);
    flat.push(name, value);
    options.headers = flat;
  }
}

/** What an attempt's response goes through before it settles the attempt (see `AttemptDispatcher.send`). */
export interface Receiver {
  received(response: Response): Response;
}

/** No headers (frozen: every attempt's `init.headers` when it is its dispatcher, see `AttemptDispatcher#dispatcher`). */
const NO_HEADERS: HeadersInit = Object.freeze([]) as unknown as HeadersInit;

const PASS: Receiver = { received: (response) => response };

/** An attempt sent on its own, not as the work of a fused call: its outcome is the attempt's. */
const ALONE: FusedWork = {
  finish(ok, result) {
    if (ok) return result;
    throw result;
  },
};

const asError = (reason: unknown): Error =>
  reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');

const ignore = (): void => {};

/** Cancels the body of a response nobody will read, so that its connection is not held. */
export const discard = (response: Response): void => {
  response.body?.cancel().catch(ignore);
};

/** An attempt's response through `receiver`, and the outcome (what that returns or throws) through `call`. */
export function deliver(receiver: Receiver, response: Response, call: FusedWork): unknown {
  let ok = true;
  let result: unknown;
  try {
    result = receiver.received(response);
  } catch (error) {
    ok = false;
    result = error;
  }
  return call.finish(ok, result);
}

/**
 * One attempt's dispatcher, and its abort listener on the attempt's palisade Context (see the
 * file's comment). Per attempt it costs this object and the `then` on fetch's promise, whose
 * reaction is the attempt's (or the whole fused call's) end: no promise of its own.
 *
 * On abort, undici is made to fail the request itself, so that `fetch` rejects (and the attempt
 * with the Context's reason) within the same turn of the event loop:
 * - once the request has started, through the `abort` function undici hands the handler, which
 *   undici's own fetch handler keeps on itself (a handler of another shape has its `onConnect`,
 *   or `onRequestStart`, wrapped to catch it);
 * - before it has (queued in a busy pool, or held by the caller's dispatcher), by failing the
 *   handler: this is the dispatcher undici's `fetch` dispatched to, and `onError` is how a
 *   dispatcher fails a request. The handler then ends the request as soon as the dispatcher behind
 *   starts it, and hears nothing more of it.
 */
export class AttemptDispatcher implements Dispatcher {
  readonly #base: Dispatcher;
  /** The attempt's Context, until the attempt settles (see `send`). */
  #ctx: PolicyContext | undefined;
  /** The handler undici's fetch dispatched, until the attempt settles. */
  #handler: DispatchHandler | undefined = undefined;
  /** How to end the request once started, caught by a wrapped handler (see `#wrap`). */
  #abortRequest: AbortRequest | undefined = undefined;
  #aborted = false;
  /** The Context's abort reason, once aborted: what the attempt rejects with. */
  #reason: unknown = undefined;
  /** A header to add to the request (the deadline): its name, or undefined for none. */
  readonly #headerName: string | undefined;
  readonly #headerValue: string;

  /**
   * @param headerName, headerValue a header to add as the request is dispatched: past `fetch`'s
   * own validation of `init.headers` (a Headers object built and checked character by character),
   * which costs several µs a request for a value palisade formats itself. Two strings rather than
   * a pair: no array per attempt.
   */
  constructor(base: Dispatcher, ctx: PolicyContext, headerName?: string, headerValue = '') {
    this.#base = base;
    this.#ctx = ctx;
    this.#headerName = headerName;
    this.#headerValue = headerValue;
  }

  /**
   * The dispatcher is also the `init` of an attempt when the caller gave none (and there is no
   * signal or buffered body to pass): `fetch(input, dispatcher)`. undici reads an `init`'s members as
   * WebIDL says, inherited ones included, so these two getters are all it finds: no object per
   * attempt for the `init`, and, with `headers` empty rather than absent, undici fills the request's
   * (empty) header list from nothing instead of copying it into a new list and back (~80 bytes and
   * a generator per request).
   */
  get dispatcher(): this {
    return this;
  }

  get headers(): HeadersInit {
    return NO_HEADERS;
  }

  /** undici's fetch reads this of its dispatcher (MockAgent): answer for the one behind. */
  get isMockActive(): boolean | undefined {
    return this.#base.isMockActive;
  }

  dispatch(options: DispatchOptions, handler: DispatchHandler): boolean {
    if (this.#aborted) {
      // Aborted before undici got this far: fail the request here, never passing it on.
      if (typeof handler.onError === 'function') {
        handler.onError(asError(this.#reason));
        return true;
      }
      this.#wrap(handler); // a handler without onError: ended as it starts
    } else if (this.#ctx !== undefined) {
      this.#handler = handler;
      // undici's own fetch handler declares `abort: null` and keeps there the function it is given
      // when the request starts: nothing to wrap.
      if (handler.abort !== null || typeof handler.onConnect !== 'function') this.#wrap(handler);
    }
    const headerName = this.#headerName;
    if (headerName !== undefined) addHeader(options, headerName, this.#headerValue);
    return this.#base.dispatch(options, handler);
  }

  /** Follows the start of the request through the handler's `onConnect` (or `onRequestStart`). */
  #wrap(handler: DispatchHandler): void {
    const onConnect = handler.onConnect;
    const onRequestStart = handler.onRequestStart;
    const self = this;
    if (typeof onConnect === 'function') {
      handler.onConnect = function (this: DispatchHandler, abort: AbortRequest, context?: unknown) {
        onConnect.call(this, abort, context);
        self.#started(abort);
      };
    } else if (typeof onRequestStart === 'function') {
      handler.onRequestStart = function (this: DispatchHandler, controller, context) {
        onRequestStart.call(this, controller, context);
        self.#started((reason) => controller.abort(reason));
      };
    }
  }

  /** undici started the request (it is being written): keep how to end it, and end it if aborted already. */
  #started(abort: AbortRequest): void {
    this.#abortRequest = abort;
    if (this.#aborted) abort(asError(this.#reason));
  }

  /**
   * Sends the attempt: `fetchFn(input, init)`, `init` naming this dispatcher. The response goes
   * through `receiver.received` (what it returns or throws is the attempt's outcome), and the
   * outcome through `call.finish`, in the one reaction to fetch's promise; the promise returned is
   * that reaction's. An abort of the attempt's Context rejects it with the Context's reason.
   * @param call the fused call this attempt is the work of (see `Settler.work` in core), if any
   */
  send(
    fetchFn: typeof fetch,
    input: RequestInfo | URL,
    init: RequestInit | undefined,
    receiver: Receiver = PASS,
    call: FusedWork = ALONE,
  ): Promise<unknown> {
    const ctx = this.#ctx as PolicyContext;
    const settled = fetchFn(input, init).then(
      (response) => {
        this.#done();
        if (this.#aborted) {
          // Aborted as the response came in: the attempt is over, and nobody will read this one.
          discard(response);
          return call.finish(false, this.#reason);
        }
        return deliver(receiver, response, call);
      },
      (error: unknown) => {
        this.#done();
        return call.finish(false, this.#aborted ? this.#reason : error);
      },
    );
    onContextAbort(ctx, this);
    return settled;
  }

  /**
   * The attempt settled. undici holds on to this dispatcher for as long as the Response lives,
   * through young collections (it follows the Response with a WeakRef): without letting go here,
   * the attempt's Contexts and all they reach were promoted with it, ~400 bytes a request. An
   * abort of the Context after this (a timeout firing in a retry's backoff) must not reach the
   * request either. What is left to stop is the body, which is the caller's now.
   */
  #done(): void {
    this.#ctx = undefined;
    this.#handler = undefined;
    this.#abortRequest = undefined;
  }

  /** The attempt's Context aborted: have undici end the request and fail it (see the class comment). */
  handleEvent(): void {
    const ctx = this.#ctx;
    if (this.#aborted || ctx === undefined) return;
    this.#aborted = true;
    this.#reason = ctx.reason;
    const handler = this.#handler;
    if (handler === undefined) return; // not dispatched yet: failed when it is
    const error = asError(this.#reason);
    const abort = this.#abortRequest ?? (typeof handler.abort === 'function' ? handler.abort : undefined);
    if (abort !== undefined) {
      abort(error);
      return;
    }
    // Dispatched, not started. With no onError to fail it by, it is ended as it starts.
    const onError = handler.onError;
    if (typeof onError !== 'function') {
      if (handler.abort === null) this.#wrap(handler);
      return;
    }
    handler.onConnect = (end: AbortRequest) => end(error);
    if (typeof handler.onRequestStart === 'function') handler.onRequestStart = (controller) => controller.abort(error);
    handler.onError = ignore;
    onError.call(handler, error);
  }
}
