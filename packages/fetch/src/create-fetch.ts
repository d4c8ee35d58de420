import {
  type Clock,
  type Context,
  DEADLINE_HEADER,
  type ExecuteOptions,
  type FusedOutcome,
  type FusedWork,
  type Policy,
  type Settler,
  MAX_TIMER_DELAY_MS,
  executeWith,
  formatDeadlineHeader,
  isPolicyContext,
} from '@palisade/core';
import { timeout } from '@palisade/timeout';
import { currentDeadline } from '@palisade/core/deadline';
import { attemptSignal, relay } from './caller-signal.js';
import { AttemptDispatcher, type Receiver, baseDispatcher, deliver, discard } from './dispatch-abort.js';
import { HttpStatusError } from './http-status-error.js';
import { hasHeader, isIdempotent } from './idempotency.js';
import { type CreateFetchOptions, PKG, normalizeFetchOptions } from './options.js';
import { PolicyTable, type Selection } from './policy-table.js';
import { type PreparedRequest, attemptInit, prepareRequest } from './request.js';
import { parseRetryAfter } from './retry-after.js';

/** What every call of one `createFetch` shares. */
interface Shared {
  readonly fetch: typeof fetch | undefined;
  readonly clock: Clock;
  /** `retryable[status] === 1` for the statuses in `retryOnStatus`. */
  readonly retryable: Uint8Array;
  readonly deadlineHeader: string | undefined;
}

/**
 * One call of the wrapped fetch: sends each attempt, turns a retryable status into an
 * {@link HttpStatusError} for the policies, and keeps the latest such response (the one to return
 * if the pipeline ends on it) while cancelling the body of every other. It is also the options the
 * policies are given (the host as key, the caller's signal, the deadline): no object for them.
 */
class FetchCall implements Settler, Receiver, ExecuteOptions {
  readonly key: string;
  readonly signal: AbortSignal | undefined;
  readonly deadline: number | undefined;
  readonly req: PreparedRequest;
  readonly shared: Shared;
  /** The latest response that failed with a retryable status, body unread. */
  failed: Response | undefined = undefined;
  done = false;
  /** Whether a policy may abort an attempt (see `Selection.aborts`). */
  readonly aborts: boolean;
  /**
   * `send`, bound: what the policies call for each attempt. (Not named `attempt`: Contexts made
   * from these options read an `attempt` number off them.)
   */
  readonly sendAttempt: (ctx: Context) => Promise<Response>;
  /** `received`, bound on first need: the response of an attempt sent without a dispatcher goes through it. */
  #received: ((response: Response) => Response) | undefined = undefined;

  constructor(req: PreparedRequest, shared: Shared, deadline: number | undefined, aborts: boolean) {
    this.key = req.host;
    this.signal = req.signal;
    this.deadline = deadline;
    this.req = req;
    this.shared = shared;
    this.aborts = aborts;
    this.sendAttempt = this.send.bind(this);
  }

  /**
   * Sends one attempt. Not an async function: its frame and await plumbing, per attempt, cost
   * more than the rest of this method; a synchronous throw still becomes a rejection.
   */
  send(ctx: Context): Promise<Response> {
    try {
      return this.#send(ctx, undefined) as Promise<Response>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The fused policies' work, when they are the innermost (see `Settler.work` in core): attempt 1,
   * whose one reaction to fetch's promise also settles the whole call. (Later attempts, a retry's,
   * go through {@link send}.)
   */
  work(ctx: Context, call: FusedWork): Promise<unknown> {
    try {
      return this.#send(ctx, call);
    } catch (error) {
      try {
        return Promise.resolve(call.finish(false, error));
      } catch (final) {
        return Promise.reject(final);
      }
    }
  }

  /**
   * Sends one attempt; the promise settles once its response has been through `received`, and,
   * with `call`, once `call` has finished with its outcome (and with what that returns).
   */
  #send(ctx: Context, call: FusedWork | undefined): Promise<unknown> {
    const { req, shared } = this;
    const fetchFn = shared.fetch ?? fetch;
    const deadline = ctx.deadline;
    const name = shared.deadlineHeader;
    /** The deadline header's value, unless none applies or the caller set the header. */
    let value: string | undefined;
    if (deadline !== undefined && name !== undefined) {
      req.ownDeadlineHeader ??= hasHeader(req.headers, name);
      if (!req.ownDeadlineHeader) value = formatDeadlineHeader(deadline, shared.clock.now());
    }
    let signal = req.signal;
    if (this.aborts) {
      // The caller's signal reaches fetch (see caller-signal.ts): it must still abort the body
      // after the policies have let go, and a long-lived one must keep no trace of the calls. On
      // Node's fetch the policies stop the attempt through undici's dispatcher, which also adds
      // the header (see dispatch-abort.ts), and fetch gets the caller's signal itself the first
      // time, a relay of it after; elsewhere a relay that also follows the attempt's own signal,
      // which timeouts and hedges abort.
      const base = req.request === undefined ? baseDispatcher(fetchFn, req.init) : undefined;
      if (base !== undefined && isPolicyContext(ctx)) {
        const dispatcher = new AttemptDispatcher(base, ctx, value === undefined ? undefined : name, value);
        // With no `init` of the caller's and nothing else to pass, the dispatcher is its own
        // `init` (see AttemptDispatcher's `dispatcher`).
        const init =
          req.init === undefined && signal === undefined && req.buffered === undefined
            ? dispatcher
            : attemptInit(req, signal === undefined ? undefined : attemptSignal(signal), undefined, dispatcher);
        return dispatcher.send(fetchFn, req.input, init, this, call);
      }
      const own = ctx.signal;
      if (signal === undefined) signal = own;
      else {
        const joint = relay(signal);
        if (own.aborted) joint.abort(own.reason);
        else own.addEventListener('abort', () => joint.abort(own.reason), { once: true });
        signal = joint.signal;
      }
    }
    let sent = fetchFn(req.input, attemptInit(req, signal, value === undefined ? undefined : [name as string, value]));
    // A `fetch` of the caller's own may answer with a thenable (a test double, another realm).
    if (!(sent instanceof Promise)) sent = Promise.resolve(sent);
    if (call !== undefined) return this.#finish(sent, call);
    this.#received ??= this.received.bind(this);
    return sent.then(this.#received);
  }

  /** The attempt's outcome (its response through `received`) handed to the fused call, in one reaction. */
  #finish(sent: Promise<Response>, call: FusedWork): Promise<unknown> {
    return sent.then(
      (response) => deliver(this, response, call),
      (error: unknown) => call.finish(false, error),
    );
  }

  /** An attempt's response: handed on, or (a retryable status) kept and thrown as a failure. */
  received(response: Response): Response {
    const { req, shared } = this;
    if (this.done) {
      // A hedge that lost, settling after the call ended: nobody will read it.
      discard(response);
      return response;
    }
    if (shared.retryable[response.status] === 1) {
      if (this.failed !== undefined) discard(this.failed);
      this.failed = response;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), shared.clock.now());
      throw new HttpStatusError(response, req.method, retryAfterMs);
    }
    return response;
  }

  /** Ends the call, after every policy: a final retryable status resolves with its Response. */
  settle(outcome: FusedOutcome): undefined {
    const response = this.end(outcome.ok ? undefined : outcome.result);
    if (response !== undefined) {
      outcome.ok = true;
      outcome.result = response;
    }
    return undefined;
  }

  /** Ends the call: the response to return for `error` (when it carries the kept one), cancelling the rest. */
  end(error?: unknown): Response | undefined {
    this.done = true;
    const kept = this.failed;
    this.failed = undefined;
    if (kept === undefined) return undefined;
    if (error instanceof HttpStatusError && error.response === kept) return kept;
    discard(kept);
    return undefined;
  }
}

/** Reads a Request's body once, giving up at once if the caller aborts meanwhile. */
function readBody(request: Request, signal: AbortSignal | undefined): Promise<ArrayBuffer> {
  if (signal === undefined) return request.arrayBuffer();
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    request
      .arrayBuffer()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Runs one call through its policies, after reading a `Request`'s body once when it may be
 * replayed. Not an async function: its frame and await plumbing cost more, on every call, than the
 * `then` and its two small handlers that end the call here.
 */
function run(
  req: PreparedRequest,
  selection: Selection,
  deadline: number | undefined,
  guard: Policy,
  shared: Shared,
): Promise<Response> {
  if (selection.replays && req.body !== 'reusable' && req.buffered === undefined) {
    if (req.body === 'one-shot') {
      return Promise.reject(
        new TypeError(
          `${PKG}: the request body is a one-shot stream, but ${req.method} ${req.host} may be sent more than once (retry or hedge). Pass a string, Blob, ArrayBuffer, FormData or URLSearchParams, or read the stream into one first.`,
        ),
      );
    }
    return readBody(req.request as Request, req.signal).then((body) => {
      req.buffered = body;
      return run(req, selection, deadline, guard, shared);
    });
  }
  const call = new FetchCall(req, shared, deadline, selection.aborts || deadline !== undefined);
  const policy = selection.policy;
  // The call ends in the policies' own last `then` (see `settle`), not in one more.
  if (deadline === undefined) return executeWith(policy as Policy, call.sendAttempt, call, call);
  if (policy === undefined) return executeWith(guard, call.sendAttempt, call, call);
  return executeWith(guard, (ctx) => policy.execute(call.sendAttempt, ctx), call, call);
}

/**
 * Wraps `fetch` with palisade policies, per host and per route. The result has exactly `fetch`'s
 * signature: pass it wherever a `fetch` is expected.
 *
 * - Responses with a retryable status (`retryOnStatus`) are failures inside the pipeline, so retry
 *   retries them (honouring `Retry-After`) and the breaker counts them; if the pipeline ends on one,
 *   that `Response` is returned, as `fetch` would. Network errors and policy rejections throw.
 * - Only idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE, or with `Idempotency-Key`) go
 *   through a spec's `retry` and `hedge`, unless `retryNonIdempotent`.
 * - Bodies are replayed across attempts; a one-shot stream body is refused when the request may be
 *   sent twice. Discarded responses have their bodies cancelled, so no connection leaks.
 * - The caller's `signal` aborts everything; a timeout aborts the underlying request.
 * - Inside {@link runWithDeadline} (the Express and Hono middleware), the inbound deadline bounds
 *   the call, and the time left is sent on as the `palisade-deadline-ms` header.
 *
 * @example
 * const fetch = createFetch({
 *   policy: { timeout: '10s', retry: { maxAttempts: 3 }, circuitBreaker: true },
 *   routes: { 'GET api.example.com/search': { timeout: '2s', hedge: { delayMs: 200 } } },
 * });
 * const res = await fetch('https://api.example.com/users/1');
 */
export function createFetch(options?: CreateFetchOptions): typeof fetch {
  const opts = normalizeFetchOptions(options);
  const table = new PolicyTable(opts);
  const { clock, onEvent } = opts;
  const retryable = new Uint8Array(600);
  for (const status of opts.retryOnStatus) retryable[status] = 1;
  const shared: Shared = {
    fetch: opts.fetch,
    clock,
    retryable,
    deadlineHeader: opts.propagateDeadline ? DEADLINE_HEADER : undefined,
  };
  // Bounds a call by the ambient deadline when there is one (its own `ms` never binds).
  const guard = timeout({ ms: MAX_TIMER_DELAY_MS, name: 'deadline', clock, ...(onEvent ? { onEvent } : {}) });
  const empty = table.empty;

  const palisadeFetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const deadline = currentDeadline();
    if (empty && deadline === undefined) return (opts.fetch ?? fetch)(input, init);
    const req = prepareRequest(input, init);
    if (req === undefined) return (opts.fetch ?? fetch)(input, init);
    const { method } = req;
    const selection = table.select(method, req.host, req.path, () => isIdempotent(method, req.headers));
    if (selection.policy === undefined && deadline === undefined) return (opts.fetch ?? fetch)(input, init);
    return run(req, selection, deadline, guard, shared);
  };
  return palisadeFetch as typeof fetch;
}
