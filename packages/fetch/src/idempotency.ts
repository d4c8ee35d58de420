/** Methods RFC 9110 defines as idempotent, that palisade retries and hedges by default. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

const KEY = 'idempotency-key';

/** Whether `headers` (any `HeadersInit`) carry a header `name` (lower-case). */
export function hasHeader(headers: HeadersInit | undefined, name: string): boolean {
  if (headers === undefined || headers === null) return false;
  if (typeof (headers as Headers).has === 'function') return (headers as Headers).has(name);
  if (Array.isArray(headers)) {
    for (const pair of headers) if (String(pair[0]).toLowerCase() === name) return true;
    return false;
  }
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return true;
  return false;
}

/**
 * Whether a request may safely be sent more than once: an idempotent method (GET, HEAD, OPTIONS,
 * PUT, DELETE) or any request carrying an `Idempotency-Key` header.
 * @param method upper-case method
 */
export function isIdempotent(method: string, headers: HeadersInit | undefined): boolean {
  return IDEMPOTENT_METHODS.has(method) || hasHeader(headers, KEY);
}
