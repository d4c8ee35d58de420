/**
 * The request side of node:http (and Express, which extends it) that the handlers read. Declared
 * structurally so the package needs no Node types at runtime and stays usable on other runtimes.
 */
export interface NodeRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  on(event: 'close', listener: () => void): unknown;
}

/** The response side of node:http (and Express) that the handlers write. */
export interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(chunk?: string): unknown;
  readonly writableEnded?: boolean;
  /** Bytes written but not yet handed to the socket (Node's `writable.writableLength`). */
  readonly writableLength?: number;
  on(event: 'close', listener: () => void): unknown;
  flushHeaders?(): void;
  destroy?(): unknown;
}

/**
 * A handler mountable everywhere: call it as a node:http / Express handler `(req, res)`, or use
 * `handler.fetch(request)` where a Web `Request → Response` function is wanted (Hono, Bun, Deno,
 * Cloudflare Workers).
 *
 * @example
 * http.createServer(handler);                        // node:http
 * app.get('/metrics', handler);                      // Express
 * app.get('/metrics', (c) => handler.fetch(c.req.raw)); // Hono
 */
export interface HttpHandler {
  (req: NodeRequest, res: NodeResponse, next?: unknown): void;
  /** The same handler for Web `Request`/`Response` runtimes. */
  fetch(request: Request): Response | Promise<Response>;
}

/** A complete (non-streaming) reply. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a route needs to know about a request, whichever API it came through. */
export interface RequestInfo {
  method: string;
  url: URL;
  accept: string;
}

export const fromNode = (req: NodeRequest): RequestInfo => {
  const accept = req.headers.accept;
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url: new URL(req.url ?? '/', 'http://localhost'),
    accept: Array.isArray(accept) ? accept.join(',') : (accept ?? ''),
  };
};

export const fromFetch = (request: Request): RequestInfo => ({
  method: request.method.toUpperCase(),
  url: new URL(request.url),
  accept: request.headers.get('accept') ?? '',
});

/** 405 for anything but GET and HEAD; `undefined` when the method is fine. */
export function methodNotAllowed(info: RequestInfo): Reply | undefined {
  if (info.method === 'GET' || info.method === 'HEAD') return undefined;
  return {
    status: 405,
    headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
    body: 'Method Not Allowed\n',
  };
}

export function sendNode(res: NodeResponse, info: RequestInfo, reply: Reply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(info.method === 'HEAD' ? undefined : reply.body);
}

export function toResponse(info: RequestInfo, reply: Reply): Response {
  return new Response(info.method === 'HEAD' ? null : reply.body, { status: reply.status, headers: reply.headers });
}

/** Builds an {@link HttpHandler} from a function that answers every request with a {@link Reply}. */
export function simpleHandler(route: (info: RequestInfo) => Reply): HttpHandler {
  const answer = (info: RequestInfo): Reply => methodNotAllowed(info) ?? route(info);
  const handler = ((req: NodeRequest, res: NodeResponse) => {
    const info = fromNode(req);
    sendNode(res, info, answer(info));
  }) as HttpHandler;
  handler.fetch = (request: Request) => {
    const info = fromFetch(request);
    return toResponse(info, answer(info));
  };
  return handler;
}
