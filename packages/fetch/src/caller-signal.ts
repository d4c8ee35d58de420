/**
 * An attempt's view of the caller's signal: a fresh AbortController that the caller's signal
 * aborts, for as long as the controller's signal lives. fetch is handed the relay's signal (on
 * Node's fetch, from a signal's second call on: see {@link attemptSignal}), so that the caller's
 * signal keeps no trace of the calls made with it:
 *
 * - undici adds a listener to the signal of every Request and removes it only when the Request
 *   is garbage collected: a long-lived caller signal (a shutdown signal passed to every call)
 *   gathers thousands between collections, and Node warns of a leak past 1 500;
 * - Node 20's `AbortSignal.any` records every signal joined to a source on the source itself, and
 *   never forgets it while the source lives: through `createFetch`, the heap grew by 40-160 bytes
 *   a call (test/signal-relay.test.ts).
 *
 * Here the caller's signal carries one listener for all its relays (core's `onAbort`: the same one
 * runtime listener as every palisade policy listening to it), and a relay is held weakly, by its
 * signal: it goes with its Request and the body it feeds, and the listener goes with the last one.
 */
import { offAbort, onAbort } from '@palisade/core';

const relaysOf = new WeakMap<AbortSignal, Relays>();

/**
 * Each relay's controller, by its signal: fetch holds the signal (its Request does, then the body
 * it feeds), never the controller, so the controller must live exactly as long as its signal.
 */
const controllerOf = new WeakMap<AbortSignal, AbortController>();

/** The relays of one caller signal, behind its one `abort` listener. */
class Relays {
  readonly refs = new Set<WeakRef<AbortSignal>>();
  constructor(readonly signal: AbortSignal) {}

  handleEvent(): void {
    const reason = this.signal.reason;
    const refs = [...this.refs];
    this.forget();
    for (const ref of refs) {
      const relayed = ref.deref();
      if (relayed !== undefined) controllerOf.get(relayed)?.abort(reason);
    }
  }

  /** The last relay went (or the signal aborted): take the listener off the caller's signal. */
  forget(): void {
    this.refs.clear();
    offAbort(this.signal, this);
    relaysOf.delete(this.signal);
  }
}

interface Held {
  relays: Relays;
  ref: WeakRef<AbortSignal>;
}

const collected = new FinalizationRegistry<Held>(({ relays, ref }) => {
  if (relays.refs.delete(ref) && relays.refs.size === 0) relays.forget();
});

/** Caller signals handed to Node's fetch as they are, by {@link attemptSignal}: each at most once. */
const handed = new WeakSet<AbortSignal>();

/**
 * The signal to hand Node's `fetch` for an attempt (the dispatcher path, which stops the attempt
 * by other means): the caller's own the first time it goes to `fetch`, as a plain `fetch` would
 * take it (undici's one listener on it goes with the Request), a {@link relay} every time after.
 * So a signal made for one call (the common case) costs no relay: an AbortController, a WeakRef,
 * a FinalizationRegistry entry and two WeakMap entries, measured at ~12 of the ~42 µs of client
 * CPU palisade's timeout + retry + breaker added to such a request. A long-lived signal still
 * carries one listener of undici's at most (until its first Request is collected) and the
 * relays' one.
 */
export function attemptSignal(caller: AbortSignal): AbortSignal {
  if (handed.has(caller)) return relay(caller).signal;
  handed.add(caller);
  return caller;
}

/** A controller that `caller` aborts (with its reason) while the controller's signal is alive. */
export function relay(caller: AbortSignal): AbortController {
  const controller = new AbortController();
  if (caller.aborted) {
    controller.abort(caller.reason);
    return controller;
  }
  let relays = relaysOf.get(caller);
  if (relays === undefined) {
    relays = new Relays(caller);
    relaysOf.set(caller, relays);
    onAbort(caller, relays);
  }
  const { signal } = controller;
  controllerOf.set(signal, controller);
  const ref = new WeakRef(signal);
  relays.refs.add(ref);
  collected.register(signal, { relays, ref });
  return controller;
}
