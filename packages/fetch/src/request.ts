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
  /** The URL's host, as `URL#host` has it (lower-case, default port dropped). */
  readonly host: string;
  /** The URL's path, as `URL#pathname` has it. */
  readonly path: string;
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

/** `http(s)://host[:port][/path][?…|#…]` with nothing URL parsing would rewrite (checked further below). */
const PLAIN_URL = /^https?:\/\/([a-z0-9.-]+)(?::([1-9][0-9]{0,4}))?(\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)?(?:[?#]|$)/;
const NUMERIC_LABEL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/;
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const ODD_NAME = /^\.|\.$|\.\.|xn--/;
const DOT_SEGMENT = /\/\.|%2e/i;

/**
 * `host` and `pathname` of the plain URLs most calls use (`http(s)://host[:port]/path?query`),
 * exactly as `new URL()` gives them, in a fraction of its time; `undefined` for anything URL
 * parsing would normalize (upper case, dot segments, IPv4 shorthands, IDNA, user info, IPv6,
 * unusual characters), which then goes through `new URL()`.
 */
export function splitUrl(text: string): { host: string; path: string } | undefined {
  const match = PLAIN_URL.exec(text);
  if (match === null) return undefined;
  const name = match[1] as string;
  const port = match[2];
  const path = match[3] ?? '/';
  if (ODD_NAME.test(name) || (NUMERIC_LABEL.test(name) && !IPV4.test(name))) return undefined;
  if (path.length > 1 && DOT_SEGMENT.test(path)) return undefined;
  if (port === undefined) return { host: name, path };
  if (port.length === 5 && Number(port) > 65_535) return undefined;
  const defaultPort = text.charCodeAt(4) === 115 /* https */ ? '443' : '80';
  return { host: port === defaultPort ? name : `${name}:${port}`, path };
}

/**
 * The last URL split, and how: a client calling one endpoint over and over (a poll, a queue, the
 * same upstream path) pays for the regular expressions once. Pure, so sharing it is safe.
 */
let lastUrl: string | undefined;
let lastSplit: { host: string; path: string } | undefined;

function splitUrlOnce(text: string): { host: string; path: string } | undefined {
  if (text !== lastUrl) {
    lastSplit = splitUrl(text);
    lastUrl = text;
  }
  return lastSplit;
}

/**
 * Normalizes `fetch(input, init)`'s arguments, or returns `undefined` when the URL cannot be parsed
 * (then `fetch` itself is left to reject, with its own error).
 */
export function prepareRequest(input: RequestInfo | URL, init: RequestInit | undefined): PreparedRequest | undefined {
  let request: Request | undefined;
  let host: string;
  let path: string;
  const quick = typeof input === 'string' ? splitUrlOnce(input) : undefined;
  if (quick !== undefined) {
    host = quick.host;
    path = quick.path;
  } else {
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
    host = url.host;
    path = url.pathname;
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
    host,
    path,
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
 * The `init` of one attempt: the caller's, with the attempt's signal or undici dispatcher, the
 * buffered body and an extra header (the deadline) — or the caller's own `init` when there is
 * nothing to change.
 */
export function attemptInit(
  req: PreparedRequest,
  signal: AbortSignal | undefined,
  header: readonly [string, string] | undefined,
  dispatcher?: object,
): RequestInit | undefined {
  if (signal === req.signal && header === undefined && req.buffered === undefined && dispatcher === undefined) {
    return req.init;
  }
  const init: RequestInit & { dispatcher?: object } = req.init === undefined ? {} : { ...req.init };
  if (signal !== undefined) init.signal = signal;
  if (dispatcher !== undefined) init.dispatcher = dispatcher;
  if (req.buffered !== undefined) init.body = req.buffered;
  if (header !== undefined) init.headers = withHeader(req.headers, header[0], header[1]);
  return init;
}
