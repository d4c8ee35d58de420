import { type Clock, systemClock } from './clock.js';

/**
 * The HTTP header that carries a call's deadline from one palisade service to the next:
 * `palisade-deadline-ms: 1500` means "I will stop waiting 1,500 ms after sending this". The value
 * is the time *remaining* in whole milliseconds, not an instant, so clock skew between hosts does
 * not matter (only the network transit is lost, which errs on the safe side). `@palisade/fetch`
 * sends it; the Express and Hono middleware read it.
 */
export const DEADLINE_HEADER = 'palisade-deadline-ms';

/**
 * The largest remaining time the header carries, in ms (a little over 27 hours): eight digits.
 * Longer deadlines are sent as this; a value with more digits is not a deadline.
 */
export const MAX_DEADLINE_HEADER_MS = 99_999_999;

const VALUE = /^[0-9]{1,8}$/;

/**
 * The header value for `deadline` (epoch ms) at `now`: the whole milliseconds left (rounded down,
 * so the receiver never believes it has more time than it does), 0 when already past, at most
 * {@link MAX_DEADLINE_HEADER_MS}.
 * @example formatDeadlineHeader(clock.now() + 1500.7, clock.now()) // '1500'
 */
export function formatDeadlineHeader(deadline: number, now: number): string {
  const left = Math.floor(deadline - now);
  if (!(left > 0)) return '0';
  return String(Math.min(left, MAX_DEADLINE_HEADER_MS));
}

/**
 * Reads a {@link DEADLINE_HEADER} value into a deadline (epoch ms, counted from `now`, the time the
 * request arrived). Anything but one to eight ASCII digits (surrounding spaces allowed) — a list,
 * a sign, a fraction, an over-long value, a non-string — yields `undefined`: hostile input can
 * never produce a deadline in the past of 1970 or beyond 27 hours, nor cost more than a bounded check.
 * @example parseDeadlineHeader(req.headers['palisade-deadline-ms'], clock.now())
 */
export function parseDeadlineHeader(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.length > 32) return undefined;
  const text = value.trim();
  if (!VALUE.test(text)) return undefined;
  return now + Number(text);
}

/**
 * For inbound adapters: reads a request's deadline from its {@link DEADLINE_HEADER}, counted from
 * the time the request is read, or `undefined` when it carries none (or a malformed one).
 * @param header reads a request header by its lower-case name
 */
export function deadlineHeaderReader<Req>(
  clock: Clock | undefined,
  header: (req: Req, name: string) => unknown,
): (req: Req) => number | undefined {
  const source = clock ?? systemClock;
  return (req) => {
    const value = header(req, DEADLINE_HEADER);
    return value === undefined ? undefined : parseDeadlineHeader(value, source.now());
  };
}
