import { describe, expect, it } from 'vitest';
import {
  abortReason,
  callerSignal,
  createContext,
  isAborted,
  offAbort,
  onAbort,
  onContextAbort,
  toContext,
} from '../src/signal.js';

describe('Context signals', () => {
  it('creates no signal until read, and then follows the parent', () => {
    const parent = createContext(undefined);
    const child = createContext(parent, 2);
    expect(child.attempt).toBe(2);
    parent.abort(new Error('stop'));
    expect(child.aborted).toBe(true);
    expect((child.reason as Error).message).toBe('stop');
    expect(child.signal.aborted).toBe(true);
    expect((child.signal.reason as Error).message).toBe('stop');
  });

  it('aborts a child whose signal was already read when the parent aborts later', () => {
    const parent = createContext(undefined);
    const child = createContext(parent);
    const signal = child.signal;
    expect(signal.aborted).toBe(false);
    parent.abort('why');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('why');
  });

  it('follows a caller signal and detaches on dispose', () => {
    const controller = new AbortController();
    const ctx = createContext({ signal: controller.signal });
    expect(callerSignal(ctx)).toBe(controller.signal);
    const signal = ctx.signal;
    ctx.dispose();
    controller.abort('late');
    expect(signal.aborted).toBe(false);
    expect(isAborted(ctx)).toBe(true); // the caller did abort; the detached child just wasn't told
  });

  it('aborting a child never aborts the parent', () => {
    const parent = createContext(undefined);
    const child = createContext(parent);
    child.abort('hedge lost');
    expect(child.signal.aborted).toBe(true);
    expect(parent.aborted).toBe(false);
    expect(parent.signal.aborted).toBe(false);
  });

  it('reads caller options without creating anything', () => {
    const controller = new AbortController();
    expect(isAborted({ signal: controller.signal })).toBe(false);
    controller.abort('r');
    expect(isAborted({ signal: controller.signal })).toBe(true);
    expect(abortReason({ signal: controller.signal })).toBe('r');
    expect(isAborted(undefined)).toBe(false);
    expect(callerSignal(undefined)).toBeUndefined();
  });

  it('toContext hands out the caller signal itself: no listener to leak on a long-lived signal', () => {
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    for (let i = 0; i < 100; i++) expect(toContext({ signal: controller.signal }).signal).toBe(controller.signal);
    expect(listeners).toBe(0);
    const child = createContext(toContext({ signal: controller.signal }));
    const childSignal = child.signal;
    controller.abort('bye');
    expect(childSignal.reason).toBe('bye');
  });

  it('toContext reuses a policy Context and wraps plain options', () => {
    const ctx = createContext({ key: 'k' });
    expect(toContext(ctx)).toBe(ctx);
    const wrapped = toContext({ key: 'k', deadline: 5 });
    expect(wrapped.key).toBe('k');
    expect(wrapped.deadline).toBe(5);
    expect(wrapped.attempt).toBe(1);
  });

  it('links a deep chain in plain JS: one listener on the caller signal, one controller, released on dispose', async () => {
    const { EventEmitter } = await import('node:events');
    const getEventListeners = EventEmitter.getEventListeners;
    const controller = new AbortController();
    const outer = createContext({ signal: controller.signal });
    const middle = createContext(outer);
    const inner = createContext(middle, 2);
    const signal = inner.signal;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    inner.dispose();
    middle.dispose();
    outer.dispose();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort('late');
    expect(signal.aborted).toBe(false);
  });

  it('an abort anywhere above reaches a child whose parents never created a signal', () => {
    const controller = new AbortController();
    const outer = createContext({ signal: controller.signal });
    const middle = createContext(outer);
    const a = createContext(middle).signal;
    const b = createContext(middle).signal;
    middle.abort('timeout');
    expect([a.reason, b.reason]).toEqual(['timeout', 'timeout']);
    const other = createContext(createContext(outer)).signal;
    controller.abort('caller');
    expect(other.reason).toBe('caller');
    expect(createContext(middle).signal.reason).toBe('timeout');
  });

  it('a released child leaves its siblings linked', () => {
    const parent = createContext(undefined);
    const first = createContext(parent);
    const second = createContext(parent);
    const s1 = first.signal;
    const s2 = second.signal;
    first.dispose();
    parent.abort('stop');
    expect(s1.aborted).toBe(false);
    expect(s2.reason).toBe('stop');
  });
  it('a context disposed while the caller abort is being fanned out still gets the caller reason', () => {
    // The fan-out calls a copy of its listener list: one context's abort may dispose another
    // (a stage abandoned by an outer one) before that one's turn comes.
    const caller = new AbortController();
    const first = createContext({ signal: caller.signal });
    const second = createContext({ signal: caller.signal });
    first.signal.addEventListener('abort', () => second.dispose()); // first in the fan-out
    const seen = second.signal; // linked after it, with a controller of its own
    const reason = new Error('caller gave up');
    caller.abort(reason);
    expect(first.reason).toBe(reason);
    expect(seen.aborted).toBe(true);
    expect(seen.reason).toBe(reason);
    expect(second.reason).toBe(reason);
  });
});

describe('onAbort / offAbort', () => {
  it('puts many listeners behind one runtime listener, removed with the last of them', async () => {
    const { EventEmitter } = await import('node:events');
    const getEventListeners = EventEmitter.getEventListeners;
    const controller = new AbortController();
    const { signal } = controller;
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = { handleEvent: () => calls.push('b') };
    onAbort(signal, a);
    onAbort(signal, b);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    offAbort(signal, a);
    offAbort(signal, a); // twice: harmless
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    offAbort(signal, b);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    controller.abort('gone');
    expect(calls).toEqual([]);
  });

  it('calls every listener once, in order, even when one throws; the throw is reported, not swallowed', async () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const boom = new Error('listener failed');
    onAbort(controller.signal, () => calls.push('first'));
    onAbort(controller.signal, () => {
      throw boom;
    });
    onAbort(controller.signal, { handleEvent: () => calls.push('third') });
    const reported = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    controller.abort('gone');
    expect(calls).toEqual(['first', 'third']);
    expect(await reported).toBe(boom);
    controller.abort('again');
    expect(calls).toEqual(['first', 'third']);
  });
});

describe('onContextAbort', () => {
  it("hears the context's own abort, an outer one and the caller's, once each, without a signal", async () => {
    const { EventEmitter } = await import('node:events');
    const controller = new AbortController();
    const outer = createContext({ signal: controller.signal });
    const inner = createContext(createContext(outer), 2);
    const heard: unknown[] = [];
    expect(onContextAbort(inner, () => heard.push(inner.reason))).toBe(true);
    expect(onContextAbort(inner, { handleEvent: () => heard.push('object') })).toBe(true);
    // One runtime listener on the caller's signal for the whole chain, as a read signal would add.
    expect(EventEmitter.getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort('caller left');
    expect(heard).toEqual(['caller left', 'object']);
    inner.abort('again');
    expect(heard).toHaveLength(2);

    const own = createContext(undefined);
    const calls: unknown[] = [];
    onContextAbort(own, () => calls.push(own.reason));
    own.abort('timeout');
    onContextAbort(own, () => calls.push('late')); // already aborted: called at once
    expect(calls).toEqual(['timeout', 'late']);
  });

  it('is dropped with the context: a caller abort after dispose reaches nothing and left no listener', async () => {
    const { EventEmitter } = await import('node:events');
    const controller = new AbortController();
    const outer = createContext({ signal: controller.signal });
    const inner = createContext(outer);
    const heard: unknown[] = [];
    onContextAbort(inner, () => heard.push('inner'));
    inner.dispose();
    outer.dispose();
    expect(EventEmitter.getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort('late');
    expect(heard).toEqual([]);
  });

  it('keeps a listening context linked when its last child lets go', () => {
    const controller = new AbortController();
    const middle = createContext(createContext({ signal: controller.signal }));
    const heard: unknown[] = [];
    onContextAbort(middle, () => heard.push(middle.reason));
    const child = createContext(middle);
    void child.signal;
    child.dispose(); // middle has no child and no signal left, but still a listener
    controller.abort('caller left');
    expect(heard).toEqual(['caller left']);
  });

  it('returns false for a Context that palisade did not make', () => {
    const plain = { attempt: 1, signal: new AbortController().signal };
    expect(onContextAbort(plain, () => {})).toBe(false);
  });
});
