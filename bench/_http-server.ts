// A server for bench/http.ts, run in its own process:
//   tsx --conditions=@palisade/source bench/_http-server.ts <express|hono> <bare|noop|byhand|palisade|peer|all>
// Routes: /allow (a limit no client reaches) and /limited (1 request per hour: all but the first
// get 429); with `all`, every variant in one process, under /<variant>/allow and /<variant>/limited
// (so that comparing them is free of the differences between processes). `noop` puts a middleware
// that only calls next() in front: the framework's own cost of having a middleware at all (Hono
// leaves its single-handler fast path). `byhand` is a middleware that decides nothing and sends
// what palisade's sends, written out as constants: on /allow the two IETF headers, on /limited the
// 429 with its four headers and problem+json body, in the framework's plainest way — what any
// limiter that answers as the issue asks pays for the answer alone. Prints "PORT <n>".
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { rateLimit as palisadeExpress } from '@palisade/express';
import { rateLimit as palisadeHono } from '@palisade/hono';
import express, { type RequestHandler } from 'express';
import expressRateLimit from 'express-rate-limit';
import { Hono, type MiddlewareHandler } from 'hono';
import { rateLimiter as honoRateLimiter } from 'hono-rate-limiter';

const [framework, variant] = process.argv.slice(2);
const VARIANTS = ['bare', 'noop', 'byhand', 'palisade', 'peer'] as const;
const ALLOW = { limit: 1_000_000_000, windowMs: 60_000 };
const LIMITED = { limit: 1, windowMs: 3_600_000 };

type Limits = typeof ALLOW;

/** The variants this process serves, each with the prefix of its routes. */
const mounted: [variant: string, prefix: string][] =
  variant === 'all' ? VARIANTS.map((v) => [v, `/${v}`]) : [[variant as string, '']];

/** What palisade's rateLimit sends on each route (the allow path's `r` varies; its length does not). */
const ALLOW_HEADERS = { 'ratelimit-policy': '"default";q=1000000000;w=60', ratelimit: '"default";r=999999999;t=0' };
const REFUSAL_HEADERS = {
  'content-type': 'application/problem+json',
  'retry-after': '3600',
  'ratelimit-policy': '"default";q=1;w=3600',
  ratelimit: '"default";r=0;t=3600',
};
const REFUSAL_BODY = JSON.stringify({
  type: 'about:blank',
  title: 'Too Many Requests',
  status: 429,
  detail: 'Rate limit exceeded: retry after 3600 s.',
  code: 'PALISADE_RATE_LIMITED',
});

function expressLimiter(variant: string, limits: Limits): RequestHandler[] {
  if (variant === 'palisade') return [palisadeExpress({ limit: limits.limit, windowMs: limits.windowMs })];
  if (variant === 'peer') return [expressRateLimit({ limit: limits.limit, windowMs: limits.windowMs })];
  if (variant === 'noop') return [(_req, _res, next) => next()];
  if (variant === 'byhand' && limits === ALLOW) {
    return [
      (_req, res, next) => {
        res.setHeader('ratelimit-policy', ALLOW_HEADERS['ratelimit-policy']);
        res.setHeader('ratelimit', ALLOW_HEADERS.ratelimit);
        next();
      },
    ];
  }
  if (variant === 'byhand') {
    return [
      (_req, res) => {
        res.writeHead(429, REFUSAL_HEADERS).end(REFUSAL_BODY);
      },
    ];
  }
  return [];
}

const nodeAddress = (c: { env: unknown }): string =>
  (c.env as { incoming?: { socket?: { remoteAddress?: string } } }).incoming?.socket?.remoteAddress ?? '';

function honoLimiter(variant: string, limits: Limits): MiddlewareHandler[] {
  if (variant === 'palisade') return [palisadeHono({ limit: limits.limit, windowMs: limits.windowMs })];
  if (variant === 'peer') {
    return [honoRateLimiter({ limit: limits.limit, windowMs: limits.windowMs, keyGenerator: nodeAddress })];
  }
  if (variant === 'noop') return [(_c, next) => next()];
  if (variant === 'byhand' && limits === ALLOW) {
    return [
      (c, next) => {
        c.header('ratelimit-policy', ALLOW_HEADERS['ratelimit-policy']);
        c.header('ratelimit', ALLOW_HEADERS.ratelimit);
        return next();
      },
    ];
  }
  if (variant === 'byhand') return [async (c) => c.body(REFUSAL_BODY, 429, REFUSAL_HEADERS)];
  return [];
}

function announce(port: number): void {
  process.stdout.write(`PORT ${port}\n`);
}

// The parent asks for this process's CPU time around each load run (IPC), so it can report CPU
// per request: under a busy machine a steadier measure of cost than requests/s.
process.on('message', (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuUs: user + system });
  }
});

if (framework === 'express') {
  const app = express();
  for (const [v, prefix] of mounted) {
    app.get(`${prefix}/allow`, ...expressLimiter(v, ALLOW), (_req, res) => {
      res.send('ok');
    });
    app.get(`${prefix}/limited`, ...expressLimiter(v, LIMITED), (_req, res) => {
      res.send('ok');
    });
  }
  const server = app.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
} else if (framework === 'hono') {
  const app = new Hono();
  const on = app.get as unknown as (path: string, ...handlers: MiddlewareHandler[]) => void;
  const ok: MiddlewareHandler = async (c) => c.text('ok');
  for (const [v, prefix] of mounted) {
    on.call(app, `${prefix}/allow`, ...honoLimiter(v, ALLOW), ok);
    on.call(app, `${prefix}/limited`, ...honoLimiter(v, LIMITED), ok);
  }
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => announce(info.port));
} else {
  throw new Error(`unknown framework ${framework}`);
}
