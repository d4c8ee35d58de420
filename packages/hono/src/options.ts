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
import type { Context } from 'hono';

/** What `onRejected` is told when palisade refuses or times out a request. */
export interface HonoRejection {
  /** The palisade error: `RateLimitedError`, `BulkheadRejectedError`, `BrokenCircuitError`, `TimeoutError`, … */
  error: ResilienceError;
  /** The response palisade is about to send (status, headers, problem+json body). */
  response: HttpErrorResponse;
  /** The request's Hono context. */
  c: Context;
}

/**
 * Replaces palisade's response: return a `Response` (e.g. `c.json(...)`), or another
 * `{ status, headers, body }` to send (`body` as JSON), or nothing to send palisade's own.
 * @example onRejected: ({ c, response }) => c.json({ error: response.body.title }, response.status as 429)
 */
export type HonoRejectionHandler = (
  rejection: HonoRejection,
) => Response | HttpErrorResponse | undefined | void | Promise<Response | HttpErrorResponse | undefined | void>;

/** Reads the client's connection info: the `getConnInfo` of your runtime's Hono adapter. */
export type GetConnInfo = (c: Context) => { remote: { address?: string | undefined } };

/** Options every palisade Hono middleware takes, beside its pattern's own. */
export interface HonoOptions extends InboundOptions {
  /**
   * Replaces the problem+json response palisade sends on a rejection or a timeout.
   * @default undefined (send palisade's response)
   */
  onRejected?: HonoRejectionHandler;
}

/** Options of the middlewares that tell clients apart (`rateLimit`, `resilience`). */
export interface HonoKeyOptions {
  /**
   * How clients are told apart: `'ip'` (the connection's address, see `getConnInfo`; the
   * `X-Forwarded-For` header is ignored unless `proxyHops` says to trust it), `'header:<name>'`
   * (e.g. `'header:x-api-key'`), or a function of the context.
   * @default 'ip'
   * @example key: (c) => c.req.header('x-tenant') ?? ''
   */
  key?: ClientKey<Context>;
  /**
   * Reads the client's address for `key: 'ip'`: pass your runtime's `getConnInfo`
   * (`@hono/node-server/conninfo`, `hono/bun`, `hono/deno`, `hono/cloudflare-workers`, …). Without
   * it, the address is read from `@hono/node-server`'s bindings when present; elsewhere every
   * client shares one key (and a warning says so once).
   * @default undefined
   * @example import { getConnInfo } from '@hono/node-server/conninfo'; rateLimit({ limit: 100, getConnInfo })
   */
  getConnInfo?: GetConnInfo;
  /**
   * How many proxies in front of the app to trust, like Express's `trust proxy` set to a number:
   * with 0, `X-Forwarded-For` is ignored; with `n`, the address the n-th proxy appended to it is
   * the client's.
   * @default 0
   */
  proxyHops?: number;
}

/** Defaults of {@link HonoOptions} and {@link HonoKeyOptions}. */
export const HONO_DEFAULTS = Object.freeze({
  ...INBOUND_DEFAULTS,
  onRejected: undefined as HonoRejectionHandler | undefined,
  key: 'ip' as ClientKey<Context>,
  getConnInfo: undefined as GetConnInfo | undefined,
  proxyHops: 0,
});

/** The adapter's options once validated. */
export type NormalizedHonoOptions = NormalizedMiddlewareOptions<HonoRejectionHandler>;

export const PKG = '@palisade/hono';
export const check = createValidator(PKG);
export const KEY_OPTION_KEYS: readonly string[] = ['key', 'getConnInfo', 'proxyHops'];

/**
 * Validates a middleware's options: the adapter's own here, the rest returned for the pattern's
 * factory (which validates them and names unknown ones).
 */
export function normalizeHonoOptions(
  factory: string,
  options: object | undefined,
  extraKeys: readonly string[] = [],
): { adapter: NormalizedHonoOptions; raw: Record<string, unknown>; pattern: Record<string, unknown> } {
  return normalizeMiddlewareOptions<HonoRejectionHandler>(check, PKG, factory, options, extraKeys);
}

/** The key options once validated. */
export interface NormalizedKeyOptions {
  readonly rule: ClientKeyRule<Context>;
  readonly getConnInfo: GetConnInfo | undefined;
  readonly proxyHops: number;
}

/** Parses `key`, `getConnInfo` and `proxyHops` once. */
export function normalizeKeyOptions(
  raw: Record<string, unknown>,
  adapter: NormalizedHonoOptions,
): NormalizedKeyOptions {
  return {
    rule: parseClientKey<Context>(check, 'key', raw.key, adapter.warn, PKG),
    getConnInfo: check.func<GetConnInfo>('getConnInfo', raw.getConnInfo),
    proxyHops: check.integer('proxyHops', raw.proxyHops, HONO_DEFAULTS.proxyHops, { min: 0 }),
  };
}
