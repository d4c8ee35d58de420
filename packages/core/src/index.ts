export type { Context, ExecuteOptions, Policy, PolicyOptions, PolicyBase } from './policy.js';
export { resolvePolicyOptions } from './policy.js';
export { pipeline, executeWith } from './pipeline.js';
export type { PipelinePolicy } from './pipeline.js';
export { FUSE, Refusal, isFusable } from './fuse.js';
export type { FusablePolicy, FusedOutcome, FusedStage, FusedWork, Settler } from './fuse.js';
export { noop, invoke } from './noop.js';
export { fallback, FALLBACK_DEFAULTS } from './fallback.js';
export type { FallbackOptions, FallbackInfo } from './fallback.js';
export {
  ResilienceError,
  TimeoutError,
  DeadlineExceededError,
  BrokenCircuitError,
  BulkheadRejectedError,
  RateLimitedError,
  RetryBudgetExhaustedError,
  isResilienceError,
  isRejection,
} from './errors.js';
export type { ResilienceErrorCode, ResilienceErrorOptions, RateLimitInfo } from './errors.js';
export { createEmitter, combineListeners } from './events.js';
export { reportCallbackError } from './report.js';
export type {
  ResilienceEvent,
  ResilienceEventType,
  ResilienceEventMap,
  EventBase,
  EventInit,
  EventListener,
  Emit,
} from './events.js';
export { systemClock, startTimer, MAX_TIMER_DELAY_MS } from './clock.js';
export type { Clock, CancelTimer } from './clock.js';
export { timerQueue } from './timer-queue.js';
export type { TimerQueue, QueuedTimer } from './timer-queue.js';
export { parseDuration, toMilliseconds, describe } from './duration.js';
export type { Duration } from './duration.js';
export { createValidator, optionsObject } from './validate.js';
export type { OptionValidator, NumberBounds } from './validate.js';
export {
  createContext,
  toContext,
  isPolicyContext,
  isAborted,
  abortReason,
  callerSignal,
  onAbort,
  offAbort,
  onContextAbort,
} from './signal.js';
export type { PolicyContext, AbortListener } from './signal.js';
export { fromSpec, SPEC_ORDER } from './spec.js';
export type {
  PolicySpec,
  SpecKey,
  SpecOptions,
  SpecFactory,
  SpecFactoryInput,
  SpecFactories,
  FromSpecOptions,
  JsonValue,
} from './spec.js';
export {
  toHttpResponse,
  rateLimitHeaders,
  retryAfterSeconds,
  normalizeHttpResponseOptions,
  HTTP_RESPONSE_DEFAULTS,
} from './http-response.js';
export type {
  HttpErrorResponse,
  HttpResponseOptions,
  NormalizedHttpResponseOptions,
  ProblemDetails,
  RateLimitHeaderMode,
} from './http-response.js';
export {
  slidingWindow,
  normalizeWindowOptions,
  DEFAULT_WINDOW_BUCKETS,
  MAX_WINDOW_SIZE,
  MAX_WINDOW_BUCKETS,
} from './window.js';
export type { SlidingWindow, SlidingWindowOptions, SlidingWindowSpec } from './window.js';
export { parseRouteKey, compileRoutes } from './route.js';
export type { RouteKey, RouteMatch, RouteMatcher } from './route.js';
export {
  DEADLINE_HEADER,
  MAX_DEADLINE_HEADER_MS,
  formatDeadlineHeader,
  parseDeadlineHeader,
  deadlineHeaderReader,
} from './deadline-header.js';
export { rateLimitedResponse } from './http-response.js';
export {
  INBOUND_DEFAULTS,
  INBOUND_OPTION_KEYS,
  normalizeInboundOptions,
  splitOptions,
  parseClientKey,
  clientAddress,
  failedResponse,
  isFailedResponse,
  normalizeMiddlewareOptions,
} from './http-inbound.js';
export type {
  ClientKey,
  ClientKeyRule,
  InboundOptions,
  NormalizedInboundOptions,
  NormalizedMiddlewareOptions,
  FailedResponseError,
  InboundDeadlineOptions,
  PalisadeRequestInfo,
} from './http-inbound.js';
export { compileInboundRoutes, isAdaptiveConcurrency, inboundConcurrencyLimit } from './inbound-routes.js';
export { inboundRateLimit, requestCost } from './http-rate-limit.js';
export type { InboundRateLimit, InboundRateLimitOptions } from './http-rate-limit.js';
export type {
  InboundSpec,
  InboundFactories,
  InboundRoute,
  InboundRoutesOptions,
  InboundRouteTable,
  InboundRateLimiter,
  InboundRateLimitDecision,
} from './inbound-routes.js';
export { rateLimitedResponder, rateLimitHeaderWriter, serializeHttpResponse } from './http-response.js';
export type { SerializedHttpResponse, HeaderSetter, RateLimitHeaderWriter } from './http-response.js';
