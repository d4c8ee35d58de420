// cockatiel's circuit breaker as the benches measure it, alone and kept per key, and the fetch
// benches' wrap of retry, breaker and timeout.
import {
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  retry,
  timeout,
  wrap,
} from 'cockatiel';

/** cockatiel's breaker in the configuration every bench uses: open after 5 failures in a row, half-open after 10 s. */
export const cockatielBreaker = (): CircuitBreakerPolicy =>
  circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });

/**
 * One breaker per key in a Map, built on a key's first call: how a cockatiel user keeps keyed
 * breakers (cockatiel has no keyed state of its own).
 */
export function cockatielPerKey(): {
  breakers: Map<string, CircuitBreakerPolicy>;
  get(key: string): CircuitBreakerPolicy;
} {
  const breakers = new Map<string, CircuitBreakerPolicy>();
  return {
    breakers,
    get(key) {
      let b = breakers.get(key);
      if (b === undefined) breakers.set(key, (b = cockatielBreaker()));
      return b;
    },
  };
}

/**
 * What the fetch benches compare createFetch's timeout + retry + breaker with: cockatiel's
 * `wrap(retry, breaker, timeout)`, a 10 s cooperative timeout innermost (its signal is what fetch
 * is given).
 */
export const cockatielFetchPolicy = () =>
  wrap(
    retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff() }),
    cockatielBreaker(),
    timeout(10_000, TimeoutStrategy.Cooperative),
  );
