// opossum 9 ships no types: the little of its API the breaker benchmark uses.
declare module 'opossum' {
  interface CircuitBreakerOptions {
    timeout?: number | false;
    errorThresholdPercentage?: number;
    resetTimeout?: number;
  }
  class CircuitBreaker<R = unknown> {
    constructor(action: (...args: unknown[]) => Promise<R> | R, options?: CircuitBreakerOptions);
    fire(...args: unknown[]): Promise<R>;
    shutdown(): void;
  }
  export default CircuitBreaker;
}
