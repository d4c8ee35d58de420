import {
  type InboundRateLimitDecision,
  type InboundRateLimiter,
  RateLimitedError,
  rateLimitHeaders,
  rateLimitedResponder,
  rateLimitedResponse,
} from '@palisade/core';
import { type RateLimitOptions, rateLimit as rateLimitPolicy } from '@palisade/rate-limit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { clientKeyReader } from './client-key.js';
import { type ExpressKeyOptions, type ExpressOptions, normalizeExpressOptions, parseKey } from './options.js';
import type { NormalizedExpressOptions } from './options.js';
import { RequestState, writeSerialized } from './request-state.js';

/** Options of {@link rateLimit}: `@palisade/rate-limit`'s, the adapter's, and how clients are told apart. */
export interface ExpressRateLimitOptions
  extends Omit<RateLimitOptions, 'key' | 'cost'>,
    ExpressOptions,
    ExpressKeyOptions {
  /**
   * Units a request takes: a number (0 … `burst`), or a function of the request.
   * @default 1
   * @example cost: (req) => (req.path.startsWith('/search') ? 5 : 1)
   */
  cost?: number | ((req: Request) => number);
}

/** A rate limit as one step of a middleware. */
export interface RateLimitStep {
  readonly limiter: InboundRateLimiter;
  readonly readKey: (req: Request) => string;
  readonly costOf: ((req: Request) => number) | undefined;
  readonly adapter: NormalizedExpressOptions;
}

/**
 * Runs the rate limit for a request: an allowed request gets the `RateLimit` headers and goes on to
 * `then` (or `next`); a refused one gets 429 with `Retry-After` and the headers, and goes no further.
 */
export function rateLimitHandler(step: RateLimitStep, then?: RequestHandler): RequestHandler {
  const { limiter, readKey, costOf, adapter } = step;
  const { http } = adapter;
  const windowMs = limiter.windowMs;
  const refuse = rateLimitedResponder(http);

  const decide = (req: Request, res: Response, next: NextFunction, decision: InboundRateLimitDecision): void => {
    if (decision.allowed) {
      if (http.rateLimitHeaders !== 'none' && !res.headersSent) {
        const headers = rateLimitHeaders(
          { limit: decision.limit, remaining: decision.remaining, resetMs: decision.resetMs, windowMs },
          http,
        );
        for (const name in headers) res.setHeader(name, headers[name] as string);
      }
      if (then) then(req, res, next);
      else next();
      return;
    }
    if (res.headersSent) return;
    const info = {
      limit: decision.limit,
      remaining: decision.remaining,
      resetMs: decision.resetMs,
      retryAfterMs: decision.retryAfterMs,
      windowMs,
    };
    if (adapter.onRejected) {
      RequestState.of(req, res).send(rateLimitedResponse(info, http), new RateLimitedError(info), adapter);
    } else {
      writeSerialized(res, refuse(info));
    }
  };

  return function palisadeRateLimit(req: Request, res: Response, next: NextFunction): void {
    let decision: InboundRateLimitDecision | Promise<InboundRateLimitDecision>;
    try {
      const key = readKey(req);
      decision = costOf === undefined ? limiter.consume(key) : limiter.consume(key, costOf(req));
    } catch (error) {
      next(error);
      return;
    }
    if (typeof (decision as Promise<unknown>).then === 'function') {
      (decision as Promise<InboundRateLimitDecision>).then((d) => decide(req, res, next, d), next);
    } else {
      decide(req, res, next, decision as InboundRateLimitDecision);
    }
  };
}

/**
 * Limits each client to `limit` requests per `windowMs` (GCRA, up to `burst` at once). Allowed
 * responses carry the IETF `RateLimit-Policy` and `RateLimit` headers; a refused request gets 429
 * with `Retry-After` (seconds) and an RFC 9457 problem+json body, and never reaches the handler.
 *
 * @example
 * app.use('/api', rateLimit({ limit: 100, windowMs: '1m', key: 'header:x-api-key' }));
 */
export function rateLimit(options?: ExpressRateLimitOptions): RequestHandler {
  const { adapter, raw, pattern } = normalizeExpressOptions('rateLimit', options, ['key', 'cost']);
  const cost = raw.cost;
  let costOf: ((req: Request) => number) | undefined;
  if (typeof cost === 'function') costOf = cost as (req: Request) => number;
  else if (cost !== undefined) pattern.cost = cost;
  const limiter = rateLimitPolicy(pattern as RateLimitOptions);
  const readKey = clientKeyReader(parseKey(raw.key, adapter), adapter.warn);
  return rateLimitHandler({ limiter, readKey, costOf, adapter });
}
