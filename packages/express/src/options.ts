import {
  type ClientKey,
  type ClientKeyRule,
  type HttpErrorResponse,
  INBOUND_DEFAULTS,
  type InboundOptions,
  type NormalizedMiddlewareOptions,
  type ResilienceError,
  createValidator,
  normalizeMiddlewareOptions,
  parseClientKey,
} from '@palisade/core';
import type { Request, Response } from 'express';

/** What `onRejected` is told when palisade refuses or times out a request. */
export interface ExpressRejection {
  /** The palisade error: `RateLimitedError`, `BulkheadRejectedError`, `BrokenCircuitError`, `TimeoutError`, … */
  error: ResilienceError;
  /** The response palisade is about to send (status, headers, problem+json body). */
  response: HttpErrorResponse;
  req: Request;
  res: Response;
}

/**
 * Replaces palisade's response: return another `{ status, headers, body }` to send (`body` is
 * sent as JSON), or send a response yourself with `res` and return nothing.
 * @example onRejected: ({ response }) => ({ ...response, body: { ...response.body, requestId } })
 */
export type ExpressRejectionHandler = (rejection: ExpressRejection) => HttpErrorResponse | undefined | void;

/** Options every palisade Express middleware takes, beside its pattern's own. */
export interface ExpressOptions extends InboundOptions {
  /**
   * Replaces the problem+json response palisade sends on a rejection or a timeout.
   * @default undefined (send palisade's response)
   */
  onRejected?: ExpressRejectionHandler;
}

/** Options of the middlewares that tell clients apart (`rateLimit`). */
export interface ExpressKeyOptions {
  /**
   * How clients are told apart: `'ip'` (Express's `req.ip`, which follows the app's `trust proxy`
   * setting, so `X-Forwarded-For` is ignored unless you trust a proxy), `'header:<name>'`
   * (e.g. `'header:x-api-key'`), or a function of the request.
   * @default 'ip'
   * @example key: (req) => req.get('x-tenant') ?? req.ip ?? ''
   */
  key?: ClientKey<Request>;
}

/** Defaults of {@link ExpressOptions} and {@link ExpressKeyOptions}. */
export const EXPRESS_DEFAULTS = Object.freeze({
  ...INBOUND_DEFAULTS,
  onRejected: undefined as ExpressRejectionHandler | undefined,
  key: 'ip' as ClientKey<Request>,
});

/** The adapter's options once validated. */
export type NormalizedExpressOptions = NormalizedMiddlewareOptions<ExpressRejectionHandler>;

export const PKG = '@palisade/express';
export const check = createValidator(PKG);

/**
 * Validates a middleware's options: the adapter's own here, the rest returned for the pattern's
 * factory (which validates them and names unknown ones).
 */
export function normalizeExpressOptions(
  factory: string,
  options: object | undefined,
  extraKeys: readonly string[] = [],
): { adapter: NormalizedExpressOptions; raw: Record<string, unknown>; pattern: Record<string, unknown> } {
  return normalizeMiddlewareOptions<ExpressRejectionHandler>(check, PKG, factory, options, extraKeys);
}

/** Parses the `key` option once. */
export function parseKey(value: unknown, adapter: NormalizedExpressOptions): ClientKeyRule<Request> {
  return parseClientKey<Request>(check, 'key', value, adapter.warn, PKG);
}
