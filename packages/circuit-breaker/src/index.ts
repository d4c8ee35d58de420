export { circuitBreaker } from './circuit-breaker.js';
export type { CircuitBreakerPolicy } from './circuit-breaker.js';
export { CIRCUIT_BREAKER_DEFAULTS, normalizeCircuitBreakerOptions } from './options.js';
export type {
  CircuitBreakerOptions,
  CircuitOutcome,
  NormalizedCircuitBreakerOptions,
  OpenBackoff,
} from './options.js';
export type { CircuitStateName, CircuitBreakerStats, IsolationHandle } from './state.js';
export { keyed, KEYED_DEFAULTS } from './keyed.js';
export type { KeyedOptions, KeyedPolicy } from './keyed.js';
