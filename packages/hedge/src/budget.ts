/** The budget's window is this many buckets of {@link BUCKET_MS}: a 10 s sliding window. */
const SLOTS = 10;
/** Width of one bucket, in ms. */
const BUCKET_MS = 1_000;
/** Hedges always allowed per window on top of the percentage (one per second): light traffic can hedge. */
export const BUDGET_RESERVE = SLOTS;

/**
 * Caps hedges as a share of hedgeable calls over a sliding 10 s window, in ten 1 s buckets of
 * counters: recording and checking are O(1), nothing is allocated per call and no timer runs
 * (buckets are expired lazily from the clock time passed in).
 */
export class HedgeBudget {
  readonly #calls = new Float64Array(SLOTS);
  readonly #hedges = new Float64Array(SLOTS);
  #totalCalls = 0;
  #totalHedges = 0;
  /** Index (time / BUCKET_MS) of the newest bucket. */
  #epoch = Number.NEGATIVE_INFINITY;
  readonly #ratio: number;
  readonly #reserve: number;
  /** `100` percent: no budget at all (a call may hedge `maxHedges` times, in any window). */
  readonly #off: boolean;

  /** @param percent hedges allowed per 100 calls; `0` allows none (not even the reserve), `100` any number */
  constructor(percent: number) {
    this.#ratio = percent / 100;
    this.#reserve = percent > 0 ? BUDGET_RESERVE : 0;
    this.#off = percent >= 100;
  }

  /** Calls counted in the window. */
  get calls(): number {
    return this.#totalCalls;
  }

  /** Hedges counted in the window. */
  get hedges(): number {
    return this.#totalHedges;
  }

  /** Counts one hedgeable call at `now` (clock ms); nothing with no budget (100 percent). */
  recordCall(now: number): void {
    if (this.#off) return;
    (this.#calls[this.#slot(now)] as number)++;
    this.#totalCalls++;
  }

  /** Takes one hedge at `now` if the budget allows it; false (and nothing counted) otherwise. */
  tryHedge(now: number): boolean {
    if (this.#off) return true;
    const slot = this.#slot(now);
    if (this.#totalHedges + 1 > this.#totalCalls * this.#ratio + this.#reserve) return false;
    (this.#hedges[slot] as number)++;
    this.#totalHedges++;
    return true;
  }

  /** Expires the buckets that left the window and returns the slot of `now`. */
  #slot(now: number): number {
    const epoch = Math.floor(now / BUCKET_MS);
    if (epoch > this.#epoch) {
      // Clear the buckets between the newest one and now (all of them after a long idle gap).
      const stale = Math.min(epoch - this.#epoch, SLOTS);
      for (let k = 1; k <= stale; k++) {
        const slot = (((epoch - stale + k) % SLOTS) + SLOTS) % SLOTS;
        this.#totalCalls -= this.#calls[slot] as number;
        this.#totalHedges -= this.#hedges[slot] as number;
        this.#calls[slot] = 0;
        this.#hedges[slot] = 0;
      }
      this.#epoch = epoch;
    }
    // A clock that stepped back counts into the newest bucket.
    return ((this.#epoch % SLOTS) + SLOTS) % SLOTS;
  }
}
