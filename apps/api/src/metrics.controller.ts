import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Registry } from 'prom-client';
import { Public } from '@ussd/platform-auth';
import { InjectMetrics } from '@ussd/platform-http';

/**
 * `GET /metrics`: the api's Prometheus registry (refused gateway callbacks, rate-limit refusals;
 * more as features add theirs). Public like the log-ingester's: counts only, no ids, no phone
 * numbers, and it is meant to be reachable on the internal network only (docs/security.md).
 */
@ApiTags('operations')
@Public('Prometheus scrapes it on the internal network; counts only')
@Controller()
export class MetricsController {
  constructor(@InjectMetrics() private readonly registry: Registry) {}

  /** Prometheus text format. Takes no parameters (a query string is refused, 400). */
  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics of this replica (text format)' })
  @ApiProduces('text/plain')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
