import { type RateLimitInfo, RateLimitedError } from './errors.js';
import {
  type HttpErrorResponse,
  type NormalizedHttpResponseOptions,
  type RateLimitHeaderWriter,
  type SerializedHttpResponse,
  rateLimitHeaderWriter,
  rateLimitedResponder,
  rateLimitedResponse,
} from './http-response.js';
import type { InboundRateLimitDecision, InboundRateLimiter } from './inbound-routes.js';

// The framework-free half of the inbound `rateLimit` middleware (and of `resilience()` routes with
// a `rateLimit`): how a request is charged, which headers an allowed one gets, what a refused one
// is answered. Each adapter keeps only the calls into its framework.

/** What an adapter hands to {@link inboundRateLimit}. */
export interface InboundRateLimitOptions<Req> {
  readonly limiter: InboundRateLimiter;
  /** The client's key (see `ClientKey`). */
  readonly readKey: (req: Req) => string;
  /** The units a request takes, when `cost` is a function; otherwise the limiter's own `cost`. */
  readonly costOf: ((req: Req) => number) | undefined;
  readonly http: NormalizedHttpResponseOptions;
}

/** A rate limit as one step of an inbound middleware. */
export interface InboundRateLimit<Req> {
  /**
   * Charges the request and returns the decision: synchronously with `memoryStore()` (so the
   * middleware can hand on at once, with no promise or microtask), a promise with `redisStore()`.
   * Throws what `key` or `cost` throw.
   */
  consume(req: Req): InboundRateLimitDecision | Promise<InboundRateLimitDecision>;
  /** Writes an allowed decision's rate-limit headers; `undefined` when `rateLimitHeaders` is `'none'`. */
  readonly writeHeaders: RateLimitHeaderWriter | undefined;
  /** The 429 for a refused decision, serialized: the same frozen object while the numbers it shows repeat. */
  refusal(decision: InboundRateLimitDecision): SerializedHttpResponse;
  /** The 429 as data and the error it stands for, for an `onRejected` handler. */
  rejection(decision: InboundRateLimitDecision): { response: HttpErrorResponse; error: RateLimitedError };
}

/** Builds the rate-limit step of a middleware, once, at start-up. */
export function inboundRateLimit<Req>(options: InboundRateLimitOptions<Req>): InboundRateLimit<Req> {
  const { limiter, readKey, costOf, http } = options;
  const windowMs = limiter.windowMs;
  const respond = rateLimitedResponder(http);
  const info = (d: InboundRateLimitDecision): RateLimitInfo & { retryAfterMs: number } => ({
    limit: d.limit,
    remaining: d.remaining,
    resetMs: d.resetMs,
    retryAfterMs: d.retryAfterMs,
    windowMs,
  });
  return {
    consume:
      costOf === undefined
        ? (req) => limiter.consume(readKey(req))
        : (req) => limiter.consume(readKey(req), costOf(req)),
    writeHeaders: rateLimitHeaderWriter(http, windowMs),
    refusal: (decision) => respond(info(decision)),
    rejection(decision) {
      const i = info(decision);
      return { response: rateLimitedResponse(i, http), error: new RateLimitedError(i) };
    },
  };
}

/**
 * Takes the `cost` option of a `rateLimit` middleware apart: a function of the request is the
 * adapter's to call (returned); anything else goes to the pattern's options, which validate it.
 */
export function requestCost<Req>(
  raw: Record<string, unknown>,
  pattern: Record<string, unknown>,
): ((req: Req) => number) | undefined {
  const cost = raw.cost;
  if (typeof cost === 'function') return cost as (req: Req) => number;
  if (cost !== undefined) pattern.cost = cost;
  return undefined;
}
