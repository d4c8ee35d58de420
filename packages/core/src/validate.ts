import { type Duration, describe, toMilliseconds } from './duration.js';

/** Bounds for numeric checks. */
export interface NumberBounds {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
}

/**
 * The one way every palisade package says "bad option": small checkers bound to a package name
 * that return the normalized value or throw a `TypeError` in one format:
 * `@palisade/retry: "maxAttempts" must be an integer ≥ 1 (got 0)`.
 *
 * `undefined` means "not set" and yields the fallback.
 */
export interface OptionValidator {
  /** Throws the `TypeError` for `option`, saying what it `must` be. */
  fail(option: string, must: string, value: unknown): never;
  integer(option: string, value: unknown, fallback: number, bounds?: NumberBounds): number;
  number(option: string, value: unknown, fallback: number, bounds?: NumberBounds): number;
  /** A fraction in [0, 1]. */
  fraction(option: string, value: unknown, fallback: number): number;
  /** A percentage in [0, 100]. */
  percent(option: string, value: unknown, fallback: number): number;
  /** A {@link Duration}, normalized to milliseconds. */
  duration(option: string, value: unknown, fallback: number, bounds?: NumberBounds): number;
  oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], fallback: T): T;
  /** A function, or `undefined` when not set and no fallback is given. */
  func<F extends (...args: never[]) => unknown>(option: string, value: unknown, fallback: F): F;
  func<F extends (...args: never[]) => unknown>(option: string, value: unknown): F | undefined;
  /** A non-empty string. */
  string(option: string, value: unknown, fallback: string): string;
  boolean(option: string, value: unknown, fallback: boolean): boolean;
  /** Throws when `options` holds a key not in `known` (catches typos in declarative specs). */
  knownKeys(options: object | undefined, known: readonly string[], path?: string): void;
}

const bounded = (bounds: NumberBounds | undefined): string => {
  if (!bounds) return '';
  const { min, max } = bounds;
  if (min !== undefined && max !== undefined) return ` between ${min} and ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
};

const inBounds = (n: number, bounds: NumberBounds | undefined): boolean =>
  !bounds || ((bounds.min === undefined || n >= bounds.min) && (bounds.max === undefined || n <= bounds.max));

/** Creates the {@link OptionValidator} for one package, e.g. `createValidator('@palisade/retry')`. */
export function createValidator(pkg: string): OptionValidator {
  const fail = (option: string, must: string, value: unknown): never => {
    throw new TypeError(`${pkg}: "${option}" must be ${must} (got ${describe(value)})`);
  };
  const validator: OptionValidator = {
    fail,
    integer(option, value, fallback, bounds) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || !inBounds(value, bounds)) {
        return fail(option, `an integer${bounded(bounds)}`, value);
      }
      return value;
    },
    number(option, value, fallback, bounds) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value) || !inBounds(value, bounds)) {
        return fail(option, `a finite number${bounded(bounds)}`, value);
      }
      return value;
    },
    fraction(option, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        return fail(option, 'a fraction between 0 and 1', value);
      }
      return value;
    },
    percent(option, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !(value >= 0 && value <= 100)) {
        return fail(option, 'a percentage between 0 and 100', value);
      }
      return value;
    },
    duration(option, value, fallback, bounds) {
      if (value === undefined) return fallback;
      const ms = toMilliseconds(value as Duration);
      if (ms === undefined || !inBounds(ms, bounds)) {
        return fail(
          option,
          `a duration${bounded(bounds)} ms (a number of ms or a string such as "250ms", "2s", "1m")`,
          value,
        );
      }
      return ms;
    },
    oneOf(option, value, allowed, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
        return fail(option, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
      }
      return value as (typeof allowed)[number];
    },
    func(option: string, value: unknown, fallback?: unknown) {
      if (value === undefined) return fallback;
      if (typeof value !== 'function') return fail(option, 'a function', value);
      return value;
    },
    string(option, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'string' || value.length === 0) return fail(option, 'a non-empty string', value);
      return value;
    },
    boolean(option, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'boolean') return fail(option, 'true or false', value);
      return value;
    },
    knownKeys(options, known, path) {
      if (options === undefined) return;
      for (const key of Object.keys(options)) {
        if (!known.includes(key)) {
          const name = path ? `${path}.${key}` : key;
          throw new TypeError(`${pkg}: unknown option "${name}" (known: ${known.join(', ')})`);
        }
      }
    },
  } as OptionValidator;
  return validator;
}

/** Checks that `options` is an object (or undefined), naming the factory otherwise. */
export function optionsObject<T extends object>(pkg: string, factory: string, options: T | undefined): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${pkg}: ${factory}() takes an options object (got ${describe(options)})`);
  }
  return options;
}
