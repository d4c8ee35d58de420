import type { Context } from 'hono';

interface NodeServerBindings {
  server?: NodeServerBindings;
  incoming?: { headers?: Record<string, string | string[] | undefined>; socket?: { remoteAddress?: string } };
  outgoing?: { setHeader?: (name: string, value: string) => unknown; headersSent?: boolean };
}

/** `@hono/node-server`'s ServerResponse, as much of it as palisade uses. */
export interface NodeOutgoing {
  setHeader(name: string, value: string): unknown;
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
  return typeof outgoing?.setHeader === 'function' ? (outgoing as NodeOutgoing) : undefined;
}
