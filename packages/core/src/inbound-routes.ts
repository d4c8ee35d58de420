import type { Clock } from './clock.js';
import { describe } from './duration.js';
import type { RateLimitInfo } from './errors.js';
import type { EventListener } from './events.js';
import { type ClientKey, type ClientKeyRule, isFailedResponse, parseClientKey } from './http-inbound.js';
import type { Policy } from './policy.js';
import { compileRoutes } from './route.js';
import { type PolicySpec, type SpecFactory, type SpecOptions, fromSpec } from './spec.js';
import type { OptionValidator } from './validate.js';

// The declarative half of `resilience({ routes, default })`, shared by @palisade/express and
// @palisade/hono: route keys compiled once, each route's spec validated and built once.

/** What a rate limit store decides for one request (`@palisade/rate-limit`'s `RateLimitDecision`). */
export interface InboundRateLimitDecision extends RateLimitInfo {
  readonly allowed: boolean;
  readonly retryAfterMs: number;
}

/** A rate limit as the adapters drive it: `consume` gives the decision, allowed or not, for the headers. */
export interface InboundRateLimiter extends Policy {
  /** Units per window. */
  readonly limit: number;
  /** The window, in ms. */
  readonly windowMs: number;
  consume(key: string, cost?: number): InboundRateLimitDecision | Promise<InboundRateLimitDecision>;
}

/**
 * The spec of one inbound route: `fromSpec()`'s form without `retry` and `hedge`, which cannot
 * re-run a handler that has started its response. `rateLimit` also takes `key` (`'ip'` or
 * `'header:<name>'`), `bulkhead` takes `@palisade/bulkhead`'s `concurrencyLimit()` options
 * (`algorithm`, `initial`, `min`, `max`, …) for an adaptive limit.
 * @example { rateLimit: { limit: 10, windowMs: '1m', key: 'header:x-api-key' }, timeout: '2s' }
 */
export type InboundSpec = Omit<PolicySpec, 'retry' | 'hedge'>;

/** The pattern factories an adapter hands to {@link compileInboundRoutes} (and {@link inboundConcurrencyLimit}). */
export interface InboundFactories {
  rateLimit: SpecFactory;
  bulkhead: SpecFactory;
  concurrencyLimit: SpecFactory;
  timeout: SpecFactory;
  circuitBreaker: SpecFactory;
  /** `@palisade/bulkhead`'s `isOverloadError`: the adaptive limit's own notion of a drop. */
  isOverloadError: (info: { error: unknown }) => boolean;
}

/** One route, built. */
export interface InboundRoute<Req> {
  /** The route key as written, or `'default'`. */
  readonly key: string;
  /** The rate limit, applied first through `consume` (for the headers), and how it tells clients apart. */
  readonly rateLimit: { readonly limiter: InboundRateLimiter; readonly clientKey: ClientKeyRule<Req> } | undefined;
  /** Everything else in the spec, composed in `fromSpec()` order; `undefined` when nothing else. */
  readonly policy: Policy | undefined;
  /** The spec has a `timeout` or `attemptTimeout`: answer 504 as soon as it fires. */
  readonly hasTimeout: boolean;
}

/** The options of `resilience()` that describe routes. */
export interface InboundRoutesOptions<Req> {
  /**
   * Specs by route key: `'GET /users/:id'`, `'POST /orders'`, `'/admin/*'` (any method). The most
   * specific key matching a request applies; each route has its own state (limits, breaker).
   */
  routes?: Record<string, InboundSpec>;
  /** The spec for requests no route matches (one shared instance), or none. */
  default?: InboundSpec;
  /**
   * How the routes' rate limits tell clients apart, unless a route's `rateLimit.key` says otherwise.
   * @default 'ip'
   */
  key?: ClientKey<Req>;
  /** Clock handed to every policy. @default systemClock */
  clock?: Clock;
  /** Receives the events of every route's policies (named `<route key>.<pattern>`). */
  onEvent?: EventListener;
}

/** The compiled routes. */
export interface InboundRouteTable<H> {
  /** Some route key names a host: pass the request's `Host` to `match` (otherwise it is not read). */
  readonly usesHost: boolean;
  /** The handler of the most specific route for a request, the default's, or `undefined`. */
  match(method: string, host: string | undefined, path: string): H | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const ADAPTIVE_KEYS = ['algorithm', 'initial', 'min', 'max', 'backoffRatio', 'tolerance', 'probeIntervalMs', 'isDrop'];

/**
 * Whether concurrency options ask for an adaptive limit (`concurrencyLimit()` of
 * `@palisade/bulkhead`) rather than a fixed one (`bulkhead()`): any of `algorithm`, `initial`,
 * `min`, `max`, … and no `maxConcurrent`. Both kinds together are refused by the caller.
 */
export function isAdaptiveConcurrency(options: object): boolean {
  return !('maxConcurrent' in options) && ADAPTIVE_KEYS.some((key) => key in options);
}

/**
 * The adaptive limit's `isDrop` behind an inbound middleware, unless given: an overload error, or a
 * response that counts as a failure (`isFailureResponse`), so a route answering 5xx lowers its limit.
 */
function withInboundDrops(factories: Pick<InboundFactories, 'concurrencyLimit' | 'isOverloadError'>): SpecFactory {
  const { concurrencyLimit, isOverloadError } = factories;
  const isDrop = (info: { error: unknown }): boolean => isOverloadError(info) || isFailedResponse(info.error);
  return (options) => concurrencyLimit(options.isDrop === undefined ? { ...options, isDrop } : options);
}

/**
 * Builds the policy of a `concurrencyLimit` middleware: `@palisade/bulkhead`'s fixed `bulkhead()`
 * for `maxConcurrent`, its adaptive `concurrencyLimit()` for `algorithm`, `initial`, `min`, `max`,
 * … (both together are refused, naming `algorithm`). The options are validated by the pattern.
 */
export function inboundConcurrencyLimit(
  check: OptionValidator,
  options: Record<string, unknown>,
  factories: Pick<InboundFactories, 'bulkhead' | 'concurrencyLimit' | 'isOverloadError'>,
): Policy {
  if (isAdaptiveConcurrency(options)) return withInboundDrops(factories)(options);
  if ('algorithm' in options) check.fail('algorithm', 'absent when "maxConcurrent" is set', options.algorithm);
  return factories.bulkhead(options);
}

/**
 * Compiles `resilience()`'s routes once: route keys through `compileRoutes`, each spec through
 * `fromSpec` (so a bad spec throws a `TypeError` naming the route and the field), `retry` and
 * `hedge` refused, and `build` called once per route to make the adapter's handler.
 */
export function compileInboundRoutes<Req, H>(
  check: OptionValidator,
  pkg: string,
  options: InboundRoutesOptions<Req>,
  factories: InboundFactories,
  warn: (kind: string, message: string) => void,
  build: (route: InboundRoute<Req>) => H,
): InboundRouteTable<H> {
  const routes = options.routes ?? {};
  if (!isObject(routes)) check.fail('routes', 'an object of route keys to specs', routes);
  const defaultKey = parseClientKey<Req>(check, 'key', options.key, warn, pkg);
  const adaptive = withInboundDrops(factories);

  const compileOne = (key: string, spec: unknown): H => {
    const path = key === 'default' ? 'default route' : `route ${describe(key)}`;
    if (!isObject(spec)) {
      throw new TypeError(`${pkg}: ${path}: a spec must be an object (got ${describe(spec)})`);
    }
    for (const refused of ['retry', 'hedge'] as const) {
      if (spec[refused] !== undefined && spec[refused] !== false) {
        throw new TypeError(
          `${pkg}: ${path}: "${refused}" cannot protect an inbound route (a handler that has started its response cannot be run again); use it on outbound calls (createFetch)`,
        );
      }
    }
    const { rateLimit: rateLimitSpec, ...rest } = spec as InboundSpec;
    const common = { path, name: key, clock: options.clock, onEvent: options.onEvent };
    let rateLimit: InboundRoute<Req>['rateLimit'];
    if (rateLimitSpec !== undefined && (rateLimitSpec as unknown) !== false) {
      let clientKey = defaultKey;
      let limiterSpec = rateLimitSpec;
      if (isObject(rateLimitSpec) && rateLimitSpec.key !== undefined) {
        const { key: keyOption, ...others } = rateLimitSpec;
        try {
          clientKey = parseClientKey<Req>(check, 'key', keyOption, warn, pkg);
        } catch (error) {
          throw new TypeError(`${path}: rateLimit: ${(error as Error).message}`, { cause: error });
        }
        limiterSpec = others as SpecOptions;
      }
      const limiter = fromSpec(
        { rateLimit: limiterSpec },
        { factories: { rateLimit: factories.rateLimit }, ...common },
      );
      rateLimit = { limiter: limiter as InboundRateLimiter, clientKey };
    }
    const concurrency = rest.bulkhead;
    const bulkheadFactory: SpecFactory =
      isObject(concurrency) && isAdaptiveConcurrency(concurrency) ? adaptive : factories.bulkhead;
    const present = (value: unknown): boolean => value !== undefined && value !== false;
    const hasRest = Object.values(rest).some(present);
    const policy = hasRest
      ? fromSpec(rest, {
          factories: {
            bulkhead: bulkheadFactory,
            timeout: factories.timeout,
            circuitBreaker: factories.circuitBreaker,
          },
          ...common,
        })
      : undefined;
    const hasTimeout = present(rest.timeout) || present(rest.attemptTimeout);
    return build({ key, rateLimit, policy, hasTimeout });
  };

  const handlers: [string, H][] = Object.entries(routes).map(([key, spec]) => [key, compileOne(key, spec)]);
  const matcher = compileRoutes(handlers);
  const fallback = options.default === undefined ? undefined : compileOne('default', options.default);

  return {
    usesHost: matcher.routes.some((route) => route.route.host !== undefined),
    match(method, host, path) {
      let found = matcher.match(method, host, path);
      if (found === undefined && method === 'HEAD') found = matcher.match('GET', host, path);
      return found === undefined ? fallback : found.value;
    },
  };
}
