import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  type PalisadeEnv,
  type PalisadeOptionalEnv,
  concurrencyLimit,
  rateLimit,
  resilience,
  timeout,
} from '../src/index.js';
import { listenHono, serveHono } from './harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every module reachable from `entry` through relative and @palisade/* imports, with its imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (graph.has(file)) return;
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map(
      (m) => m[1] as string,
    );
    graph.set(file, specifiers);
    for (const spec of specifiers) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (spec.startsWith('@palisade/')) {
        // `@palisade/core` → core/src/index.ts; a subpath such as `@palisade/core/deadline` → core/src/deadline/index.ts
        const [name, ...subpath] = spec.slice('@palisade/'.length).split('/');
        visit(resolve(root, name as string, 'src', ...subpath, 'index.ts'));
      }
    }
  };
  visit(entry);
  return graph;
}

describe('@palisade/hono specifics', () => {
  it('imports nothing Node-only, however deep (it must run on Workers, Deno, Bun)', () => {
    const graph = importGraph(resolve(root, 'hono/src/index.ts'));
    const offenders = [...graph].flatMap(([file, specs]) =>
      specs
        .filter((s) => s.startsWith('node:') || /^(fs|path|net|http|async_hooks|crypto|events|url|os)$/.test(s))
        .map((s) => `${file}: ${s}`),
    );
    expect(graph.size).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });

  it("gives handlers c.get('palisade') with the signal and deadline", async () => {
    const app = new Hono<PalisadeEnv>();
    app.get('/info', concurrencyLimit({ maxConcurrent: 4 }), timeout({ ms: 5_000 }), (c) => {
      const { signal, deadline } = c.get('palisade');
      return c.json({ aborted: signal.aborted, deadline });
    });
    const before = Date.now();
    const res = await app.request('/info');
    const body = (await res.json()) as { aborted: boolean; deadline: number };
    expect(body.aborted).toBe(false);
    expect(body.deadline).toBeGreaterThanOrEqual(before + 4_000);
  });

  it("leaves c.get('palisade') unset where no guard ran, as PalisadeOptionalEnv says", async () => {
    const app = new Hono<PalisadeOptionalEnv>();
    app.use(
      resilience({
        routes: {
          'GET /guarded': { timeout: '5s' },
          'GET /limited': { rateLimit: { limit: 9, key: 'header:x-api-key' } },
        },
      }),
    );
    const seen = (c: Context<PalisadeOptionalEnv>) => c.json({ set: c.get('palisade') !== undefined });
    app.get('/guarded', seen);
    app.get('/limited', seen);
    app.get('/other', seen);
    app.get('/rate', rateLimit({ limit: 9, key: 'header:x-api-key' }), seen);
    const set = async (path: string) => ((await (await app.request(path)).json()) as { set: boolean }).set;
    expect([await set('/guarded'), await set('/limited'), await set('/other'), await set('/rate')]).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });

  it("tells clients apart with the node-server's getConnInfo", async () => {
    const app = await serveHono({
      routes: [
        {
          method: 'GET',
          path: '/c',
          middleware: [rateLimit({ limit: 1, getConnInfo })],
          handler: () => ({ body: {} }),
        },
      ],
    });
    try {
      const statuses = [];
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${app.url}/c`);
        statuses.push(res.status);
        await res.body?.cancel();
      }
      expect(statuses).toEqual([200, 429]);
    } finally {
      await app.close();
    }
  });

  it('puts the RateLimit headers on a Response the handler builds itself (node-server)', async () => {
    const app = new Hono();
    app.get('/raw', rateLimit({ limit: 5 }), () => new Response('raw', { headers: { 'x-own': '1' } }));
    const served = await listenHono(app);
    try {
      const res = await fetch(`${served.url}/raw`);
      expect(res.headers.get('ratelimit')).toMatch(/^"default";r=4;t=\d+$/);
      expect(res.headers.get('x-own')).toBe('1');
      expect(await res.text()).toBe('raw');
    } finally {
      await served.close();
    }
  });

  it("adds its headers to a copy of a handler's header object, where the handler's own win (node-server)", async () => {
    // A handler may reuse one header object for every response: palisade's headers must not stick
    // to it (they would then be sent again, stale, on every later response).
    const own = { 'content-type': 'text/plain', RateLimit: 'own' };
    const shared = { 'content-type': 'text/plain' };
    const app = new Hono();
    app.get('/own', rateLimit({ limit: 5 }), () => new Response('own', { headers: own }));
    app.get('/shared', rateLimit({ limit: 5 }), () => new Response('shared', { headers: shared }));
    app.get('/stream', rateLimit({ limit: 5 }), () => new Response(new Blob(['streamed']).stream()));
    const served = await listenHono(app);
    try {
      const first = await fetch(`${served.url}/own`);
      expect(first.headers.get('ratelimit')).toBe('own');
      expect(first.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60');
      expect(await first.text()).toBe('own');

      for (const remaining of [4, 3]) {
        const res = await fetch(`${served.url}/shared`);
        expect(res.headers.get('ratelimit')).toMatch(new RegExp(`^"default";r=${remaining};t=\\d+$`));
        expect(await res.text()).toBe('shared');
      }
      expect(Object.keys(shared).filter((name) => name.toLowerCase().startsWith('ratelimit'))).toEqual([]);

      const streamed = await fetch(`${served.url}/stream`);
      expect(streamed.headers.get('ratelimit')).toMatch(/^"default";r=4;t=\d+$/);
      expect(await streamed.text()).toBe('streamed');
    } finally {
      await served.close();
    }
  });

  it('lets onRejected return its own Response', async () => {
    const app = new Hono();
    app.use(
      resilience({
        key: (c) => c.req.header('x-user') ?? 'anonymous',
        routes: { 'GET /r': { rateLimit: { limit: 1 } } },
        onRejected: ({ c, error }) => c.text(`later (${error.code})`, 429),
      }),
    );
    app.get('/r', (c) => c.text('ok'));
    expect((await app.request('/r', { headers: { 'x-user': 'u1' } })).status).toBe(200);
    const refused = await app.request('/r', { headers: { 'x-user': 'u1' } });
    expect(refused.status).toBe(429);
    expect(await refused.text()).toBe('later (PALISADE_RATE_LIMITED)');
    expect((await app.request('/r', { headers: { 'x-user': 'u2' } })).status).toBe(200);
  });
});
