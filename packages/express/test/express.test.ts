import express, { type Request, type Response } from 'express';
import { type Clock, systemClock } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { concurrencyLimit, rateLimit, timeout } from '../src/index.js';
import { serveExpress } from './harness.js';

describe('@palisade/express specifics', () => {
  it('exposes the signal and deadline as req.signal and res.locals.palisade, innermost first', async () => {
    const app = express();
    const seen: { same: boolean; deadline: unknown; aborted: boolean }[] = [];
    app.get('/info', concurrencyLimit({ maxConcurrent: 5 }), timeout({ ms: 5_000 }), (req: Request, res: Response) => {
      const info = res.locals.palisade;
      seen.push({
        same: (req as Request & { signal: AbortSignal }).signal === info.signal,
        deadline: info.deadline,
        aborted: info.signal.aborted,
      });
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const before = Date.now();
      expect((await fetch(`http://127.0.0.1:${port}/info`)).status).toBe(200);
      expect(seen[0]?.same).toBe(true);
      expect(seen[0]?.aborted).toBe(false);
      expect(seen[0]?.deadline).toBeGreaterThanOrEqual(before + 4_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('sends a response whose end began in time whole, when the deadline passes during that end', async () => {
    // Node's `end` calls `writeHead` itself. If the route's time runs out between the two (a
    // millisecond boundary on the real clock), holding that inner call alone would let `end`
    // write the body with no status line before it, and break the keep-alive connection.
    let armed = false;
    let late = false;
    const clock: Clock = {
      now: () => {
        if (armed) {
          // The first read after arming is `end`'s own check: still in time. Every later one is late.
          armed = false;
          late = true;
          return Date.now();
        }
        return Date.now() + (late ? 60_000 : 0);
      },
      sleep: systemClock.sleep,
      setTimer: systemClock.setTimer,
    };
    const app = express();
    app.get('/x', timeout({ ms: 1_000, clock }), (_req: Request, res: Response) => {
      res.setHeader('content-type', 'text/plain');
      late = false;
      armed = true;
      res.end('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      for (let i = 0; i < 3; i++) {
        // The same keep-alive connection each time: a stray body would break the next response.
        const res = await fetch(`http://127.0.0.1:${port}/x`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('ok');
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('warns once when X-Forwarded-For arrives but no proxy is trusted', async () => {
    const warnings: string[] = [];
    const app = await serveExpress({
      routes: [
        {
          method: 'GET',
          path: '/x',
          middleware: [rateLimit({ limit: 100, onWarning: (m) => warnings.push(m) })],
          handler: () => ({ body: {} }),
        },
      ],
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${app.url}/x`, { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
        await res.body?.cancel();
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/X-Forwarded-For but the app trusts no proxy/);
    } finally {
      await app.close();
    }
  });

  it('lets onRejected send its own response', async () => {
    const app = await serveExpress({
      routes: [
        {
          method: 'GET',
          path: '/own',
          middleware: [
            rateLimit({
              limit: 1,
              onRejected: ({ res, error }) => {
                res.status(429).type('text/plain').send(`later (${error.code})`);
              },
            }),
          ],
          handler: () => ({ body: {} }),
        },
      ],
    });
    try {
      await (await fetch(`${app.url}/own`)).body?.cancel();
      const refused = await fetch(`${app.url}/own`);
      expect(refused.status).toBe(429);
      expect(await refused.text()).toBe('later (PALISADE_RATE_LIMITED)');
    } finally {
      await app.close();
    }
  });
});
