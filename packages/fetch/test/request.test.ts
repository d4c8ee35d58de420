import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptInit, prepareRequest, splitUrl } from '../src/request.js';

const URL_ = 'http://api.example.com:8080/users/7?x=1';

describe('prepareRequest()', () => {
  it('reads a string URL with no init as a GET with no body', () => {
    const req = prepareRequest(URL_, undefined);
    expect(req).toMatchObject({ method: 'GET', body: 'reusable', headers: undefined, signal: undefined });
    expect(req?.host).toBe('api.example.com:8080');
    expect(req?.path).toBe('/users/7');
  });

  it('takes method, headers and signal from init first, then from a Request', () => {
    const signal = new AbortController().signal;
    const request = new Request(URL_, { method: 'PUT', headers: { a: '1' }, body: 'x', signal });
    const fromRequest = prepareRequest(request, undefined);
    expect(fromRequest).toMatchObject({ method: 'PUT', body: 'request', request });
    expect(new Headers(fromRequest?.headers).get('a')).toBe('1');
    expect(fromRequest?.signal?.aborted).toBe(false);
    const own = new AbortController().signal;
    const overridden = prepareRequest(request, { method: 'patch', headers: { b: '2' }, body: 'y', signal: own });
    expect(overridden).toMatchObject({ method: 'PATCH', body: 'reusable', headers: { b: '2' }, signal: own });
  });

  it('reads a URL object and a Request', () => {
    expect(prepareRequest(new URL('https://A.test:443/x/../y?q'), { method: 'post' })).toMatchObject({
      host: 'a.test',
      path: '/y',
      method: 'POST',
    });
    expect(prepareRequest(new Request('http://b.test:81/p'), undefined)).toMatchObject({
      host: 'b.test:81',
      path: '/p',
    });
  });

  it.each([
    ['a string', 'hello'],
    ['a Blob', new Blob(['x'])],
    ['an ArrayBuffer', new ArrayBuffer(4)],
    ['a typed array', new Uint8Array(4)],
    ['FormData', new FormData()],
    ['URLSearchParams', new URLSearchParams('a=1')],
    ['null', null],
  ])('treats %s as a reusable body', (_name, body) => {
    expect(prepareRequest(URL_, { method: 'POST', body })?.body).toBe('reusable');
  });

  it('treats a ReadableStream or an async iterable as one-shot', () => {
    const stream = new ReadableStream({ start: (c) => c.close() });
    expect(prepareRequest(URL_, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)?.body).toBe(
      'one-shot',
    );
    const iterable = (async function* () {
      yield new Uint8Array(1);
    })();
    expect(prepareRequest(URL_, { method: 'POST', body: iterable as never })?.body).toBe('one-shot');
  });

  it('returns undefined for a URL it cannot parse (fetch then rejects with its own error)', () => {
    expect(prepareRequest('/relative', undefined)).toBeUndefined();
    expect(prepareRequest('http://', undefined)).toBeUndefined();
  });
});

describe('attemptInit()', () => {
  const signal = new AbortController().signal;

  it('adds the signal, keeping every other init field', () => {
    const req = prepareRequest(URL_, { method: 'POST', body: 'b', redirect: 'manual' });
    expect(attemptInit(req!, signal, undefined)).toEqual({
      method: 'POST',
      body: 'b',
      redirect: 'manual',
      signal,
    });
    expect(attemptInit(prepareRequest(URL_, undefined)!, signal, undefined)).toEqual({ signal });
  });

  it("hands back the caller's own init when there is nothing to add", () => {
    const init = { method: 'GET', signal };
    const req = prepareRequest(URL_, init)!;
    expect(attemptInit(req, signal, undefined)).toBe(init);
    expect(attemptInit(prepareRequest(URL_, undefined)!, undefined, undefined)).toBeUndefined();
  });

  it('names the dispatcher, when given one', () => {
    const dispatcher = { dispatch: () => true };
    expect(attemptInit(prepareRequest(URL_, { method: 'PUT' })!, undefined, undefined, dispatcher)).toEqual({
      method: 'PUT',
      dispatcher,
    });
  });

  it("adds the deadline header to every HeadersInit shape without touching the caller's", () => {
    const deadline = ['palisade-deadline-ms', '150'] as const;
    const record = { a: '1' };
    const r1 = attemptInit(prepareRequest(URL_, { headers: record })!, signal, deadline);
    expect(r1?.headers).toEqual({ a: '1', 'palisade-deadline-ms': '150' });
    expect(record).toEqual({ a: '1' });
    const pairs: [string, string][] = [['a', '1']];
    const r2 = attemptInit(prepareRequest(URL_, { headers: pairs })!, signal, deadline);
    expect(r2?.headers).toEqual([
      ['a', '1'],
      ['palisade-deadline-ms', '150'],
    ]);
    expect(pairs).toHaveLength(1);
    const headers = new Headers({ a: '1' });
    const r3 = attemptInit(prepareRequest(URL_, { headers })!, signal, deadline);
    expect(new Headers(r3?.headers).get('palisade-deadline-ms')).toBe('150');
    expect(headers.has('palisade-deadline-ms')).toBe(false);
    const r4 = attemptInit(prepareRequest(URL_, undefined)!, signal, deadline);
    expect(r4?.headers).toEqual({ 'palisade-deadline-ms': '150' });
  });

  it('sends the buffered body of a Request on every attempt', async () => {
    const req = prepareRequest(new Request(URL_, { method: 'POST', body: 'abc' }), undefined)!;
    req.buffered = await req.request!.arrayBuffer();
    const init = attemptInit(req, signal, undefined, undefined);
    expect(init?.body).toBe(req.buffered);
    // fetch accepts the used Request with a replacement body, any number of times.
    const a = new Request(req.input as Request, init);
    const b = new Request(req.input as Request, init);
    expect(await a.text()).toBe('abc');
    expect(await b.text()).toBe('abc');
  });
});

describe('splitUrl() — the fast path for plain URL strings', () => {
  it.each([
    ['http://api.test/users/7?x=1#h', 'api.test', '/users/7'],
    ['https://api.test', 'api.test', '/'],
    ['https://api.test?x', 'api.test', '/'],
    ['http://127.0.0.1:8080/a', '127.0.0.1:8080', '/a'],
    ['http://a.test:80/', 'a.test', '/'],
    ['https://a.test:443/', 'a.test', '/'],
    ['https://a.test:80/', 'a.test:80', '/'],
    ["http://a.test/a%20b/c:d@e/!$&'()*+,;=", 'a.test', "/a%20b/c:d@e/!$&'()*+,;="],
  ])('%s → host %s, path %s (as URL has them)', (text, host, path) => {
    expect(splitUrl(text)).toEqual({ host, path });
    expect(new URL(text).host).toBe(host);
    expect(new URL(text).pathname).toBe(path);
  });

  it.each([
    'HTTP://a.test/',
    'http://A.test/',
    'http://user@a.test/',
    'http://[::1]/',
    'http://127.1/',
    'http://0x7f.0.0.1/',
    'http://a.test:0080/',
    'http://a.test:/',
    'http://xn--nxasmq6b.test/',
    'http://a.test/x/../y',
    'http://a.test/%2e/y',
    'http://a.test/a b',
    'http://a.test\\x',
    'ftp://a.test/',
    '/relative',
  ])('leaves %j to new URL()', (text) => {
    expect(splitUrl(text)).toBeUndefined();
  });

  it('agrees with new URL() whenever it answers', () => {
    const chars = 'abcAZ09.-_:@/?#%2e\\[] x'.split('');
    const tail = fc.array(fc.constantFrom(...chars), { maxLength: 24 }).map((a) => a.join(''));
    const prefix = fc.constantFrom('http://', 'https://', 'http://a.test', 'https://127.0.0.1:', 'http://1.2.3.');
    fc.assert(
      fc.property(prefix, tail, (p, t) => {
        const text = p + t;
        const quick = splitUrl(text);
        if (quick === undefined) return;
        const url = new URL(text);
        expect(quick).toEqual({ host: url.host, path: url.pathname });
      }),
      { numRuns: 20_000 },
    );
  });
});
