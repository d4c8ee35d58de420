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
   * Calls waiting for a slot now, exact: read from the policy when `watched`, else counted from its
   * events (each `bulkhead.queued` adds one, each `bulkhead.dequeued` takes one away; summed over
   * the instances that share the name, as `createFetch` builds one bulkhead per host).
   */
  queued: number;
  /** The highest `queued` seen. */
  maxQueued: number;
  /** Calls running now; only for a watched policy (no event says when a call starts or ends). */
  executing?: number;
  /** Read from the live policy (`metrics.watch`) whenever the sink is read: `executing` is present. */
  watched: boolean;
}

/**
 * A bulkhead's gauges: its queue, running calls and adaptive limit. Events keep the queue exact (a
 * bulkhead announces every call that starts waiting and every waiter that leaves, however it
 * leaves) but say nothing about running calls; watched handles (`metrics.watch`) give both, read
 * when the sink is read.
 */
export class SlotGauges {
  /** From events: waiters that queued less those that left; undefined before the first. */
  #queued: number | undefined = undefined;
  #maxQueued = 0;
  /** From events: the last `limit.changed`. */
  #limit: number | undefined = undefined;
  #handles: WatchedSlots[] | undefined = undefined;

  /** `bulkhead.queued`: a call started waiting. */
  enqueued(): void {
    const queued = (this.#queued ?? 0) + 1;
    this.#queued = queued;
    if (queued > this.#maxQueued) this.#maxQueued = queued;
  }

  /**
   * `bulkhead.dequeued`: a waiter left (let in, aborted or timed out). Never below 0, should the
   * sink not have seen it arrive.
   */
  dequeued(): void {
    const queued = this.#queued;
    this.#queued = queued !== undefined && queued > 0 ? queued - 1 : 0;
  }

  /** Waiters counted from events, to carry over a `reset()`: they will still leave. */
  get waiting(): number {
    return this.#queued ?? 0;
  }

  /** After a `reset()`: `queued` calls were waiting, as counted before it. */
  carry(queued: number): void {
    this.#queued = queued;
    if (queued > this.#maxQueued) this.#maxQueued = queued;
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

  /** Calls waiting now: the watched handles' sum, else as counted from events; undefined when neither tells. */
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
