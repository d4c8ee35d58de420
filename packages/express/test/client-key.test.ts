import express, { type Request } from 'express';
import { describe, expect, it } from 'vitest';
import { clientKeyReader } from '../src/client-key.js';

function request(app: express.Express, headers: Record<string, string | string[]> = {}, remote = '10.0.0.7'): Request {
  const req = Object.create(app.request) as Request & { app: unknown; headers: unknown; socket: unknown };
  Object.assign(req, { app, headers, socket: { remoteAddress: remote }, connection: { remoteAddress: remote } });
  return req;
}

describe('client keys (Express)', () => {
  it("'ip' is the socket address while no proxy is trusted, whatever X-Forwarded-For says", () => {
    const app = express();
    const warnings: string[] = [];
    const read = clientKeyReader({ kind: 'ip' }, (_kind, m) => warnings.push(m));
    expect(read(request(app, { 'x-forwarded-for': '203.0.113.1' }))).toBe('10.0.0.7');
    expect(read(request(app, { 'x-forwarded-for': '203.0.113.2' }))).toBe('10.0.0.7');
    expect(warnings).toHaveLength(2); // the reader warns; de-duplication is the adapter's warn()
    expect(warnings[0]).toMatch(/carries X-Forwarded-For but the app trusts no proxy/);
  });

  it("'ip' follows trust proxy = n, and flags trust proxy = true as spoofable", () => {
    const one = express();
    one.set('trust proxy', 1);
    const read = clientKeyReader({ kind: 'ip' }, () => {});
    expect(read(request(one, { 'x-forwarded-for': '198.51.100.9, 203.0.113.1' }))).toBe('203.0.113.1');

    const all = express();
    all.set('trust proxy', true);
    const warnings: string[] = [];
    const spoofable = clientKeyReader({ kind: 'ip' }, (kind, m) => warnings.push(`${kind}: ${m}`));
    expect(spoofable(request(all, { 'x-forwarded-for': '1.2.3.4' }))).toBe('1.2.3.4');
    expect(warnings[0]).toMatch(/^trust-proxy-true: .*'trust proxy' to true/);
  });

  it('reads a header (joined when repeated) or calls a function', () => {
    const app = express();
    const header = clientKeyReader({ kind: 'header', header: 'x-api-key' }, () => {});
    expect(header(request(app, { 'x-api-key': 'k1' }))).toBe('k1');
    expect(header(request(app, {}))).toBe('');
    expect(header(request(app, { 'x-api-key': ['a', 'b'] }))).toBe('a,b');
    const custom = clientKeyReader({ kind: 'custom', read: (req) => `tenant:${req.headers['x-tenant']}` }, () => {});
    expect(custom(request(app, { 'x-tenant': 't9' }))).toBe('tenant:t9');
  });
});
