import type { Context } from 'hono';

interface NodeServerBindings {
  server?: NodeServerBindings;
  incoming?: { headers?: Record<string, string | string[] | undefined>; socket?: { remoteAddress?: string } };
  outgoing?: { setHeader?: unknown; writeHead?: unknown; headersSent?: boolean };
}

/** `@hono/node-server`'s ServerResponse, as much of it as palisade uses. */
export interface NodeOutgoing {
  setHeader(name: string, value: string): unknown;
  hasHeader(name: string): boolean;
  writeHead(...args: unknown[]): unknown;
  readonly headersSent?: boolean;
}

/** `@hono/node-server`'s IncomingMessage, when the app runs on it (read without importing anything). */
export function nodeIncoming(c: Context): NodeServerBindings['incoming'] | undefined {
  const env = c.env as NodeServerBindings | undefined;
  if (typeof env !== 'object' || env === null) return undefined;
  return (env.server ?? env).incoming;
}

/**
 * A request header (`name` in lower case). On `@hono/node-server` it is read from the Node request,
 * which spares building the Web `Headers` object for it; elsewhere from `c.req`.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const headers = nodeIncoming(c)?.headers;
  if (headers === undefined) return c.req.header(name);
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * `@hono/node-server`'s ServerResponse, when the app runs on it: headers set on it before the
 * Response is written are merged into it by Node, whatever Response the handler returns, and
 * without building a Web `Headers` object.
 */
export function nodeOutgoing(c: Context): NodeOutgoing | undefined {
  const env = c.env as NodeServerBindings | undefined;
  if (typeof env !== 'object' || env === null) return undefined;
  const outgoing = (env.server ?? env).outgoing;
  return typeof outgoing?.setHeader === 'function' && typeof outgoing.writeHead === 'function'
    ? (outgoing as NodeOutgoing)
    : undefined;
}

type HeaderRecord = Record<string, unknown>;

/** `headers` (whose own names are `names`) has `name` (lower case), in any case. */
function hasHeaderNamed(headers: HeaderRecord, names: readonly string[], name: string): boolean {
  if (name in headers) return true;
  for (const key of names) if (key.length === name.length && key.toLowerCase() === name) return true;
  return false;
}

/** `given` (what `writeHead` got) with `headers` added, in a copy; or set on `outgoing` when there is no object. */
function withHeaders(outgoing: NodeOutgoing, given: unknown, headers: readonly string[]): unknown {
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const names = Object.keys(given);
    const merged: HeaderRecord = Object.assign({}, given as HeaderRecord);
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (!hasHeaderNamed(given as HeaderRecord, names, name)) merged[name] = headers[i + 1];
    }
    return merged;
  }
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!outgoing.hasHeader(name)) outgoing.setHeader(name, headers[i + 1] as string);
  }
  return given;
}

/**
 * Adds response headers (`[name, value, name, value…]`, names in lower case) on
 * `@hono/node-server`, to whatever Response the handler goes on to return; a header of the same
 * name in that Response wins, as it would over `setHeader`, and so do the headers of a palisade
 * middleware further in (its call comes later).
 *
 * Why not `outgoing.setHeader`: node-server writes a Response with `writeHead(status, headers)`,
 * and Node takes that object as it is only while nothing was set on the response before; one
 * `setHeader` sends the whole response down Node's per-header path instead (0.5–4 µs more a
 * request in A/B runs, where a bare Hono server spends ~25–30 µs). So the headers wait, and go
 * into a copy of the object `writeHead` is given (the handler's object may be a constant it
 * reuses). When `writeHead` gets no object (a response ended without one), they are set the usual
 * way just before.
 */
export function addResponseHeaders(outgoing: NodeOutgoing, headers: readonly string[]): void {
  const writeHead = outgoing.writeHead;
  // An own property of this response: the prototype (every other response) is never touched.
  outgoing.writeHead = (status: unknown, message?: unknown, given?: unknown): unknown =>
    // `writeHead(status, headers)` or `writeHead(status, message, headers)`.
    typeof message === 'string'
      ? writeHead.call(outgoing, status, message, withHeaders(outgoing, given, headers))
      : writeHead.call(outgoing, status, withHeaders(outgoing, message, headers));
}
