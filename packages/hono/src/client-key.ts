import { clientAddress } from '@palisade/core';
import type { Context } from 'hono';
import { type NormalizedKeyOptions, PKG } from './options.js';
import { nodeIncoming, requestHeader } from './request-header.js';

/** The socket address from `@hono/node-server`'s bindings, read without importing anything Node-only. */
function nodeServerAddress(c: Context): string | undefined {
  return nodeIncoming(c)?.socket?.remoteAddress;
}

/**
 * Builds the function that reads a client key from a request. `'ip'` is the connection's address
 * (`getConnInfo`, else `@hono/node-server`'s socket); `X-Forwarded-For` only counts as far as
 * `proxyHops` trusts it. With no address to be had, every client shares one key and `warn` says so.
 */
export function clientKeyReader(
  options: NormalizedKeyOptions,
  warn: (kind: string, message: string) => void,
): (c: Context) => string {
  const { rule, getConnInfo, proxyHops } = options;
  switch (rule.kind) {
    case 'custom': {
      const read = rule.read;
      return (c) => String(read(c));
    }
    case 'header': {
      const header = rule.header;
      return (c) => requestHeader(c, header) ?? '';
    }
    default: {
      const remoteOf = getConnInfo ? (c: Context) => getConnInfo(c).remote.address : nodeServerAddress;
      return (c) => {
        const remote = remoteOf(c);
        const address = proxyHops > 0 ? clientAddress(remote, requestHeader(c, 'x-forwarded-for'), proxyHops) : remote;
        if (address === undefined) {
          warn(
            'no-client-address',
            `${PKG}: key 'ip' cannot read the client's address on this runtime, so every client shares one key. Pass your runtime's getConnInfo (from 'hono/bun', 'hono/deno', 'hono/cloudflare-workers', '@hono/node-server/conninfo', …).`,
          );
          return '';
        }
        return address;
      };
    }
  }
}
