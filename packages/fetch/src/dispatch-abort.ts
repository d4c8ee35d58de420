import { type PolicyContext, onContextAbort } from '@palisade/core';

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
 * forwards to the caller's `init.dispatcher` or to the global one, and on the way takes the
 * `abort` function undici hands its handler when the request is written (`onConnect`). When the
 * attempt's Context aborts, that function ends the request (undici then destroys the socket: the
 * server sees the connection close, as with a signal), and the attempt rejects at once with the
 * Context's reason, as `fetch` does with a signal's — also before the request is written (still
 * connecting, or queued in the pool): then it is ended as soon as undici starts it.
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

/** Where {@link capture} leaves a new promise's resolvers, for the caller to take at once. */
const captured: { resolve: ((value: Response) => void) | undefined; reject: ((reason: unknown) => void) | undefined } =
  { resolve: undefined, reject: undefined };

/** A promise executor shared by every attempt: one closure fewer per request than an inline one. */
function capture(resolve: (value: Response) => void, reject: (reason: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

const asError = (reason: unknown): Error =>
  reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');

/**
 * One attempt's dispatcher, and its abort listener on the attempt's palisade Context (see the
 * file's comment). Per attempt it costs this object, one Promise and the `then` on fetch's. undici's
 * own fetch handler keeps the `abort` function on itself, so it is read from there; a handler of
 * another shape has its `onConnect` (or `onRequestStart`) wrapped to catch it.
 */
export class AttemptDispatcher implements Dispatcher {
  readonly #base: Dispatcher;
  /** The attempt's Context, until its response is in (see `send`). */
  #ctx: PolicyContext | undefined;
  #abortRequest: AbortRequest | undefined = undefined;
  /** undici fetch's handler, when it keeps its own `abort` (see `dispatch`). */
  #handler: DispatchHandler | undefined = undefined;
  #reject: ((reason: unknown) => void) | undefined = undefined;
  #aborted = false;
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
    const headerName = this.#headerName;
    if (headerName !== undefined) addHeader(options, headerName, this.#headerValue);
    if (handler.abort === null && typeof handler.onConnect === 'function') {
      // undici's own fetch handler declares `abort: null` and keeps there the function it is given
      // when the request starts: nothing to wrap unless the attempt aborts before then (see #stop).
      this.#handler = handler;
    } else this.#wrap(handler);
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
    if (this.#aborted) abort(asError(this.#ctx?.reason));
  }

  /** Ends the request: now if undici has started it, else as soon as it does. */
  #stop(reason: unknown): void {
    const handler = this.#handler;
    if (handler === undefined) {
      this.#abortRequest?.(asError(reason));
      return;
    }
    this.#handler = undefined;
    if (typeof handler.abort === 'function') handler.abort(asError(reason));
    else this.#wrap(handler);
  }

  /**
   * Sends the attempt: `fetchFn(input, init)`, `init` naming this dispatcher; rejects at once on
   * abort. The response goes through `receiver.received` on the way (what it returns or throws
   * settles the attempt): in the same reaction, not in a `then` of its own.
   */
  send(
    fetchFn: typeof fetch,
    input: RequestInfo | URL,
    init: RequestInit | undefined,
    receiver: Receiver = PASS,
  ): Promise<Response> {
    const ctx = this.#ctx as PolicyContext;
    // The promise's resolvers, taken by a shared executor: no closure per attempt for it.
    const sent = new Promise<Response>(capture);
    const resolve = captured.resolve as (value: Response) => void;
    const reject = captured.reject as (reason: unknown) => void;
    captured.resolve = captured.reject = undefined;
    this.#reject = reject;
    fetchFn(input, init).then((response) => {
      // undici holds on to this dispatcher for as long as the Response lives, through young
      // collections (it follows the Response with a WeakRef): without this, the attempt's
      // Contexts and all they reach were promoted with it, ~400 bytes a request. What is left
      // to stop is the body, which is the caller's now.
      this.#done();
      try {
        resolve(receiver.received(response));
      } catch (error) {
        reject(error);
      }
    }, (error: unknown) => {
      // Done too: an abort of the Context after this (a timeout firing in a retry's backoff)
      // must not reach the failed request.
      this.#done();
      reject(error);
    });
    onContextAbort(ctx, this);
    return sent;
  }

  /** The attempt is over: nothing to stop any more, and nothing of the call kept. */
  #done(): void {
    this.#ctx = undefined;
    this.#reject = undefined;
    this.#handler = undefined;
  }

  /** The attempt's Context aborted: end the request (now, or when undici starts it) and reject. */
  handleEvent(): void {
    const ctx = this.#ctx;
    if (this.#aborted || ctx === undefined) return;
    this.#aborted = true;
    const reason = ctx.reason;
    this.#stop(reason);
    this.#reject?.(reason);
  }
}
