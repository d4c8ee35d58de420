import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRoutes, parseRouteKey } from '../src/index.js';

describe('parseRouteKey()', () => {
  it.each([
    ['GET api.example.com/users/:id', { method: 'GET', host: 'api.example.com', path: '/users/:id' }],
    ['api.example.com', { method: undefined, host: 'api.example.com', path: undefined }],
    ['*.example.com', { host: 'example.com', wildcardHost: true, path: undefined }],
    ['GET /users/:id', { method: 'GET', host: undefined, path: '/users/:id' }],
    ['/admin/*', { method: undefined, host: undefined, path: '/admin/*' }],
    ['POST /orders', { method: 'POST', host: undefined, path: '/orders' }],
    ['post   /orders/', { method: 'POST', path: '/orders' }],
    ['API.Example.COM:8080/x', { host: 'api.example.com', port: '8080', path: '/x' }],
    ['[::1]:3000', { host: '[::1]', port: '3000' }],
    ['localhost', { host: 'localhost' }],
    ['/', { path: '/' }],
    ['GET /v1/things:batch', { path: '/v1/things:batch' }],
  ])('parses %j', (key, expected) => {
    expect(parseRouteKey(key)).toMatchObject({ key, ...expected });
  });

  it.each([
    ['', 'characters'],
    ['   ', 'METHOD'],
    ['GET', 'a method alone is not a route'],
    ['GET POST /x', 'METHOD'],
    ['G@T /x', 'bad method'],
    ['/a/*/b', '"*" may only be the last'],
    ['/a//b', 'empty path segment'],
    ['/users/:', 'bad parameter'],
    ['/users/:1d', 'bad parameter'],
    ['bad_host!/x', 'bad host'],
    ['*', 'default policy'],
    ['*.example.com:80', 'wildcard host cannot name a port'],
    ['example.com:99999', 'bad port'],
    ['example.com:', 'bad port'],
    ['[::1', 'unclosed'],
    ['/a b', 'bad method'],
    ['/a?x=1', 'bad path segment'],
    ['x'.repeat(3000), 'characters'],
  ])('rejects %j with a TypeError naming it', (key, why) => {
    let error: unknown;
    try {
      parseRouteKey(key);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toContain('@palisade/core: route ');
    expect((error as TypeError).message).toContain(JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key));
    expect((error as TypeError).message).toContain(why);
  });

  it('never throws anything but a TypeError, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (key) => {
        try {
          const route = parseRouteKey(key);
          expect(route.key).toBe(key);
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('never crashes on strings made of route-like characters', () => {
    const char = fc.constantFrom(...'GETPOST /:*.-_[]abc123@%?#'.split(''));
    fc.assert(
      fc.property(fc.array(char, { maxLength: 30 }), (chars) => {
        const key = chars.join('');
        try {
          parseRouteKey(key);
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('compileRoutes()', () => {
  const routes = compileRoutes({
    'GET api.example.com/users/:id': 'method+host+path',
    'api.example.com/users/:id': 'host+path',
    'api.example.com': 'host',
    'api.example.com:8443': 'host+port',
    '*.example.com': 'wildcard',
    '*.eu.example.com': 'longer wildcard',
    'GET /users/:id': 'method+path',
    '/users/:id': 'path',
    '/admin/*': 'admin',
    '/admin/settings': 'admin settings',
    'POST /orders': 'post orders',
  });
  const value = (method: string, host: string | undefined, path: string) => routes.match(method, host, path)?.value;

  it('picks the most specific route: method+host+path > host+path > host > wildcard host > hostless', () => {
    expect(value('GET', 'api.example.com', '/users/7')).toBe('method+host+path');
    expect(value('DELETE', 'api.example.com', '/users/7')).toBe('host+path');
    expect(value('GET', 'api.example.com', '/orders')).toBe('host');
    expect(value('GET', 'api.example.com:8443', '/orders')).toBe('host+port');
    expect(value('GET', 'api.example.com:8443', '/users/7')).toBe('host+port');
    expect(value('GET', 'www.example.com', '/users/7')).toBe('wildcard');
    expect(value('GET', 'a.eu.example.com', '/')).toBe('longer wildcard');
    expect(value('GET', 'other.test', '/users/7')).toBe('method+path');
    expect(value('PUT', 'other.test', '/users/7')).toBe('path');
    expect(value('PUT', undefined, '/users/7')).toBe('path');
  });

  it('matches paths segment by segment', () => {
    expect(value('GET', undefined, '/users/7/')).toBe('method+path');
    expect(value('GET', undefined, '/users/7?full=1')).toBe('method+path');
    expect(value('GET', undefined, '/users/7#top')).toBe('method+path');
    expect(value('GET', undefined, '/users')).toBeUndefined();
    expect(value('GET', undefined, '/users/')).toBeUndefined();
    expect(value('GET', undefined, '/users/7/posts')).toBeUndefined();
    expect(value('GET', undefined, '/admin')).toBe('admin');
    expect(value('GET', undefined, '/admin/a/b/c')).toBe('admin');
    expect(value('GET', undefined, '/admin/settings')).toBe('admin settings');
    expect(value('GET', undefined, '/administrator')).toBeUndefined();
    expect(value('post', undefined, '/orders')).toBe('post orders');
    expect(value('GET', undefined, '/orders')).toBeUndefined();
  });

  it('a wildcard host matches sub-domains only, case-insensitively', () => {
    const r = compileRoutes({ '*.example.com': 1 });
    expect(r.match('GET', 'A.Example.Com', '/')?.value).toBe(1);
    expect(r.match('GET', 'a.b.example.com:81', '/')?.value).toBe(1);
    expect(r.match('GET', 'example.com', '/')).toBeUndefined();
    expect(r.match('GET', 'badexample.com', '/')).toBeUndefined();
    expect(r.match('GET', '.example.com', '/')).toBeUndefined();
  });

  it('a host without port matches any port; a key with a port only that port; IPv6 too', () => {
    const r = compileRoutes({ '127.0.0.1': 'any', '127.0.0.1:9000': 'nine', '[::1]': 'v6' });
    expect(r.match('GET', '127.0.0.1:1234', '/')?.value).toBe('any');
    expect(r.match('GET', '127.0.0.1:9000', '/')?.value).toBe('nine');
    expect(r.match('GET', '[::1]:8080', '/x')?.value).toBe('v6');
  });

  it('lists routes most specific first, as parsed keys', () => {
    expect(routes.routes[0]?.key).toBe('api.example.com:8443');
    expect(routes.routes.at(-1)?.key).toBe('/admin/*');
    expect(routes.routes.map((r) => r.route.key)).toHaveLength(11);
  });

  it('accepts entries as an iterable, and nothing matches an empty table', () => {
    const r = compileRoutes(new Map([['GET /a', 1]]));
    expect(r.match('GET', undefined, '/a')?.value).toBe(1);
    expect(compileRoutes({}).match('GET', 'x', '/')).toBeUndefined();
  });

  it('throws a TypeError naming a bad key, and a duplicate key', () => {
    expect(() => compileRoutes({ 'GET /ok': 1, 'GET /a//b': 2 })).toThrow(/route "GET \/a\/\/b"/);
    expect(() => compileRoutes({ 'GET /users/:id': 1, 'get /users/:uid/': 2 })).toThrow(
      /route "get \/users\/:uid\/" .*same route as "GET \/users\/:id"/,
    );
    expect(() => compileRoutes(null as never)).toThrow(TypeError);
  });

  it('match() never throws and is deterministic, whatever the request', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }),
        fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
        fc.string({ maxLength: 40 }),
        (method, host, path) => {
          const first = routes.match(method, host, path);
          expect(routes.match(method, host, path)).toBe(first);
          if (first) expect(routes.routes).toContain(first);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('agrees with a brute-force reference: the match is one that matches and none more specific', () => {
    const segment = fc.constantFrom('users', 'admin', '7', 'x', '');
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'POST', 'DELETE'),
        fc.constantFrom('api.example.com', 'www.example.com', 'other.test', undefined),
        fc.array(segment, { maxLength: 4 }),
        (method, host, parts) => {
          const path = `/${parts.join('/')}`;
          const found = routes.match(method, host, path);
          const index = found ? routes.routes.indexOf(found) : routes.routes.length;
          // No route listed before the match (more specific) matches this request on its own.
          for (const r of routes.routes.slice(0, index)) {
            expect(compileRoutes([[r.key, 0]]).match(method, host, path)).toBeUndefined();
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
