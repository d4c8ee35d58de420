import {
  type Clock,
  type EventListener,
  type Policy,
  type PolicySpec,
  createValidator,
  describe,
  optionsObject,
  resolvePolicyOptions,
} from '@palisade/core';

/**
 * What a route (or the default) runs requests through: a ready-made {@link Policy}, or the
 * declarative {@link PolicySpec} (`{ timeout, retry, circuitBreaker, bulkhead, rateLimit, hedge,
 * attemptTimeout }`) from which `createFetch` builds the policies — one set per host.
 */
export type FetchPolicy = Policy | PolicySpec;

/** Options of {@link createFetch}. */
export interface CreateFetchOptions {
  /**
   * The `fetch` to wrap (undici's, node-fetch, a test double, another wrapper).
   * @default globalThis.fetch, read at each call
   */
  fetch?: typeof fetch;
  /**
   * Applied to requests that match no route. A {@link PolicySpec} gets its own state (breaker,
   * limiter, latency history) per host; a `Policy` is used as given for every host (it is told the
   * host as `key`).
   * @default none: requests that match no route go straight to `fetch`
   * @example policy: { timeout: '10s', retry: { maxAttempts: 3 }, circuitBreaker: true }
   */
  policy?: FetchPolicy;
  /**
   * Policies per route. Keys are `[METHOD ][host][/path]`: `"GET api.example.com/users/:id"`,
   * `"api.example.com"`, `"*.example.com"`, `"POST /orders"`, `"/admin/*"`. The most specific
   * matching route wins (method+host+path > host+path > host > wildcard host > no host > `policy`).
   * A spec route keeps its own state, per concrete host when its key matches several.
   * @default {}
   * @example routes: { 'api.example.com': { retry: true }, 'GET api.example.com/search': { hedge: true } }
   */
  routes?: Readonly<Record<string, FetchPolicy>>;
  /**
   * Statuses that count as failures inside the pipeline (so retry retries them and the breaker
   * counts them). When the pipeline ends on one, the last such `Response` is returned.
   * @default [408, 429, 500, 502, 503, 504]
   */
  retryOnStatus?: readonly number[];
  /**
   * Retry and hedge requests that are not idempotent too. By default only GET, HEAD, OPTIONS, PUT,
   * DELETE and requests with an `Idempotency-Key` header go through a spec's `retry` and `hedge`;
   * others run through the rest of the spec (its breaker, limits and timeouts) once.
   * @default false
   */
  retryNonIdempotent?: boolean;
  /**
   * How many (route, host) states built from specs are kept; the least recently used is dropped
   * past it, so a flood of distinct hosts can never grow memory without bound.
   * @default 1_000
   */
  maxKeys?: number;
  /**
   * Send the time left before the call's deadline (from a `timeout` in the pipeline or the ambient
   * deadline of an inbound request, see `runWithDeadline`) as the `palisade-deadline-ms` header.
   * A value you set yourself is left alone.
   * @default true
   */
  propagateDeadline?: boolean;
  /** Source of time for spec-built policies, `Retry-After` dates and deadlines. @default systemClock */
  clock?: Clock;
  /**
   * Receives every event of the policies built from specs (a `Policy` you pass has its own).
   * @example onEvent: metrics.onEvent
   */
  onEvent?: EventListener;
}

/** Defaults of {@link CreateFetchOptions}. */
export const FETCH_DEFAULTS = Object.freeze({
  retryOnStatus: Object.freeze([408, 429, 500, 502, 503, 504]) as readonly number[],
  retryNonIdempotent: false,
  maxKeys: 1_000,
  propagateDeadline: true,
});

/** Options once validated and resolved. */
export interface NormalizedFetchOptions {
  readonly fetch: typeof fetch | undefined;
  readonly policy: FetchPolicy | undefined;
  readonly routes: Readonly<Record<string, FetchPolicy>>;
  readonly retryOnStatus: readonly number[];
  readonly retryNonIdempotent: boolean;
  readonly maxKeys: number;
  readonly propagateDeadline: boolean;
  readonly clock: Clock;
  readonly onEvent: EventListener | undefined;
}

export const PKG = '@palisade/fetch';
const check = createValidator(PKG);
const KNOWN = [
  'fetch',
  'policy',
  'routes',
  'retryOnStatus',
  'retryNonIdempotent',
  'maxKeys',
  'propagateDeadline',
  'clock',
  'onEvent',
] as const;

/** True for a ready-made Policy (rather than a spec). */
export const isPolicy = (value: unknown): value is Policy =>
  typeof value === 'object' && value !== null && typeof (value as Policy).execute === 'function';

function fetchPolicy(option: string, value: unknown): FetchPolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return check.fail(option, 'a Policy or a policy spec object', value);
  }
  return value as FetchPolicy;
}

function statuses(value: unknown): readonly number[] {
  if (value === undefined) return FETCH_DEFAULTS.retryOnStatus;
  if (!Array.isArray(value)) return check.fail('retryOnStatus', 'an array of HTTP statuses (100–599)', value);
  for (const status of value) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      check.fail('retryOnStatus', `an array of HTTP statuses (100–599), not containing ${describe(status)}`, value);
    }
  }
  return Object.freeze([...new Set(value as number[])]);
}

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeFetchOptions(options?: CreateFetchOptions): NormalizedFetchOptions {
  const opts = optionsObject(PKG, 'createFetch', options);
  check.knownKeys(opts, KNOWN);
  const { clock } = resolvePolicyOptions(PKG, 'fetch', { clock: opts.clock, onEvent: opts.onEvent });
  const routes = opts.routes ?? {};
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) {
    check.fail('routes', 'an object of route keys to policies or specs', routes);
  }
  for (const [key, value] of Object.entries(routes)) fetchPolicy(`routes["${key}"]`, value);
  return {
    fetch: check.func<typeof fetch>('fetch', opts.fetch),
    policy: fetchPolicy('policy', opts.policy),
    routes,
    retryOnStatus: statuses(opts.retryOnStatus),
    retryNonIdempotent: check.boolean('retryNonIdempotent', opts.retryNonIdempotent, FETCH_DEFAULTS.retryNonIdempotent),
    maxKeys: check.integer('maxKeys', opts.maxKeys, FETCH_DEFAULTS.maxKeys, { min: 1 }),
    propagateDeadline: check.boolean('propagateDeadline', opts.propagateDeadline, FETCH_DEFAULTS.propagateDeadline),
    clock,
    onEvent: check.func<EventListener>('onEvent', opts.onEvent),
  };
}
