export { hedge } from './hedge.js';
export type { HedgePolicy } from './hedge.js';
export { HEDGE_DEFAULTS, normalizeHedgeOptions } from './options.js';
export type {
  HedgeOptions,
  AdaptiveDelay,
  HedgeInfo,
  NormalizedHedgeOptions,
  NormalizedAdaptiveDelay,
} from './options.js';
