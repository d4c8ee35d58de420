import type { Meter } from '@opentelemetry/api';
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
