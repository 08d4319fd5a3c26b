import { Global, Inject, Module } from '@nestjs/common';
import { Registry } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** `constructor(@InjectMetrics() registry: Registry)`: the app's Prometheus registry (one per app, so tests can run several). */
export const InjectMetrics = (): ParameterDecorator => Inject(METRICS_REGISTRY);

/**
 * The app's Prometheus registry: features register their counters in it; the api serves it at
 * `GET /metrics` (apps/api/src/metrics.controller.ts).
 */
@Global()
@Module({ providers: [{ provide: METRICS_REGISTRY, useFactory: () => new Registry() }], exports: [METRICS_REGISTRY] })
export class MetricsModule {}
