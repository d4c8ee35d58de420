// The one file of @palisade/fetch allowed to use `Date` (see biome.json): HTTP dates are calendar
// dates, and turning one into epoch ms is what Date.UTC is for. Everything else uses the Clock.

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** `Sun, 06 Nov 1994 08:49:37 GMT` — the preferred format (RFC 9110 §5.6.7). */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
/** `Sunday, 06-Nov-94 08:49:37 GMT` — obsolete RFC 850 format. */
const RFC_850 =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
/** `Sun Nov  6 08:49:37 1994` — obsolete ANSI C asctime() format. */
const ASCTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function toEpoch(year: number, monthName: string, day: number, h: number, m: number, s: number): number | undefined {
  const month = MONTHS[monthName];
  if (month === undefined || h > 23 || m > 59 || s > 60) return undefined;
  const midnight = new Date(0).setUTCFullYear(year, month, day); // Date.UTC reads years 0–99 as 1900–1999
  // Reject a day the month does not have (31 Feb) rather than letting Date roll it over.
  if (new Date(midnight).getUTCDate() !== day) return undefined;
  return midnight + ((h * 60 + m) * 60 + s) * 1_000;
}

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7) in any of its three formats into epoch ms, or `undefined`
 * when the text is not one. Recipients must accept all three; senders only send the first.
 * @param now epoch ms, used only to place an RFC 850 two-digit year (never more than 50 years ahead)
 */
export function parseHttpDate(value: string, now: number): number | undefined {
  if (value.length > 40) return undefined;
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    const [, d, mon, y, h, m, s] = match as unknown as string[];
    return toEpoch(Number(y), mon as string, Number(d), Number(h), Number(m), Number(s));
  }
  match = RFC_850.exec(value);
  if (match) {
    const [, d, mon, yy, h, m, s] = match as unknown as string[];
    const thisYear = new Date(now).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(yy);
    if (year > thisYear + 50) year -= 100;
    else if (year <= thisYear - 50) year += 100; // RFC 9110: up to 50 years ahead, else the latest past
    return toEpoch(year, mon as string, Number(d), Number(h), Number(m), Number(s));
  }
  match = ASCTIME.exec(value);
  if (match) {
    const [, mon, d, h, m, s, y] = match as unknown as string[];
    return toEpoch(Number(y), mon as string, Number((d as string).trim()), Number(h), Number(m), Number(s));
  }
  return undefined;
}
