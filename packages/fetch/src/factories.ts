import type { SpecFactories } from '@palisade/core';
import { bulkhead } from '@palisade/bulkhead';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { hedge } from '@palisade/hedge';
import { rateLimit } from '@palisade/rate-limit';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';

/** Every pattern a {@link PolicySpec} may name, for `fromSpec`. */
export const FACTORIES: SpecFactories = Object.freeze({ timeout, retry, circuitBreaker, bulkhead, rateLimit, hedge });
