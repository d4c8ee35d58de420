import type { Context } from 'hono';

interface NodeServerBindings {
  server?: NodeServerBindings;
  incoming?: { headers?: Record<string, string | string[] | undefined>; socket?: { remoteAddress?: string } };
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
