import type { Clock } from './clock.js';
import { describe } from './duration.js';
import type { EventListener } from './events.js';
import { pipeline } from './pipeline.js';
import type { Policy } from './policy.js';

/** A JSON-able value, as found in configuration files. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Options of one pattern in a spec: plain data, each read by the pattern's own factory. */
export type SpecOptions = { [option: string]: JsonValue | undefined };

/**
 * The declarative form of a pipeline: plain, JSON-able data, one entry per pattern. `true` means
 * "with its defaults"; `timeout` and `attemptTimeout` also take a duration (`"2s"`).
 *
 * Policies are composed in this order, outermost first, whatever the order of the keys:
 * `rateLimit → bulkhead → timeout → retry → hedge → circuitBreaker → attemptTimeout`
 * (refuse early; time the whole call; retry around the breaker so it sees every attempt; bound each
 * attempt innermost so the breaker counts attempt timeouts as failures).
 * @example { timeout: '5s', retry: { maxAttempts: 3 }, circuitBreaker: { failureRateThreshold: 0.5 } }
 */
export interface PolicySpec {
  /** Rate limit applied before anything else (`@palisade/rate-limit` options). */
  rateLimit?: SpecOptions | true;
  /** Concurrency cap (`@palisade/bulkhead` options). */
  bulkhead?: SpecOptions | true;
  /** Timeout of the whole call, retries included (`@palisade/timeout` options or a duration). */
  timeout?: SpecOptions | number | string;
  /** Retries (`@palisade/retry` options; `backoff` in its plain-data form). */
  retry?: SpecOptions | true;
  /** Hedged attempts (`@palisade/hedge` options). */
  hedge?: SpecOptions | true;
  /** Circuit breaker seeing each attempt (`@palisade/circuit-breaker` options). */
  circuitBreaker?: SpecOptions | true;
  /** Timeout of each attempt, inside retry and the breaker (`@palisade/timeout` options or a duration). */
  attemptTimeout?: SpecOptions | number | string;
}

/** The spec keys in pipeline order, outermost first. */
export const SPEC_ORDER = Object.freeze([
  'rateLimit',
  'bulkhead',
  'timeout',
  'retry',
  'hedge',
  'circuitBreaker',
  'attemptTimeout',
] as const);

/** One key of {@link PolicySpec}. */
export type SpecKey = (typeof SPEC_ORDER)[number];

/** What {@link fromSpec} hands a factory: the spec's plain data plus `name`, `clock` and `onEvent`. */
export type SpecFactoryInput = { [option: string]: unknown; name?: string; clock?: Clock; onEvent?: EventListener };

/**
 * A factory that builds a pattern from its plain-data options, such as `retry` or `timeout`.
 * (Declared as a method so that factories with precise option types are accepted.)
 */
export type SpecFactory = { build(options: SpecFactoryInput): Policy }['build'];

/** Which factory builds each spec key. `attemptTimeout` uses the `timeout` factory. */
export type SpecFactories = Partial<Record<Exclude<SpecKey, 'attemptTimeout'>, SpecFactory>>;

/** Options of {@link fromSpec}. */
export interface FromSpecOptions {
  /** The pattern factories, e.g. `{ retry, timeout }` imported from the pattern packages. */
  factories: SpecFactories;
  /** Prefix of every error message and of the policies' names, e.g. `route "GET /users/:id"`. */
  path?: string;
  /** Name prefix of the built policies. @default the spec key */
  name?: string;
  /** Clock handed to every policy. @default systemClock */
  clock?: Clock;
  /** Event listener handed to every policy. */
  onEvent?: EventListener;
}

const isPlainObject = (value: unknown): value is SpecOptions =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Builds a Policy from a {@link PolicySpec}, validating everything now: an unknown key, a pattern
 * with no factory or a bad option throws a `TypeError` naming the path and the field.
 */
export function fromSpec(spec: PolicySpec, options: FromSpecOptions): Policy {
  const where = options.path ? `${options.path}: ` : '';
  if (!isPlainObject(spec)) {
    throw new TypeError(`@palisade/core: ${where}a policy spec must be an object (got ${describe(spec)})`);
  }
  for (const key of Object.keys(spec)) {
    if (!(SPEC_ORDER as readonly string[]).includes(key)) {
      throw new TypeError(`@palisade/core: ${where}unknown policy "${key}" in spec (known: ${SPEC_ORDER.join(', ')})`);
    }
  }
  const policies: Policy[] = [];
  for (const key of SPEC_ORDER) {
    const value = spec[key];
    if (value === undefined || value === false) continue;
    const factoryKey = key === 'attemptTimeout' ? 'timeout' : key;
    const factory = options.factories[factoryKey];
    if (typeof factory !== 'function') {
      throw new TypeError(`@palisade/core: ${where}"${key}" needs the ${factoryKey}() factory, which was not given`);
    }
    let patternOptions: SpecFactoryInput;
    if (value === true) patternOptions = {};
    else if (
      (key === 'timeout' || key === 'attemptTimeout') &&
      (typeof value === 'number' || typeof value === 'string')
    ) {
      patternOptions = { ms: value };
    } else if (isPlainObject(value)) patternOptions = { ...value };
    else {
      throw new TypeError(`@palisade/core: ${where}"${key}" must be an options object (got ${describe(value)})`);
    }
    const name =
      typeof patternOptions.name === 'string' ? patternOptions.name : options.name ? `${options.name}.${key}` : key;
    try {
      policies.push(
        factory({
          ...patternOptions,
          name,
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof TypeError) throw new TypeError(`${where}${key}: ${error.message}`, { cause: error });
      throw error;
    }
  }
  return policies.length === 1 ? (policies[0] as Policy) : pipeline(...policies);
}
