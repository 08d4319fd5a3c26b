import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { type ClosableHttpClient, createHttpClient } from '@ussd/execution-domain';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';

/** The process's one client for `http.request` nodes (a `ClosableHttpClient`). */
export const OUTBOUND_HTTP_CLIENT = Symbol('OUTBOUND_HTTP_CLIENT');

/** Injects the process's outbound HTTP client (`OutboundHttpModule`). */
export const InjectOutboundHttp = (): ParameterDecorator => Inject(OUTBOUND_HTTP_CLIENT);

/** Bound on TCP (and TLS) set-up of one outbound connection. */
const CONNECT_TIMEOUT_MS = 5000;

@Injectable()
class CloseOutboundHttpOnShutdown implements OnApplicationShutdown {
  constructor(@Inject(OUTBOUND_HTTP_CLIENT) private readonly http: ClosableHttpClient) {}

  /** After beforeApplicationShutdown, where the engines' work drained (EventProducers): nothing calls out any more. */
  onApplicationShutdown(): void {
    this.http.close();
  }
}

/**
 * The composition root of outbound HTTP: ONE client, built from the configuration, that every
 * engine in the process uses (the execution runner and the USSD hop service both inject it).
 * One keep-alive pool, one address policy (public addresses only, plus HTTP_ALLOWED_HOSTS),
 * one response cap (HTTP_RESPONSE_MAX_BYTES). docs/security.md, "Outbound HTTP".
 */
@Module({
  providers: [
    {
      provide: OUTBOUND_HTTP_CLIENT,
      inject: [PLATFORM_CONFIG],
      useFactory: (config: PlatformConfig): ClosableHttpClient =>
        createHttpClient({
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          maxResponseBytes: config.outboundHttp.responseMaxBytes,
          allowedHosts: config.outboundHttp.allowedHosts,
        }),
    },
    CloseOutboundHttpOnShutdown,
  ],
  exports: [OUTBOUND_HTTP_CLIENT],
})
export class OutboundHttpModule {}
