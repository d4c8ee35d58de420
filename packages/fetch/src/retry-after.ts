import { parseHttpDate } from './http-date.js';

const DELAY_SECONDS = /^[0-9]{1,10}$/;

/**
 * The wait a `Retry-After` header asks for, in ms: `delay-seconds` (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`, counted from `now`; a date in the past means 0). Anything else
 * — absent, negative, fractional, a list, over-long — yields `undefined` (no floor for the retry).
 * @example parseRetryAfter(response.headers.get('retry-after'), clock.now())
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (DELAY_SECONDS.test(text)) return Number(text) * 1_000;
  const date = parseHttpDate(text, now);
  if (date === undefined) return undefined;
  return date > now ? date - now : 0;
}
