import { type RateLimitInfo, type ResilienceError, isResilienceError } from './errors.js';
import { type OptionValidator, createValidator, optionsObject } from './validate.js';

/**
 * Which rate-limit headers to send:
 * - `'draft'`: the IETF `RateLimit-Policy` and `RateLimit` fields in the structured-field form of
 *   draft-ietf-httpapi-ratelimit-headers (-08 onwards), e.g. `RateLimit-Policy: "default";q=100;w=60`
 *   and `RateLimit: "default";r=42;t=17`;
 * - `'legacy'`: the older `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` trio (seconds);
 * - `'both'`: both sets; `'none'`: neither (a 429 still carries `Retry-After`).
 */
export type RateLimitHeaderMode = 'draft' | 'legacy' | 'both' | 'none';

/** Options of the HTTP mapping ({@link toHttpResponse}, {@link rateLimitHeaders}). */
export interface HttpResponseOptions {
  /** Which rate-limit headers to send. @default 'draft' */
  rateLimitHeaders?: RateLimitHeaderMode;
  /**
   * The quota policy's name in the draft headers (printable ASCII).
   * @default 'default'
   */
  rateLimitPolicy?: string;
  /**
   * Base URI of the problem `type`: with it, `type` is `<base><slug>` (slugs: `rate-limited`,
   * `bulkhead-full`, `bulkhead-queue-timeout`, `circuit-open`, `retry-budget-exhausted`,
   * `timeout`, `deadline-exceeded`); without it, `type` is `about:blank` and the `code` member
   * tells the cases apart.
   * @default undefined
   * @example problemTypeBase: 'https://api.example.com/problems/'
   */
  problemTypeBase?: string;
}

/** Defaults of {@link HttpResponseOptions}. */
export const HTTP_RESPONSE_DEFAULTS = Object.freeze({
  rateLimitHeaders: 'draft' as RateLimitHeaderMode,
  rateLimitPolicy: 'default',
  problemTypeBase: undefined as string | undefined,
});

/** Options once validated. */
export interface NormalizedHttpResponseOptions {
  readonly rateLimitHeaders: RateLimitHeaderMode;
  readonly rateLimitPolicy: string;
  readonly problemTypeBase: string | undefined;
}

/** An RFC 9457 problem details object, with palisade's `code` as an extension member. */
export interface ProblemDetails {
  /** URI reference naming the problem type (`about:blank` unless `problemTypeBase` is set). */
  type: string;
  /** Short summary: the HTTP reason phrase of `status`. */
  title: string;
  /** The HTTP status code. */
  status: number;
  /** What happened, for a human. */
  detail: string;
  /** palisade's stable error code, e.g. `PALISADE_RATE_LIMITED`. */
  code: string;
  /** Extension members added by a custom handler. */
  [member: string]: unknown;
}

/** An HTTP response in plain data: what an adapter sends (or hands to `onRejected`). */
export interface HttpErrorResponse {
  /** 429, 503 or 504. */
  status: number;
  /** Header names in lower case: `content-type`, `retry-after`, rate-limit headers. */
  headers: Record<string, string>;
  /** The `application/problem+json` body. */
  body: ProblemDetails;
}

const PKG = '@palisade/core';
const coreCheck = createValidator(PKG);
const KNOWN = ['rateLimitHeaders', 'rateLimitPolicy', 'problemTypeBase'] as const;
const MODES: readonly RateLimitHeaderMode[] = ['draft', 'legacy', 'both', 'none'];
// sf-string: printable ASCII (RFC 9651 §3.3.3); `"` and `\` are escaped when serialized.
const SF_STRING = /^[\x20-\x7e]+$/;

const sfString = (value: string): string => `"${value.replace(/[\\"]/g, '\\$&')}"`;

/** What normalized options keep for the hot path: the serialized policy name, the last policy header. */
interface Compiled {
  readonly name: string;
  limit: number;
  windowMs: number | undefined;
  policy: string;
}
const compiled = new WeakMap<object, Compiled>();

/**
 * Validates the mapping options once (a `TypeError` names the bad option) and applies the defaults.
 * @param check the validator of the package reporting bad options (an adapter passes its own)
 */
export function normalizeHttpResponseOptions(
  options?: HttpResponseOptions | NormalizedHttpResponseOptions,
  check: OptionValidator = coreCheck,
): NormalizedHttpResponseOptions {
  if (options !== undefined && compiled.has(options)) return options as NormalizedHttpResponseOptions;
  const opts = optionsObject<HttpResponseOptions>(PKG, 'toHttpResponse', options as HttpResponseOptions | undefined);
  check.knownKeys(opts, KNOWN);
  const rateLimitHeaders = check.oneOf(
    'rateLimitHeaders',
    opts.rateLimitHeaders,
    MODES,
    HTTP_RESPONSE_DEFAULTS.rateLimitHeaders,
  );
  const rateLimitPolicy = check.string('rateLimitPolicy', opts.rateLimitPolicy, HTTP_RESPONSE_DEFAULTS.rateLimitPolicy);
  if (!SF_STRING.test(rateLimitPolicy)) check.fail('rateLimitPolicy', 'a string of printable ASCII', rateLimitPolicy);
  const problemTypeBase =
    opts.problemTypeBase === undefined ? undefined : check.string('problemTypeBase', opts.problemTypeBase, '');
  const normalized: NormalizedHttpResponseOptions = Object.freeze({
    rateLimitHeaders,
    rateLimitPolicy,
    problemTypeBase,
  });
  compiled.set(normalized, { name: sfString(rateLimitPolicy), limit: Number.NaN, windowMs: undefined, policy: '' });
  return normalized;
}

/**
 * The largest structured-field integer (RFC 9651 §3.3.1: at most 15 digits). Every number palisade
 * writes in a header is clamped to it, so a store reporting `Infinity` or 1e300 can never produce
 * `Retry-After: Infinity` or `w=1e+297`.
 */
const MAX_SF_INTEGER = 999_999_999_999_999;

/** `Retry-After` value for a wait of `ms`: whole seconds, rounded up (0 for none, at most 15 digits). */
export function retryAfterSeconds(ms: number): number {
  return ms > 0 ? Math.min(Math.ceil(ms / 1_000), MAX_SF_INTEGER) : 0;
}

const seconds = retryAfterSeconds;
const whole = (n: number): number => (n > 0 ? Math.min(Math.floor(n), MAX_SF_INTEGER) : 0);

/**
 * The rate-limit headers for a decision, allowed or not (names in lower case). With `'draft'`:
 * `ratelimit-policy: "default";q=<limit>;w=<window s>` (`w` only when `windowMs` is known) and
 * `ratelimit: "default";r=<remaining>;t=<reset s>`; with `'legacy'`: `ratelimit-limit`,
 * `ratelimit-remaining`, `ratelimit-reset` (seconds until the quota is restored, rounded up).
 */
export function rateLimitHeaders(
  info: RateLimitInfo,
  options?: HttpResponseOptions | NormalizedHttpResponseOptions,
): Record<string, string> {
  const opts = normalizeHttpResponseOptions(options);
  const headers: Record<string, string> = {};
  addRateLimitHeaders(headers, info, opts);
  return headers;
}

function addRateLimitHeaders(
  headers: Record<string, string>,
  info: RateLimitInfo,
  opts: NormalizedHttpResponseOptions,
): void {
  const mode = opts.rateLimitHeaders;
  if (mode === 'none') return;
  const limit = whole(info.limit);
  const remaining = whole(info.remaining);
  const reset = seconds(info.resetMs);
  if (mode !== 'legacy') {
    // The policy header only changes with the limit: allowed responses reuse the last one built.
    const c = compiled.get(opts) as Compiled;
    if (c.limit !== limit || c.windowMs !== info.windowMs) {
      c.limit = limit;
      c.windowMs = info.windowMs;
      c.policy =
        info.windowMs === undefined ? `${c.name};q=${limit}` : `${c.name};q=${limit};w=${seconds(info.windowMs)}`;
    }
    headers['ratelimit-policy'] = c.policy;
    headers.ratelimit = `${c.name};r=${remaining};t=${reset}`;
  }
  if (mode !== 'draft') {
    headers['ratelimit-limit'] = String(limit);
    headers['ratelimit-remaining'] = String(remaining);
    headers['ratelimit-reset'] = String(reset);
  }
}

/** Sets one response header on `target` (a Node response, a Hono context, …). */
export type HeaderSetter<T> = (target: T, name: string, value: string) => void;

/** Writes the rate-limit headers of a decision (see {@link rateLimitHeaderWriter}). */
export type RateLimitHeaderWriter = <T>(target: T, set: HeaderSetter<T>, info: Omit<RateLimitInfo, 'windowMs'>) => void;

/**
 * For adapters: what {@link rateLimitHeaders} gives, written straight onto a response through `set`,
 * for a limiter whose window is `windowMs` — no header object per request, and the policy header
 * (which changes only with the limit) built once. `undefined` when the mode is `'none'`.
 */
export function rateLimitHeaderWriter(
  options: HttpResponseOptions | NormalizedHttpResponseOptions | undefined,
  windowMs: number | undefined,
): RateLimitHeaderWriter | undefined {
  const opts = normalizeHttpResponseOptions(options);
  const mode = opts.rateLimitHeaders;
  if (mode === 'none') return undefined;
  const name = sfString(opts.rateLimitPolicy);
  const window = windowMs === undefined ? '' : `;w=${seconds(windowMs)}`;
  const draft = mode !== 'legacy';
  const legacy = mode !== 'draft';
  let limit = Number.NaN;
  let policy = '';
  let limitText = '';
  return (target, set, info) => {
    const q = whole(info.limit);
    if (q !== limit) {
      limit = q;
      policy = `${name};q=${q}${window}`;
      limitText = String(q);
    }
    if (draft) {
      set(target, 'ratelimit-policy', policy);
      set(target, 'ratelimit', `${name};r=${whole(info.remaining)};t=${seconds(info.resetMs)}`);
    }
    if (legacy) {
      set(target, 'ratelimit-limit', limitText);
      set(target, 'ratelimit-remaining', String(whole(info.remaining)));
      set(target, 'ratelimit-reset', String(seconds(info.resetMs)));
    }
  };
}

interface Mapping {
  status: number;
  title: string;
  slug: string;
  detail: string;
}

const TITLES: Readonly<Record<number, string>> = {
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function mappingOf(error: ResilienceError): Mapping | undefined {
  const e = error as ResilienceError & Record<string, unknown>;
  switch (error.code) {
    case 'PALISADE_BULKHEAD_REJECTED':
      return e.reason === 'queue-timeout'
        ? {
            status: 503,
            title: TITLES[503] as string,
            slug: 'bulkhead-queue-timeout',
            detail: 'The request waited too long for capacity.',
          }
        : {
            status: 503,
            title: TITLES[503] as string,
            slug: 'bulkhead-full',
            detail: 'The server is at capacity.',
          };
    case 'PALISADE_BROKEN_CIRCUIT':
      return {
        status: 503,
        title: TITLES[503] as string,
        slug: 'circuit-open',
        detail: 'The service is temporarily unavailable.',
      };
    case 'PALISADE_RETRY_BUDGET_EXHAUSTED':
      return {
        status: 503,
        title: TITLES[503] as string,
        slug: 'retry-budget-exhausted',
        detail: 'A dependency is failing.',
      };
    case 'PALISADE_TIMEOUT':
      return {
        status: 504,
        title: TITLES[504] as string,
        slug: 'timeout',
        detail:
          typeof e.timeoutMs === 'number'
            ? `The request did not complete within ${e.timeoutMs} ms.`
            : 'The request timed out.',
      };
    case 'PALISADE_DEADLINE_EXCEEDED':
      return {
        status: 504,
        title: TITLES[504] as string,
        slug: 'deadline-exceeded',
        detail: "The request's deadline passed before it could complete.",
      };
    default:
      return undefined;
  }
}

/**
 * Maps a palisade rejection to HTTP, as plain data (both adapters and your own handlers use it):
 * - `RateLimitedError` → 429, `Retry-After` (seconds, rounded up) and the rate-limit headers;
 * - `BulkheadRejectedError`, `BrokenCircuitError`, `RetryBudgetExhaustedError` → 503, with
 *   `Retry-After` when the error says when to come back;
 * - `TimeoutError`, `DeadlineExceededError` → 504.
 *
 * The body is RFC 9457 `application/problem+json` with palisade's `code` as an extension member.
 * Returns `undefined` for anything else (your own errors are not palisade's to answer).
 *
 * @example
 * const response = toHttpResponse(error);
 * if (response) res.status(response.status).set(response.headers).json(response.body);
 */
export function toHttpResponse(
  error: unknown,
  options?: HttpResponseOptions | NormalizedHttpResponseOptions,
): HttpErrorResponse | undefined {
  if (!isResilienceError(error)) return undefined;
  if (error.code === 'PALISADE_RATE_LIMITED') {
    const e = error as ResilienceError & RateLimitInfo & { retryAfterMs: number };
    const info = { limit: e.limit, remaining: e.remaining, resetMs: e.resetMs, windowMs: e.windowMs };
    return rateLimitedResponse({ ...info, retryAfterMs: e.retryAfterMs }, options);
  }
  const mapping = mappingOf(error);
  if (mapping === undefined) return undefined;
  const opts = normalizeHttpResponseOptions(options);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  const retryAfterMs = error.retryAfterMs;
  if (retryAfterMs !== undefined && retryAfterMs >= 0 && Number.isFinite(retryAfterMs)) {
    headers['retry-after'] = String(retryAfterSeconds(retryAfterMs));
  }
  return {
    status: mapping.status,
    headers,
    body: {
      type: opts.problemTypeBase === undefined ? 'about:blank' : `${opts.problemTypeBase}${mapping.slug}`,
      title: mapping.title,
      status: mapping.status,
      detail: mapping.detail,
      code: error.code,
    },
  };
}

/**
 * The 429 response for a refused rate-limit decision, without building a `RateLimitedError`: what
 * {@link toHttpResponse} returns for one, for adapters that hold the store's decision.
 */
export function rateLimitedResponse(
  info: RateLimitInfo & { retryAfterMs: number },
  options?: HttpResponseOptions | NormalizedHttpResponseOptions,
): HttpErrorResponse {
  const opts = normalizeHttpResponseOptions(options);
  const seconds = retryAfterSeconds(info.retryAfterMs);
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'retry-after': String(seconds),
  };
  addRateLimitHeaders(headers, info, opts);
  return {
    status: 429,
    headers,
    body: {
      type: opts.problemTypeBase === undefined ? 'about:blank' : `${opts.problemTypeBase}rate-limited`,
      title: TITLES[429] as string,
      status: 429,
      detail: `Rate limit exceeded: retry after ${seconds} s.`,
      code: 'PALISADE_RATE_LIMITED',
    },
  };
}

/** A response ready to write: the body serialized once. Shared and frozen: copy it to change it. */
export interface SerializedHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The problem+json body, serialized. */
  readonly body: string;
}

const encoder = new TextEncoder();

/** Serializes `response` once: the body as JSON, with its `content-length`. */
export function serializeHttpResponse(response: HttpErrorResponse): SerializedHttpResponse {
  const body = JSON.stringify(response.body);
  const headers = { ...response.headers, 'content-length': String(encoder.encode(body).length) };
  return Object.freeze({ status: response.status, headers: Object.freeze(headers), body });
}

/**
 * For adapters: maps refused decisions to the serialized 429 of {@link rateLimitedResponse}, and
 * hands back the same frozen object while the numbers it shows (whole seconds, units) repeat, as
 * they do under a flood — so refusing costs a few comparisons, not a new body and header set.
 */
export function rateLimitedResponder(
  options?: HttpResponseOptions | NormalizedHttpResponseOptions,
): (info: RateLimitInfo & { retryAfterMs: number }) => SerializedHttpResponse {
  const opts = normalizeHttpResponseOptions(options);
  let last: SerializedHttpResponse | undefined;
  let retry = -1;
  let reset = -1;
  let remaining = -1;
  let limit = -1;
  let windowMs: number | undefined;
  return (info) => {
    const r = retryAfterSeconds(info.retryAfterMs);
    const t = seconds(info.resetMs);
    const left = whole(info.remaining);
    const q = whole(info.limit);
    if (
      last === undefined ||
      r !== retry ||
      t !== reset ||
      left !== remaining ||
      q !== limit ||
      info.windowMs !== windowMs
    ) {
      last = serializeHttpResponse(rateLimitedResponse(info, opts));
      retry = r;
      reset = t;
      remaining = left;
      limit = q;
      windowMs = info.windowMs;
    }
    return last;
  };
}
