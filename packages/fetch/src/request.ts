import { hasHeader } from './idempotency.js';

/**
 * How the request body behaves when the request is sent again (retry, hedge):
 * - `'reusable'`: none, or one `fetch` re-reads on each call (string, Blob, ArrayBuffer, typed
 *   array, FormData, URLSearchParams);
 * - `'one-shot'`: a `ReadableStream` or async iterable given as `init.body`, readable once;
 * - `'request'`: the body of a `Request` input (always a stream), read into memory once before
 *   the first attempt when the request may be sent more than once.
 */
export type BodyKind = 'reusable' | 'one-shot' | 'request';

/** A `fetch` call's arguments, normalized once per call. */
export interface PreparedRequest {
  readonly input: RequestInfo | URL;
  readonly init: RequestInit | undefined;
  /** `input` when it is a Request. */
  readonly request: Request | undefined;
  readonly url: URL;
  /** Upper-case method. */
  readonly method: string;
  /** The headers that will be sent: `init.headers`, else the Request's. */
  readonly headers: HeadersInit | undefined;
  /** The caller's signal: `init.signal`, else the Request's. */
  readonly signal: AbortSignal | undefined;
  readonly body: BodyKind;
  /** The Request's body, read once (see {@link BodyKind}). */
  buffered: ArrayBuffer | undefined;
  /** Whether the caller set the deadline header themselves (looked up on first need). */
  ownDeadlineHeader: boolean | undefined;
}

const isOneShot = (body: unknown): boolean =>
  typeof body === 'object' &&
  body !== null &&
  (typeof (body as ReadableStream).getReader === 'function' ||
    typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');

const baseUrl = (): string | undefined => (globalThis as { location?: { href?: string } }).location?.href;

/**
 * Normalizes `fetch(input, init)`'s arguments, or returns `undefined` when the URL cannot be parsed
 * (then `fetch` itself is left to reject, with its own error).
 */
export function prepareRequest(input: RequestInfo | URL, init: RequestInit | undefined): PreparedRequest | undefined {
  let request: Request | undefined;
  let url: URL;
  try {
    if (typeof input === 'string') url = new URL(input, baseUrl());
    else if (input instanceof URL) url = input;
    else if (typeof input === 'object' && input !== null && typeof (input as Request).url === 'string') {
      request = input as Request;
      url = new URL(request.url);
    } else url = new URL(String(input), baseUrl());
  } catch {
    return undefined;
  }
  const method = init?.method ?? request?.method ?? 'GET';
  let body: BodyKind = 'reusable';
  if (init !== undefined && init.body !== undefined && init.body !== null) {
    if (isOneShot(init.body)) body = 'one-shot';
  } else if (request !== undefined && request.body !== null && (init === undefined || init.body === undefined)) {
    body = 'request';
  }
  return {
    input,
    init,
    request,
    url,
    method: method === 'GET' ? method : method.toUpperCase(),
    headers: init?.headers ?? request?.headers,
    signal: init?.signal ?? request?.signal ?? undefined,
    body,
    buffered: undefined,
    ownDeadlineHeader: undefined,
  };
}

function withHeader(headers: HeadersInit | undefined, name: string, value: string): HeadersInit {
  if (headers === undefined) return { [name]: value };
  if (typeof (headers as Headers).set === 'function') {
    const copy = new Headers(headers);
    copy.set(name, value);
    return copy;
  }
  if (Array.isArray(headers)) return [...headers, [name, value]];
  return { ...(headers as Record<string, string>), [name]: value };
}

/**
 * The `init` of one attempt: the caller's, with the attempt's signal, the buffered body and the
 * deadline header (when given and the caller did not set it).
 */
export function attemptInit(
  req: PreparedRequest,
  signal: AbortSignal,
  deadlineHeader: string | undefined,
  deadlineValue: string | undefined,
): RequestInit {
  const init: RequestInit = req.init === undefined ? { signal } : { ...req.init, signal };
  if (req.buffered !== undefined) init.body = req.buffered;
  if (deadlineValue !== undefined && deadlineHeader !== undefined) {
    req.ownDeadlineHeader ??= hasHeader(req.headers, deadlineHeader);
    if (!req.ownDeadlineHeader) init.headers = withHeader(req.headers, deadlineHeader, deadlineValue);
  }
  return init;
}
