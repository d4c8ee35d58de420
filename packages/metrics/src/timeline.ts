/** The counters a timeline slot keeps, before the latency buckets. */
export const TIMELINE_COLUMNS = Object.freeze(['success', 'failure', 'retry', 'rejected', 'timeout'] as const);

/** One of {@link TIMELINE_COLUMNS}. */
export type TimelineColumn = (typeof TIMELINE_COLUMNS)[number];

/** Index of the first latency bucket in a slot. */
export const LATENCY_OFFSET = TIMELINE_COLUMNS.length;

/**
 * A ring of fixed-width time slots (`resolutionMs` each, `length` of them) counting outcomes and
 * latency buckets over the last `length × resolutionMs`. Writing is O(1) and needs no timer: a slot
 * whose epoch is stale is zeroed when an event lands in it, and readers skip stale slots. This is
 * what gives the dashboard and `snapshot().recent` their "last minutes" without any sampling.
 */
export class Timeline {
  readonly length: number;
  readonly resolutionMs: number;
  /** Cells per slot: the columns, then one per latency bucket. */
  readonly width: number;
  readonly cells: Uint32Array;
  /** Slot number (`floor(time / resolutionMs)`) each ring entry holds, or -1. */
  readonly epochs: Float64Array;

  constructor(length: number, resolutionMs: number, buckets: number) {
    this.length = length;
    this.resolutionMs = resolutionMs;
    this.width = LATENCY_OFFSET + buckets;
    this.cells = new Uint32Array(length * this.width);
    this.epochs = new Float64Array(length).fill(-1);
  }

  /**
   * Counts an event at `time` in `column` (or none, when -1) and, when `bucket` ≥ 0, one latency
   * observation in that bucket. Events older than the ring are dropped.
   */
  add(time: number, column: number, bucket: number): void {
    // Most events land in the slot of the previous one: two comparisons, no division.
    let base = this.#base;
    if (!(time >= this.#from && time < this.#to)) {
      base = this.#locate(time);
      if (base < 0) return;
    }
    const { cells } = this;
    if (column >= 0) cells[base + column] = (cells[base + column] as number) + 1;
    if (bucket >= 0) cells[base + LATENCY_OFFSET + bucket] = (cells[base + LATENCY_OFFSET + bucket] as number) + 1;
  }

  #from = Number.POSITIVE_INFINITY;
  #to = Number.NEGATIVE_INFINITY;
  #base = 0;

  /** Finds (and recycles, when stale) the ring entry of `time`; -1 when it is older than the ring. */
  #locate(time: number): number {
    const epoch = Math.floor(time / this.resolutionMs);
    const index = epoch % this.length;
    const held = this.epochs[index] as number;
    if (held !== epoch) {
      if (held > epoch) return -1;
      this.epochs[index] = epoch;
      this.cells.fill(0, index * this.width, (index + 1) * this.width);
    }
    this.#from = epoch * this.resolutionMs;
    this.#to = this.#from + this.resolutionMs;
    this.#base = index * this.width;
    return this.#base;
  }

  /** The slot number that holds `time`. */
  epochOf(time: number): number {
    return Math.floor(time / this.resolutionMs);
  }

  /**
   * Adds the cells of slots `from..to` (inclusive slot numbers) into `into` (length `width`),
   * skipping slots the ring no longer (or never) held. Returns `into`.
   */
  sum(from: number, to: number, into: Float64Array): Float64Array {
    const start = Math.max(from, to - this.length + 1);
    for (let epoch = start; epoch <= to; epoch++) {
      const index = epoch % this.length;
      if (this.epochs[index] !== epoch) continue;
      const base = index * this.width;
      for (let i = 0; i < this.width; i++) into[i] = (into[i] as number) + (this.cells[base + i] as number);
    }
    return into;
  }

  reset(): void {
    this.cells.fill(0);
    this.epochs.fill(-1);
    this.#from = Number.POSITIVE_INFINITY;
    this.#to = Number.NEGATIVE_INFINITY;
  }
}
