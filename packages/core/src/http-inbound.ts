import {
  HTTP_RESPONSE_DEFAULTS,
  type HttpResponseOptions,
  type NormalizedHttpResponseOptions,
  normalizeHttpResponseOptions,
} from './http-response.js';
import { reportCallbackError } from './report.js';
import { type OptionValidator, optionsObject } from './validate.js';

// The framework-agnostic half of the inbound adapters (@palisade/express, @palisade/hono): option
// names, defaults and checks they share, how a client key is read, and how a response counts.

/**
 * How a middleware tells clients apart:
 * - `'ip'`: the client's address as the framework sees it (Express: `req.ip`, which follows
 *   `trust proxy`; Hono: the connection info). `X-Forwarded-For` is never read unless you say
 *   how many proxies to trust;
 * - `'header:<name>'`: the value of a request header (an API key), e.g. `'header:x-api-key'`;
 * - a function of the request.
 */
export type ClientKey<Req> = 'ip' | `header:${string}` | ((req: Req) => string);

/** A {@link ClientKey} once parsed. */
export type ClientKeyRule<Req> =
  | { readonly kind: 'ip' }
  | { readonly kind: 'header'; readonly header: string }
  | { readonly kind: 'custom'; readonly read: (req: Req) => string };

/** Options every inbound middleware takes, beside its pattern's own. */
export interface InboundOptions extends HttpResponseOptions {
  /**
   * Which responses count as failures for the circuit breaker and the adaptive concurrency limit.
   * @default ({ status }) => status >= 500
   * @example isFailureResponse: ({ status }) => status >= 500 && status !== 501
   */
  isFailureResponse?: (response: { status: number }) => boolean;
  /**
   * Receives configuration warnings (each kind once per middleware), e.g. a client key that any
   * client can spoof.
   * @default console.warn
   */
  onWarning?: (message: string) => void;
}

/** Options of the middleware that give a request a deadline (`timeout`, and `resilience` routes with one). */
export interface InboundDeadlineOptions {
  /**
   * Honour the `palisade-deadline-ms` header of an upstream palisade service: the request then ends
   * by the caller's deadline when that comes sooner than the timeout (it can only shorten it).
   * @default true
   */
  deadlineHeader?: boolean;
}

/**
 * What a handler behind palisade's middleware can read about its request (Express:
 * `res.locals.palisade`, and `req.signal`; Hono: `c.get('palisade')`).
 */
export interface PalisadeRequestInfo {
  /**
   * Aborted when the request times out, its deadline passes or the client goes away: pass it to
   * `fetch`, database drivers and streams so abandoned work stops.
   */
  readonly signal: AbortSignal;
  /** Epoch ms by which the response must be sent, when a timeout or an inbound deadline set one. */
  readonly deadline: number | undefined;
}

/** Defaults of {@link InboundOptions}. */
export const INBOUND_DEFAULTS = Object.freeze({
  ...HTTP_RESPONSE_DEFAULTS,
  isFailureResponse: ({ status }: { status: number }): boolean => status >= 500,
  onWarning: (message: string): void => console.warn(message),
});

/** {@link InboundOptions} once validated. */
export interface NormalizedInboundOptions {
  readonly http: NormalizedHttpResponseOptions;
  readonly isFailureResponse: (response: { status: number }) => boolean;
  /** Warns at most once per `kind`. */
  readonly warn: (kind: string, message: string) => void;
}

/** The option names of {@link InboundOptions}: an adapter takes them out before building the pattern. */
export const INBOUND_OPTION_KEYS = Object.freeze([
  'rateLimitHeaders',
  'rateLimitPolicy',
  'problemTypeBase',
  'isFailureResponse',
  'onWarning',
] as const);

/**
 * Splits a middleware's options into the adapter's (`keys`) and the pattern's (the rest), so each
 * is validated by its owner.
 */
export function splitOptions<T extends object>(
  options: T,
  keys: readonly string[],
): { adapter: Record<string, unknown>; pattern: Record<string, unknown> } {
  const adapter: Record<string, unknown> = {};
  const pattern: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (keys.includes(name)) adapter[name] = value;
    else pattern[name] = value;
  }
  return { adapter, pattern };
}

/** The options of an adapter's middleware once validated: the shared ones, and its `onRejected`. */
export type NormalizedMiddlewareOptions<OnRejected> = NormalizedInboundOptions & {
  readonly onRejected: OnRejected | undefined;
};

/**
 * Validates a middleware's options once, at construction: the shared adapter options and
 * `onRejected` (the adapter's handler type), plus `extraKeys` returned raw for the middleware to
 * read; the rest is returned as `pattern`, for the pattern's factory (which validates them and
 * names unknown ones).
 */
export function normalizeMiddlewareOptions<OnRejected extends (...args: never[]) => unknown>(
  check: OptionValidator,
  pkg: string,
  factory: string,
  options: object | undefined,
  extraKeys: readonly string[] = [],
): {
  adapter: NormalizedMiddlewareOptions<OnRejected>;
  raw: Record<string, unknown>;
  pattern: Record<string, unknown>;
} {
  const opts = optionsObject(pkg, factory, options as Record<string, unknown> | undefined);
  const { adapter: raw, pattern } = splitOptions(opts, [...INBOUND_OPTION_KEYS, 'onRejected', ...extraKeys]);
  const inbound = normalizeInboundOptions(check, raw as InboundOptions);
  const onRejected = check.func<OnRejected>('onRejected', raw.onRejected);
  return { adapter: { ...inbound, onRejected }, raw, pattern };
}

/** Validates the shared adapter options once, at construction. */
export function normalizeInboundOptions(check: OptionValidator, options: InboundOptions): NormalizedInboundOptions {
  const { rateLimitHeaders, rateLimitPolicy, problemTypeBase } = options;
  const http = normalizeHttpResponseOptions({ rateLimitHeaders, rateLimitPolicy, problemTypeBase }, check);
  const isFailureResponse = check.func(
    'isFailureResponse',
    options.isFailureResponse,
    INBOUND_DEFAULTS.isFailureResponse,
  );
  const onWarning = check.func('onWarning', options.onWarning, INBOUND_DEFAULTS.onWarning);
  const warned = new Set<string>();
  const warn = (kind: string, message: string): void => {
    if (warned.has(kind)) return;
    warned.add(kind);
    try {
      onWarning(message);
    } catch (error) {
      // A warning must never break a request.
      reportCallbackError('onWarning', onWarning, error);
    }
  };
  return { http, isFailureResponse, warn };
}

/** Request headers any client can set, unless a proxy you trust overwrites them. */
const CLIENT_SET_ADDRESS_HEADERS: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Parses the `key` option once. A header that carries a client address (`X-Forwarded-For`,
 * `X-Real-IP`, …) is flagged through `warn`: any client can send it, so one client could use up
 * another's quota or dodge its own, unless a proxy you trust always overwrites it.
 */
export function parseClientKey<Req>(
  check: OptionValidator,
  option: string,
  value: unknown,
  warn: (kind: string, message: string) => void,
  pkg: string,
): ClientKeyRule<Req> {
  if (value === undefined || value === 'ip') return { kind: 'ip' };
  if (typeof value === 'function') return { kind: 'custom', read: value as (req: Req) => string };
  if (typeof value === 'string' && value.startsWith('header:')) {
    const header = value.slice('header:'.length).trim().toLowerCase();
    if (!HEADER_NAME.test(header)) {
      return check.fail(option, "'ip', 'header:<name>' with a valid header name, or a function", value);
    }
    if (CLIENT_SET_ADDRESS_HEADERS.has(header)) {
      warn(
        'spoofable-key',
        `${pkg}: "${option}" reads the ${header} header, which any client can set: one client can spend another's quota or dodge its own. Use it only behind a proxy that always overwrites it; otherwise use 'ip' (and the framework's trusted-proxy setting).`,
      );
    }
    return { kind: 'header', header };
  }
  return check.fail(option, "'ip', 'header:<name>' or a function", value);
}

/**
 * The client's address behind `hops` proxies you trust, the way Express reads `trust proxy = n`:
 * with no trusted hop the socket's address is the client and `X-Forwarded-For` is ignored; with
 * `n`, the address that the n-th proxy appended is. Returns `undefined` when nothing is known.
 */
export function clientAddress(
  remote: string | undefined,
  forwardedFor: string | null | undefined,
  hops: number,
): string | undefined {
  if (hops <= 0 || !forwardedFor) return remote;
  const entries = forwardedFor.split(',');
  // addresses from the nearest: remote, then X-Forwarded-For right to left
  const index = entries.length - hops;
  const entry = entries[Math.max(0, index)];
  const address = entry?.trim();
  return address ? address : remote;
}

const FAILED_RESPONSE = Symbol.for('palisade.failed-response');

/** What a policy sees when the handler answered with a failure status (see `isFailureResponse`). */
export interface FailedResponseError extends Error {
  readonly name: 'FailedResponseError';
  /** The response's status code. */
  readonly status: number;
}

/**
 * The error an adapter hands to its policies when the handler's response counts as a failure, so
 * the breaker and the adaptive limit count it. It never reaches the client: the response is sent.
 */
export function failedResponse(status: number): FailedResponseError {
  const error = new Error(`The handler answered ${status}`) as Error & { status: number };
  error.name = 'FailedResponseError';
  error.status = status;
  Object.defineProperty(error, FAILED_RESPONSE, { value: true });
  return error as FailedResponseError;
}

/** True for the error made by {@link failedResponse}. */
export function isFailedResponse(error: unknown): error is FailedResponseError {
  return (
    typeof error === 'object' && error !== null && (error as { [FAILED_RESPONSE]?: unknown })[FAILED_RESPONSE] === true
  );
}
