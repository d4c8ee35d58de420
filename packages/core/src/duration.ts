/**
 * A length of time: a number of milliseconds, or a string with a unit
 * (`"250ms"`, `"2s"`, `"1.5m"`, `"1h"`).
 */
export type Duration = number | `${number}ms` | `${number}s` | `${number}m` | `${number}h`;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)\s*$/;

/**
 * Parses a {@link Duration} into milliseconds. Returns `undefined` when the value is not a
 * finite, non-negative duration (callers turn that into a `TypeError` naming the option).
 */
export function toMilliseconds(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const match = PATTERN.exec(value);
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Parses a {@link Duration} into milliseconds, throwing a `TypeError` that names `option`.
 * @example parseDuration('2s') // 2000
 */
export function parseDuration(value: Duration, option = 'duration'): number {
  const ms = toMilliseconds(value);
  if (ms === undefined) {
    throw new TypeError(
      `@palisade/core: "${option}" must be a duration: a number of ms ≥ 0 or a string such as "250ms", "2s", "1m" (got ${describe(value)})`,
    );
  }
  return ms;
}

/** A short, safe rendering of any value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return 'a symbol';
  return String(value);
}
