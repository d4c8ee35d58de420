import {
  type HeaderSetter,
  type InboundRateLimit,
  type InboundRateLimitDecision,
  inboundRateLimit,
  requestCost,
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

const setHeader: HeaderSetter<Response> = (res, name, value) => {
  res.setHeader(name, value);
};

/**
 * Runs the rate limit for a request: an allowed request gets the `RateLimit` headers and goes on to
 * `then` (or `next`) in the same tick when the store answers synchronously; a refused one gets 429
 * with `Retry-After` and the headers, and goes no further.
 */
export function rateLimitHandler(
  step: InboundRateLimit<Request>,
  adapter: NormalizedExpressOptions,
  then?: RequestHandler,
): RequestHandler {
  const { writeHeaders } = step;

  const decide = (req: Request, res: Response, next: NextFunction, decision: InboundRateLimitDecision): void => {
    if (decision.allowed) {
      if (writeHeaders !== undefined && !res.headersSent) writeHeaders(res, setHeader, decision);
      if (then) then(req, res, next);
      else next();
      return;
    }
    if (res.headersSent) return;
    if (adapter.onRejected) {
      const { response, error } = step.rejection(decision);
      RequestState.of(req, res).send(response, error, adapter);
    } else {
      writeSerialized(res, step.refusal(decision));
    }
  };

  return function palisadeRateLimit(req: Request, res: Response, next: NextFunction): void {
    let decision: InboundRateLimitDecision | Promise<InboundRateLimitDecision>;
    try {
      decision = step.consume(req);
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
  const costOf = requestCost<Request>(raw, pattern);
  const limiter = rateLimitPolicy(pattern as RateLimitOptions);
  const readKey = clientKeyReader(parseKey(raw.key, adapter), adapter.warn);
  return rateLimitHandler(inboundRateLimit({ limiter, readKey, costOf, http: adapter.http }), adapter);
}
