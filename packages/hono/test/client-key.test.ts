import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientKeyReader } from '../src/client-key.js';
import { rateLimit } from '../src/index.js';

/** Runs `read` against a request built by Hono itself, with the given bindings. */
async function keyOf(read: (c: never) => string, headers: Record<string, string>, env?: object): Promise<string> {
  const app = new Hono();
  let key = '';
  app.get('/', (c) => {
    key = read(c as never);
    return c.text('ok');
  });
  await app.request('/', { headers }, env);
  return key;
}

const nodeBindings = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

describe('client keys (Hono)', () => {
  it("'ip' reads getConnInfo, ignoring X-Forwarded-For unless proxyHops trusts it", async () => {
    const getConnInfo = () => ({ remote: { address: '10.0.0.7' } });
    const direct = clientKeyReader({ rule: { kind: 'ip' }, getConnInfo, proxyHops: 0 }, () => {});
    expect(await keyOf(direct, { 'x-forwarded-for': '203.0.113.1' })).toBe('10.0.0.7');
    const oneHop = clientKeyReader({ rule: { kind: 'ip' }, getConnInfo, proxyHops: 1 }, () => {});
    expect(await keyOf(oneHop, { 'x-forwarded-for': '198.51.100.9, 203.0.113.1' })).toBe('203.0.113.1');
    expect(await keyOf(oneHop, {})).toBe('10.0.0.7');
    const twoHops = clientKeyReader({ rule: { kind: 'ip' }, getConnInfo, proxyHops: 2 }, () => {});
    expect(await keyOf(twoHops, { 'x-forwarded-for': '198.51.100.9, 203.0.113.1' })).toBe('198.51.100.9');
  });

  it("'ip' falls back to @hono/node-server's socket, and warns when no address can be read", async () => {
    const warnings: string[] = [];
    const read = clientKeyReader({ rule: { kind: 'ip' }, getConnInfo: undefined, proxyHops: 0 }, (_k, m) =>
      warnings.push(m),
    );
    expect(await keyOf(read, {}, nodeBindings('10.1.2.3'))).toBe('10.1.2.3');
    expect(await keyOf(read, {}, { server: nodeBindings('10.9.9.9') })).toBe('10.9.9.9');
    expect(warnings).toEqual([]);
    expect(await keyOf(read, {})).toBe('');
    expect(warnings[0]).toMatch(/cannot read the client's address on this runtime.*getConnInfo/);
  });

  it('reads a header or calls a function', async () => {
    const header = clientKeyReader(
      { rule: { kind: 'header', header: 'x-api-key' }, getConnInfo: undefined, proxyHops: 0 },
      () => {},
    );
    expect(await keyOf(header, { 'x-api-key': 'k1' })).toBe('k1');
    expect(await keyOf(header, {})).toBe('');
    const custom = clientKeyReader(
      { rule: { kind: 'custom', read: (c) => `t:${c.req.header('x-tenant')}` }, getConnInfo: undefined, proxyHops: 0 },
      () => {},
    );
    expect(await keyOf(custom, { 'x-tenant': '9' })).toBe('t:9');
  });

  it('runs on any Web-standard runtime: app.request() with no server, one warning', async () => {
    const warnings: string[] = [];
    const app = new Hono();
    app.use(rateLimit({ limit: 1, onWarning: (m) => warnings.push(m) }));
    app.get('/', (c) => c.text('ok'));
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/')).status).toBe(429);
    expect((await app.request('/')).status).toBe(429);
    expect(warnings).toHaveLength(1);
  });
});
