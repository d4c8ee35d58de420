import {
  type HeaderSetter,
  type InboundRateLimit,
  type InboundRateLimitDecision,
  inboundRateLimit,
  requestCost,
} from '@palisade/core';
import { type RateLimitOptions, rateLimit as rateLimitPolicy } from '@palisade/rate-limit';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { clientKeyReader } from './client-key.js';
import {
  type HonoKeyOptions,
  type HonoOptions,
  KEY_OPTION_KEYS,
  type NormalizedHonoOptions,
  normalizeHonoOptions,
  normalizeKeyOptions,
} from './options.js';
import { addResponseHeaders, nodeOutgoing } from './request-header.js';
import { type PalisadeEnv, type PalisadeOptionalEnv, problemResponse, rejectionResponse } from './request-state.js';

/** Options of {@link rateLimit}: `@palisade/rate-limit`'s, the adapter's, and how clients are told apart. */
export interface HonoRateLimitOptions extends Omit<RateLimitOptions, 'key' | 'cost'>, HonoOptions, HonoKeyOptions {
  /**
   * Units a request takes: a number (0 … `burst`), or a function of the context.
   * @default 1
   * @example cost: (c) => (c.req.path.startsWith('/search') ? 5 : 1)
   */
  cost?: number | ((c: Context) => number);
}

/** On `@hono/node-server`: collected, then added to whatever Response is written, as Node writes it. */
const collect: HeaderSetter<string[]> = (headers, name, value) => {
  headers.push(name, value);
};
/** Elsewhere: through Hono, onto the response the handler returns. */
const setOnContext: HeaderSetter<Context> = (c, name, value) => {
  c.header(name, value);
};

/**
 * Runs the rate limit for a request: an allowed request gets the `RateLimit` headers and goes on to
 * `then` (or `next`) in the same tick when the store answers synchronously; a refused one gets 429
 * with `Retry-After` and the headers, and goes no further.
 */
export function rateLimitHandler(
  step: InboundRateLimit<Context>,
  adapter: NormalizedHonoOptions,
  then?: MiddlewareHandler<PalisadeEnv>,
): MiddlewareHandler<PalisadeOptionalEnv> {
  const { writeHeaders } = step;

  const refuse = (c: Context, decision: InboundRateLimitDecision): Promise<Response> | Response => {
    if (adapter.onRejected) {
      const { response, error } = step.rejection(decision);
      return rejectionResponse(c, response, error, adapter);
    }
    return problemResponse(c, step.refusal(decision));
  };

  const decide = (c: Context, next: Next, decision: InboundRateLimitDecision): Promise<Response | undefined | void> => {
    if (!decision.allowed) return Promise.resolve(refuse(c, decision));
    if (writeHeaders !== undefined) {
      const outgoing = nodeOutgoing(c);
      if (outgoing !== undefined && !outgoing.headersSent) {
        const headers: string[] = [];
        writeHeaders(headers, collect, decision);
        addResponseHeaders(outgoing, headers);
      } else writeHeaders(c, setOnContext, decision);
    }
    return then ? then(c, next) : next();
  };

  // Not an async function: an allowed request with an in-memory store costs no extra promise.
  return function palisadeRateLimit(c: Context, next: Next): Promise<Response | undefined | void> {
    let pending: InboundRateLimitDecision | Promise<InboundRateLimitDecision>;
    try {
      pending = step.consume(c);
    } catch (error) {
      return Promise.reject(error);
    }
    if (typeof (pending as Promise<unknown>).then === 'function') {
      return (pending as Promise<InboundRateLimitDecision>).then((decision) => decide(c, next, decision));
    }
    return decide(c, next, pending as InboundRateLimitDecision);
  };
}

/**
 * Limits each client to `limit` requests per `windowMs` (GCRA, up to `burst` at once). Allowed
 * responses carry the IETF `RateLimit-Policy` and `RateLimit` headers; a refused request gets 429
 * with `Retry-After` (seconds) and an RFC 9457 problem+json body, and never reaches the handler.
 *
 * @example
 * import { getConnInfo } from '@hono/node-server/conninfo';
 * app.use('/api/*', rateLimit({ limit: 100, windowMs: '1m', getConnInfo }));
 */
export function rateLimit(options?: HonoRateLimitOptions): MiddlewareHandler<PalisadeOptionalEnv> {
  const { adapter, raw, pattern } = normalizeHonoOptions('rateLimit', options, [...KEY_OPTION_KEYS, 'cost']);
  const costOf = requestCost<Context>(raw, pattern);
  const limiter = rateLimitPolicy(pattern as RateLimitOptions);
  const readKey = clientKeyReader(normalizeKeyOptions(raw, adapter), adapter.warn);
  return rateLimitHandler(inboundRateLimit({ limiter, readKey, costOf, http: adapter.http }), adapter);
}
