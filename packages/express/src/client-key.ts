import type { ClientKeyRule } from '@palisade/core';
import type { Application, Request } from 'express';
import { PKG } from './options.js';

/** What an app's `trust proxy` setting means for `req.ip`, checked once per app. */
type TrustVerdict = 'ok' | 'spoofable' | 'off';
const verdicts = new WeakMap<Application, TrustVerdict>();

function verdictOf(app: Application): TrustVerdict {
  let verdict = verdicts.get(app);
  if (verdict === undefined) {
    const trust: unknown = app.get('trust proxy');
    verdict = trust === true ? 'spoofable' : trust === false || trust === undefined || trust === 0 ? 'off' : 'ok';
    verdicts.set(app, verdict);
  }
  return verdict;
}

/**
 * Builds the function that reads a client key from a request. `'ip'` is Express's `req.ip`, so
 * `X-Forwarded-For` counts only as far as the app's `trust proxy` setting says; two settings are
 * reported once through `warn`: `trust proxy = true` (every client can pick its address), and a
 * request carrying `X-Forwarded-For` while no proxy is trusted (every client behind that proxy
 * shares one key).
 */
export function clientKeyReader(
  rule: ClientKeyRule<Request>,
  warn: (kind: string, message: string) => void,
): (req: Request) => string {
  switch (rule.kind) {
    case 'custom': {
      const read = rule.read;
      return (req) => String(read(req));
    }
    case 'header': {
      const header = rule.header;
      return (req) => {
        const value = req.headers[header];
        return typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : '';
      };
    }
    default: {
      // The last app seen, and what its setting means: one comparison per request, not a lookup.
      let lastApp: Application | undefined;
      let lastVerdict: TrustVerdict = 'off';
      return (req) => {
        const app = req.app;
        if (app !== lastApp) {
          lastApp = app;
          lastVerdict = verdictOf(app);
        }
        if (lastVerdict === 'off') {
          if (req.headers['x-forwarded-for'] !== undefined) {
            warn(
              'untrusted-forwarded-for',
              `${PKG}: a request carries X-Forwarded-For but the app trusts no proxy, so the header is ignored and every client behind that proxy shares one key. If the app runs behind a proxy, set app.set('trust proxy', <number of proxies>).`,
            );
          }
          // What req.ip is when no proxy is trusted, without parsing X-Forwarded-For for nothing.
          return req.socket.remoteAddress ?? '';
        }
        if (lastVerdict === 'spoofable') {
          warn(
            'trust-proxy-true',
            `${PKG}: the app sets 'trust proxy' to true, so req.ip is the left-most X-Forwarded-For entry, which any client can set: one client can spend another's quota or dodge its own. Set it to the number of proxies in front of the app (e.g. app.set('trust proxy', 1)).`,
          );
        }
        return req.ip ?? req.socket.remoteAddress ?? '';
      };
    }
  }
}
