/**
 * A seeded random source in [0, 1) (mulberry32): pass it wherever a policy takes `random`, or drive
 * a simulation with it, and every run draws the same numbers.
 * @example retry({ backoff: exponential({ jitter: 'full' }), random: seededRandom(42) })
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
