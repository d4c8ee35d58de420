import {
  type InboundRateLimitDecision,
  type InboundRateLimiter,
  RateLimitedError,
  rateLimitHeaders,
  rateLimitedResponder,
  rateLimitedResponse,
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
import { nodeOutgoing } from './request-header.js';
import { type PalisadeEnv, problemResponse, rejectionResponse } from './request-state.js';

/** Options of {@link rateLimit}: `@palisade/rate-limit`'s, the adapter's, and how clients are told apart. */
export interface HonoRateLimitOptions extends Omit<RateLimitOptions, 'key' | 'cost'>, HonoOptions, HonoKeyOptions {
  /**
   * Units a request takes: a number (0 … `burst`), or a function of the context.
   * @default 1
   * @example cost: (c) => (c.req.path.startsWith('/search') ? 5 : 1)
   */
  cost?: number | ((c: Context) => number);
}

/** A rate limit as one step of a middleware. */
export interface RateLimitStep {
  readonly limiter: InboundRateLimiter;
  readonly readKey: (c: Context) => string;
  readonly costOf: ((c: Context) => number) | undefined;
  readonly adapter: NormalizedHonoOptions;
}

/**
 * Runs the rate limit for a request: an allowed request gets the `RateLimit` headers and goes on to
 * `then` (or `next`); a refused one gets 429 with `Retry-After` and the headers, and goes no further.
 */
export function rateLimitHandler(
  step: RateLimitStep,
  then?: MiddlewareHandler<PalisadeEnv>,
): MiddlewareHandler<PalisadeEnv> {
  const { limiter, readKey, costOf, adapter } = step;
  const { http } = adapter;
  const windowMs = limiter.windowMs;
  const sendHeaders = http.rateLimitHeaders !== 'none';

  const serialized = rateLimitedResponder(http);
  const refuse = (c: Context, decision: InboundRateLimitDecision): Promise<Response> | Response => {
    const info = {
      limit: decision.limit,
      remaining: decision.remaining,
      resetMs: decision.resetMs,
      retryAfterMs: decision.retryAfterMs,
      windowMs,
    };
    if (adapter.onRejected) {
      return rejectionResponse(c, rateLimitedResponse(info, http), new RateLimitedError(info), adapter);
    }
    return problemResponse(c, serialized(info));
  };

  const decide = (c: Context, next: Next, decision: InboundRateLimitDecision): Promise<Response | undefined | void> => {
    if (!decision.allowed) return Promise.resolve(refuse(c, decision));
    if (sendHeaders) {
      const headers = rateLimitHeaders(
        { limit: decision.limit, remaining: decision.remaining, resetMs: decision.resetMs, windowMs },
        http,
      );
      const outgoing = nodeOutgoing(c);
      if (outgoing !== undefined && !outgoing.headersSent) {
        for (const name in headers) outgoing.setHeader?.(name, headers[name] as string);
      } else {
        for (const name in headers) c.header(name, headers[name]);
      }
    }
    return then ? then(c, next) : next();
  };

  // Not an async function: an allowed request with an in-memory store costs no extra promise.
  return function palisadeRateLimit(c: Context, next: Next): Promise<Response | undefined | void> {
    let pending: InboundRateLimitDecision | Promise<InboundRateLimitDecision>;
    try {
      const key = readKey(c);
      pending = costOf === undefined ? limiter.consume(key) : limiter.consume(key, costOf(c));
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
export function rateLimit(options?: HonoRateLimitOptions): MiddlewareHandler<PalisadeEnv> {
  const { adapter, raw, pattern } = normalizeHonoOptions('rateLimit', options, [...KEY_OPTION_KEYS, 'cost']);
  const cost = raw.cost;
  let costOf: ((c: Context) => number) | undefined;
  if (typeof cost === 'function') costOf = cost as (c: Context) => number;
  else if (cost !== undefined) pattern.cost = cost;
  const limiter = rateLimitPolicy(pattern as RateLimitOptions);
  const readKey = clientKeyReader(normalizeKeyOptions(raw, adapter), adapter.warn);
  return rateLimitHandler({ limiter, readKey, costOf, adapter });
}
