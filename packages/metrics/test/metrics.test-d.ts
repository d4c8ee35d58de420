import type { Meter } from '@opentelemetry/api';
import type { BulkheadPolicy, ConcurrencyLimitPolicy } from '@palisade/bulkhead';
import type { CircuitBreakerPolicy } from '@palisade/circuit-breaker';
import type { EventListener, PolicyOptions } from '@palisade/core';
import type { RequestHandler } from 'express';
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { expectTypeOf } from 'vitest';
import {
  type DashboardHandler,
  type HttpHandler,
  type Metrics,
  type MetricsSnapshot,
  type OpenTelemetryMeter,
  type PromClientRegistry,
  type WatchedSlots,
  createMetrics,
  dashboard,
  prometheusHandler,
  registerPrometheus,
} from '../src/index.js';

const metrics = createMetrics();
expectTypeOf(metrics).toEqualTypeOf<Metrics>();
expectTypeOf(metrics.onEvent).toEqualTypeOf<EventListener>();
expectTypeOf(metrics.onEvent).toExtend<NonNullable<PolicyOptions['onEvent']>>();
expectTypeOf(metrics.snapshot()).toEqualTypeOf<MetricsSnapshot>();
createMetrics({ historyMs: '10m', resolutionMs: '5s', buckets: [5, 50, 500] });

// watch() takes the handles of bulkhead() and concurrencyLimit() as they are, and nothing without slots.
expectTypeOf<BulkheadPolicy>().toExtend<WatchedSlots>();
expectTypeOf<ConcurrencyLimitPolicy>().toExtend<WatchedSlots>();
declare const pool: BulkheadPolicy;
expectTypeOf(metrics.watch(pool)).toEqualTypeOf<() => void>();
declare const breaker: CircuitBreakerPolicy;
// @ts-expect-error a breaker has no slots to read
metrics.watch(breaker);
// @ts-expect-error not a duration
createMetrics({ historyMs: '10 minutes' });

// Any OpenTelemetry Meter and any prom-client Registry fit the structural types.
expectTypeOf<Meter>().toExtend<OpenTelemetryMeter>();
expectTypeOf<Registry>().toExtend<PromClientRegistry>();
declare const meter: Meter;
createMetrics({ meter });
declare const registry: Registry;
expectTypeOf(registerPrometheus({ metrics, registry })).toEqualTypeOf<() => void>();

// One handler for node:http, Express and fetch-style runtimes.
const handler = prometheusHandler({ metrics });
expectTypeOf(handler).toEqualTypeOf<HttpHandler>();
expectTypeOf(handler).toExtend<http.RequestListener>();
expectTypeOf(handler).toExtend<RequestHandler>();
expectTypeOf(handler.fetch).toExtend<(request: Request) => Response | Promise<Response>>();
const dash = dashboard({ metrics });
expectTypeOf(dash).toEqualTypeOf<DashboardHandler>();
expectTypeOf(dash).toExtend<http.RequestListener>();
expectTypeOf(dash).toExtend<RequestHandler>();
// @ts-expect-error metrics is required
dashboard({});
