/**
 * A bulkhead's or concurrency limit's live handle, as `metrics.watch()` reads it: what
 * `bulkhead()` and `concurrencyLimit()` of `@palisade/bulkhead` return.
 */
export interface WatchedSlots {
  /** The instance name, as its events carry it. */
  readonly name: string;
  /** Calls running now. */
  readonly executing: number;
  /** Calls waiting for a slot now. */
  readonly queued: number;
  /** The current limit, for an adaptive `concurrencyLimit()`. */
  readonly limit?: number;
}

/** What a snapshot reports about a bulkhead's slots. */
export interface BulkheadSnapshot {
  /**
   * Calls waiting for a slot. Exact when `watched`. Otherwise an upper bound from events: the depth
   * the last `bulkhead.queued` reported, less the waiters that timed out since — a waiter let in or
   * abandoned by its caller leaves no event.
   */
  queued: number;
  /** The highest depth seen (`bulkhead.queued`, or a watched read). */
  maxQueued: number;
  /** Calls running now; only for a watched policy (no event says when a call starts or ends). */
  executing?: number;
  /** Read from the live policy at snapshot time (`metrics.watch`): `queued` and `executing` are exact. */
  watched: boolean;
}

/**
 * A bulkhead's gauges: its queue, running calls and adaptive limit. Events give an upper bound of
 * the queue (a bulkhead announces a call that starts waiting, with the new depth, and one that
 * times out, but not a waiter let in or abandoned by its caller) and nothing about running calls;
 * watched handles (`metrics.watch`) give both exactly, read when the sink is read.
 */
export class SlotGauges {
  /** From events: the depth last reported, less the waiters that timed out since. */
  #queued: number | undefined = undefined;
  #maxQueued = 0;
  /** From events: the last `limit.changed`. */
  #limit: number | undefined = undefined;
  #handles: WatchedSlots[] | undefined = undefined;

  /** `bulkhead.queued`: a call started waiting; `queued` is the depth now. */
  reported(queued: number): void {
    this.#queued = queued;
    if (queued > this.#maxQueued) this.#maxQueued = queued;
  }

  /** `bulkhead.rejected` with reason `queue-timeout`: a waiter left the queue. */
  timedOut(): void {
    if (this.#queued !== undefined && this.#queued > 0) this.#queued--;
  }

  /** `limit.changed`. */
  limitChanged(limit: number): void {
    this.#limit = limit;
  }

  /** Starts reading `handle`. */
  watch(handle: WatchedSlots): void {
    if (this.#handles === undefined) this.#handles = [handle];
    else this.#handles.push(handle);
  }

  /** Stops reading `handle`; with none left, the gauges come from events again. */
  unwatch(handle: WatchedSlots): void {
    const handles = this.#handles;
    const i = handles === undefined ? -1 : handles.indexOf(handle);
    if (handles === undefined || i < 0) return;
    handles.splice(i, 1);
    if (handles.length === 0) this.#handles = undefined;
  }

  /** Calls waiting now: the watched handles' sum, else the upper bound events give; undefined when neither tells. */
  queued(): number | undefined {
    const handles = this.#handles;
    if (handles === undefined) return this.#queued;
    let queued = 0;
    for (const handle of handles) queued += handle.queued;
    if (queued > this.#maxQueued) this.#maxQueued = queued;
    return queued;
  }

  /** Calls running now: the watched handles' sum; undefined when none is watched. */
  executing(): number | undefined {
    const handles = this.#handles;
    if (handles === undefined) return undefined;
    let executing = 0;
    for (const handle of handles) executing += handle.executing;
    return executing;
  }

  /** The adaptive limit: the watched handles' (summed when several share the name), else the last reported. */
  limit(): number | undefined {
    const handles = this.#handles;
    if (handles === undefined) return this.#limit;
    let limit: number | undefined;
    for (const handle of handles) {
      const value = handle.limit;
      if (typeof value === 'number') limit = (limit ?? 0) + value;
    }
    return limit ?? this.#limit;
  }

  /** The bulkhead part of a snapshot, or undefined when neither events nor a handle tell one. */
  snapshot(): BulkheadSnapshot | undefined {
    const queued = this.queued();
    if (queued === undefined) return undefined;
    const executing = this.executing();
    const snap: BulkheadSnapshot = { queued, maxQueued: this.#maxQueued, watched: executing !== undefined };
    if (executing !== undefined) snap.executing = executing;
    return snap;
  }
}
