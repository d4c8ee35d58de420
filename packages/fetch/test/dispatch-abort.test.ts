// AttemptDispatcher against a stand-in for undici: a `fetch` that dispatches through `init.dispatcher`
// the way Node's does, with handlers of both of undici's handler APIs. What real undici does with it
// (sockets closed, requests never written) is in integration.test.ts.
import { TimeoutError, createContext } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { AttemptDispatcher, type Dispatcher } from '../src/dispatch-abort.js';

type Headers_ = Record<string, string> | string[] | Iterable<[string, string]> | null | undefined;

/** A base dispatcher that records what it is given. */
function recorder() {
  const seen: { headers: Headers_; handler: Record<string, unknown> }[] = [];
  const base: Dispatcher = {
    dispatch(options, handler) {
      seen.push({ headers: (options as { headers?: Headers_ }).headers, handler: handler as Record<string, unknown> });
      return true;
    },
  };
  return { base, seen };
}

/**
 * A `fetch` that dispatches like undici's and resolves when `respond()` is called; `connect()`
 * plays undici writing the request (legacy API: `onConnect(abort)`, failed with `onError`; new API:
 * `onRequestStart`; `'fetch'`: the legacy API as undici's own fetch handler has it, keeping `abort`
 * on itself). With `later`, it dispatches a microtask after it is called, as undici does.
 */
function fakeUndici(api: 'legacy' | 'controller' | 'fetch' = 'legacy', later = false) {
  const aborted: unknown[] = [];
  let connect: () => void = () => {};
  let respond: () => void = () => {};
  let fail: () => void = () => {};
  const fetchFn = ((_input: unknown, init?: { dispatcher?: Dispatcher; headers?: Headers_ }) =>
    new Promise<Response>((resolve, reject) => {
      const onError = (error: Error) => reject(new TypeError('fetch failed', { cause: error }));
      const handler: {
        abort?: ((e: Error) => void) | null;
        onConnect?: (abort: (e: Error) => void) => void;
        onRequestStart?: (c: { abort(e: Error): void }) => void;
        onError?: (e: Error) => void;
      } =
        api === 'legacy'
          ? { onConnect: (_abort: (e: Error) => void) => {}, onError }
          : api === 'fetch'
            ? {
                abort: null,
                onConnect(abort: (e: Error) => void) {
                  this.abort = abort;
                },
                onError,
              }
            : { onRequestStart: (_controller: { abort(e: Error): void }) => {} };
      respond = () => resolve(new Response('ok'));
      fail = () => reject(new TypeError('fetch failed'));
      // undici's own `abort`: the request ends, and undici fails its handler.
      const abort = (error: Error) => {
        aborted.push(error);
        if (handler.onError) handler.onError(error);
        else reject(new TypeError('fetch failed', { cause: error }));
      };
      connect = () => {
        if (api === 'controller') handler.onRequestStart?.({ abort });
        else handler.onConnect?.(abort);
      };
      const dispatch = () => init?.dispatcher?.dispatch({ headers: { accept: '*/*' } }, handler);
      if (later) queueMicrotask(dispatch);
      else dispatch();
    })) as unknown as typeof fetch;
  return { fetchFn, aborted, connect: () => connect(), respond: () => respond(), fail: () => fail() };
}

describe('AttemptDispatcher', () => {
  it('adds its header to every form the Dispatcher API takes headers in', () => {
    const shapes: Headers_[] = [{ a: '1' }, ['a', '1'], new Map([['a', '1']]), null, undefined];
    const { base, seen } = recorder();
    const dispatcher = new AttemptDispatcher(base, createContext(), 'palisade-deadline-ms', '250');
    for (const headers of shapes) dispatcher.dispatch({ headers } as never, {});
    expect(seen.map((s) => s.headers)).toEqual([
      { a: '1', 'palisade-deadline-ms': '250' },
      ['a', '1', 'palisade-deadline-ms', '250'],
      ['a', '1', 'palisade-deadline-ms', '250'],
      { 'palisade-deadline-ms': '250' },
      { 'palisade-deadline-ms': '250' },
    ]);
    const plain = recorder();
    new AttemptDispatcher(plain.base, createContext()).dispatch({ headers: { a: '1' } } as never, {});
    expect(plain.seen[0]?.headers).toEqual({ a: '1' });
  });

  for (const api of ['legacy', 'controller', 'fetch'] as const) {
    it(`${api} handlers: an abort after the request started ends it and rejects at once with the reason`, async () => {
      const undici = fakeUndici(api);
      const ctx = createContext();
      const dispatcher = new AttemptDispatcher({ dispatch: () => true }, ctx);
      const sent = dispatcher.send(undici.fetchFn, 'http://x/', { dispatcher } as RequestInit);
      undici.connect();
      const reason = new TimeoutError(100);
      ctx.abort(reason);
      await expect(sent).rejects.toBe(reason);
      expect(undici.aborted).toEqual([reason]);
    });

    it(`${api} handlers: an abort before the request started fails it${api === 'controller' ? ' as it starts (no onError)' : ' at once'}, and ends it as it starts`, async () => {
      const undici = fakeUndici(api);
      const ctx = createContext();
      const dispatcher = new AttemptDispatcher({ dispatch: () => true }, ctx);
      const sent = dispatcher.send(undici.fetchFn, 'http://x/', { dispatcher } as RequestInit);
      ctx.abort('caller left'); // not an Error: undici is handed an AbortError instead
      if (api !== 'controller') await expect(sent).rejects.toBe('caller left');
      expect(undici.aborted).toEqual([]);
      undici.connect();
      expect(undici.aborted).toHaveLength(1);
      expect((undici.aborted[0] as DOMException).name).toBe('AbortError');
      await expect(sent).rejects.toBe('caller left');
    });
  }

  it('an abort after the request failed does not reach it', async () => {
    const undici = fakeUndici('fetch');
    const ctx = createContext();
    const dispatcher = new AttemptDispatcher({ dispatch: () => true }, ctx);
    const sent = dispatcher.send(undici.fetchFn, 'http://x/', { dispatcher } as RequestInit);
    undici.connect();
    undici.fail();
    await expect(sent).rejects.toThrow('fetch failed');
    // A timeout firing later (in a retry's backoff, say) while the attempt's Context is still in use.
    ctx.abort(new TimeoutError(100));
    expect(undici.aborted).toEqual([]);
  });

  it('an abort before undici dispatches fails the request there, never passing it on', async () => {
    const undici = fakeUndici('fetch', true);
    const ctx = createContext();
    const { base, seen } = recorder();
    const dispatcher = new AttemptDispatcher(base, ctx);
    const sent = dispatcher.send(undici.fetchFn, 'http://x/', { dispatcher } as RequestInit);
    const reason = new Error('caller left');
    ctx.abort(reason);
    await expect(sent).rejects.toBe(reason);
    expect(seen).toEqual([]);
  });

  it('hands the outcome to the fused call it is the work of, in its one reaction', async () => {
    const undici = fakeUndici('fetch');
    const finished: [boolean, unknown][] = [];
    const call = {
      finish: (ok: boolean, result: unknown) => {
        finished.push([ok, result]);
        return 'the call ended';
      },
    };
    const ctx = createContext();
    const dispatcher = new AttemptDispatcher({ dispatch: () => true }, ctx);
    const sent = dispatcher.send(undici.fetchFn, 'http://x/', { dispatcher } as RequestInit, undefined, call);
    undici.connect();
    undici.respond();
    await expect(sent).resolves.toBe('the call ended');
    expect(finished).toHaveLength(1);
    expect(finished[0]?.[0]).toBe(true);
    expect(finished[0]?.[1]).toBeInstanceOf(Response);
    // Aborted: the call finishes with the Context's reason, not fetch's error.
    const aborted = fakeUndici('fetch');
    const ctx2 = createContext();
    const dispatcher2 = new AttemptDispatcher({ dispatch: () => true }, ctx2);
    const sent2 = dispatcher2.send(
      aborted.fetchFn,
      'http://x/',
      { dispatcher: dispatcher2 } as RequestInit,
      undefined,
      call,
    );
    aborted.connect();
    const reason = new TimeoutError(10);
    ctx2.abort(reason);
    await expect(sent2).resolves.toBe('the call ended');
    expect(finished[1]).toEqual([false, reason]);
  });

  it('a Context aborted before the attempt is sent rejects it without waiting', async () => {
    const undici = fakeUndici();
    const ctx = createContext();
    ctx.abort(new Error('already over'));
    const dispatcher = new AttemptDispatcher({ dispatch: () => true }, ctx);
    await expect(dispatcher.send(undici.fetchFn, 'http://x/', { dispatcher } as RequestInit)).rejects.toThrow(
      'already over',
    );
  });

  it('resolves with the response when nothing aborts', async () => {
    const undici = fakeUndici();
    const ctx = createContext();
    const dispatcher = new AttemptDispatcher({ dispatch: () => true }, ctx);
    const sent = dispatcher.send(undici.fetchFn, 'http://x/', { dispatcher } as RequestInit);
    undici.connect();
    undici.respond();
    expect(await ((await sent) as Response).text()).toBe('ok');
    expect(undici.aborted).toEqual([]);
  });
});
