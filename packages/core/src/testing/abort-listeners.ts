/** How many `abort` (or other) listeners were added to and removed from a signal since counting began. */
export interface ListenerCounts {
  added: number;
  removed: number;
}

/**
 * Counts the listeners added to and removed from `signal` from now on (it wraps the signal's own
 * `addEventListener` and `removeEventListener`), so a test can check that a policy leaves nothing
 * on a caller's signal: `expect(counts.removed).toBe(counts.added)`.
 *
 * @example
 * const controller = new AbortController();
 * const counts = countAbortListeners(controller.signal);
 * await policy.execute(fn, { signal: controller.signal });
 * expect(counts.removed).toBe(counts.added);
 */
export function countAbortListeners(signal: AbortSignal): ListenerCounts {
  const counts: ListenerCounts = { added: 0, removed: 0 };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    counts.added++;
    add(...args);
  }) as typeof add;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    counts.removed++;
    remove(...args);
  }) as typeof remove;
  return counts;
}
