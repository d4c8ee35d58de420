import {
  type Context as PolicyContext,
  type ExecuteOptions,
  type HttpErrorResponse,
  type PalisadeRequestInfo,
  type ResilienceError,
  type SerializedHttpResponse,
  createContext,
  reportCallbackError,
  serializeHttpResponse,
} from '@palisade/core';
import type { Context } from 'hono';
import type { NormalizedHonoOptions } from './options.js';
import { addResponseHeaders, nodeOutgoing } from './request-header.js';

/**
 * The Hono `Env` of the handlers behind `timeout`, `concurrencyLimit` or `circuitBreaker`, which
 * always set `c.get('palisade')` before the handler runs: those middlewares return it, so
 * `app.get(path, timeout(), (c) => c.get('palisade').signal)` is typed with no cast.
 *
 * Declared on a whole app (`new Hono<PalisadeEnv>()`) it states, as Hono's own variable types do
 * (`JwtVariables`, `RequestIdVariables`), that every handler of the app runs behind one of them, or
 * behind a `resilience()` route whose spec has a `timeout`, `attemptTimeout`, `bulkhead` or
 * `circuitBreaker`. Where that is not so, declare {@link PalisadeOptionalEnv} instead.
 */
export type PalisadeEnv = { Variables: { palisade: PalisadeRequestInfo } };

/**
 * The Hono `Env` where palisade may not have run: `c.get('palisade')` is `PalisadeRequestInfo |
 * undefined`. `rateLimit` returns it (it never sets the variable), and so does `resilience` (it
 * sets it only on routes whose spec has a `timeout`, `attemptTimeout`, `bulkhead` or
 * `circuitBreaker`; requests of other routes, and of none, pass without it).
 */
export type PalisadeOptionalEnv = { Variables: { palisade?: PalisadeRequestInfo } };

/** The state palisade keeps for one request, shared by every palisade middleware it passes through. */
export class RequestState implements PalisadeRequestInfo {
  readonly c: Context;
  /** The innermost palisade Context: the handler's signal and deadline. */
  ctx: PolicyContext | undefined = undefined;
  /** palisade answered for this request (`error` says why). */
  answered = false;
  error: unknown = undefined;

  constructor(c: Context) {
    this.c = c;
  }

  /** The state of this request, created by the first palisade middleware it reaches. */
  static of(c: Context): RequestState {
    let state = c.get('palisade') as RequestState | undefined;
    if (!(state instanceof RequestState)) {
      state = new RequestState(c);
      c.set('palisade', state);
    }
    return state;
  }

  get signal(): AbortSignal {
    return this.ctx ? this.ctx.signal : this.c.req.raw.signal;
  }

  get deadline(): number | undefined {
    return this.ctx?.deadline;
  }

  /** The client went away (the Request's own signal aborted). */
  get clientGone(): boolean {
    return this.c.req.raw.signal.aborted;
  }

  /**
   * What a middleware passes to `execute`: the outer palisade Context (so deadlines and aborts
   * flow inward), or the Request's own signal for the outermost one. `deadline` (an inbound
   * deadline) only ever shortens what is already there.
   */
  executeOptions(deadline: number | undefined): ExecuteOptions | PolicyContext {
    const outer = this.ctx;
    if (outer === undefined) return { signal: this.c.req.raw.signal, deadline };
    if (deadline === undefined || (outer.deadline !== undefined && outer.deadline <= deadline)) return outer;
    const ctx = createContext(outer);
    ctx.deadline = deadline;
    return ctx;
  }
}

/**
 * palisade's response as a Hono `Response`. On `@hono/node-server` the headers other than
 * `Content-Type` are added as node-server writes it ({@link addResponseHeaders}), which keeps the
 * Response on node-server's and Node's fast paths: no Web `Headers` object is built for them.
 */
export function problemResponse(c: Context, response: SerializedHttpResponse): Response {
  const status = response.status as 429;
  const outgoing = nodeOutgoing(c);
  if (outgoing === undefined || outgoing.headersSent) return c.body(response.body, status, response.headers);
  if (response !== split.response) splitHeaders(response);
  addResponseHeaders(outgoing, split.added);
  // A fresh object each time: node-server writes Content-Length into the one it is given.
  return c.body(response.body, status, { 'content-type': split.contentType });
}

/**
 * The last response's headers, split for node-server: the refusals of a limited client repeat one
 * frozen response while its numbers do not change, so this is mostly done once per second.
 */
const split = {
  response: undefined as SerializedHttpResponse | undefined,
  contentType: 'application/problem+json',
  added: [] as string[],
};

function splitHeaders(response: SerializedHttpResponse): void {
  let contentType = 'application/problem+json';
  const added: string[] = [];
  const headers = response.headers;
  for (const name in headers) {
    const value = headers[name] as string;
    if (name === 'content-type') contentType = value;
    // node-server frames a string body itself: one Node header call fewer per refusal.
    else if (name !== 'content-length') added.push(name, value);
  }
  split.response = response;
  split.contentType = contentType;
  split.added = added;
}

/** Builds palisade's response (or what `onRejected` makes of it). */
export async function rejectionResponse(
  c: Context,
  response: HttpErrorResponse,
  error: ResilienceError,
  options: NormalizedHonoOptions,
): Promise<Response> {
  let chosen: Response | HttpErrorResponse = response;
  if (options.onRejected) {
    try {
      const custom = await options.onRejected({ error, response, c });
      if (custom) chosen = custom;
    } catch (error) {
      // A failing custom handler still leaves the client with palisade's own answer.
      reportCallbackError('onRejected', options.onRejected, error);
    }
  }
  if (chosen instanceof Response) return chosen;
  return problemResponse(c, serializeHttpResponse(chosen));
}
