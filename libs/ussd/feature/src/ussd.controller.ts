import { type ArgumentsHost, Body, Catch, Controller, type ExceptionFilter, Headers, HttpCode, Param, Post, Res, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemDetailsFilter, ProblemException, ValidationProblem } from '@ussd/platform-http';
import { InjectLogger, type Logger } from '@ussd/platform-logging';
import { gatewayAdapter, USSD_GATEWAY_ADAPTERS, type RenderedReply, type UssdGatewayAdapter } from '@ussd/ussd-domain';
import { USSD_MESSAGES, UssdHopService } from './ussd-hop.service.js';
import { Public } from '@ussd/platform-auth';

function unknownGateway(name: string): ProblemException {
  return new ProblemException({ type: 'about:blank', title: 'Unknown USSD gateway', status: 404, detail: `No gateway '${name.slice(0, 64)}'; use one of ${USSD_GATEWAY_ADAPTERS.map((a) => a.name).join(', ')}.` });
}

/**
 * What the platform refuses before the handler runs (a query string: the gateways send none,
 * so `?anything` is KnownQueryGuard's 400) is answered like a request the adapter refuses:
 * 400 with an END in the gateway's format, which the gateway can show. An unknown gateway
 * name stays the 404 problem document.
 */
@Catch(ValidationProblem)
export class GatewayRequestFilter implements ExceptionFilter {
  constructor(@InjectLogger() private readonly logger: Logger) {}

  catch(problem: ValidationProblem, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const name = String((http.getRequest<FastifyRequest>().params as { gateway?: unknown } | undefined)?.gateway ?? '');
    const adapter = gatewayAdapter(name);
    if (adapter === undefined) return new ProblemDetailsFilter(this.logger).catch(unknownGateway(name), host);
    this.logger.info({ gateway: adapter.name, problems: problem.problem.errors }, 'USSD request refused');
    const rendered = adapter.render({ kind: 'end', text: USSD_MESSAGES.malformed }, null);
    void http.getResponse<FastifyReply>().status(400).header('content-type', rendered.contentType).header('cache-control', 'no-store').send(rendered.body);
  }
}

/**
 * The gateways' callback URL: `POST /ussd/{gateway}` (`africastalking`, `hubtel`). Hops and
 * end-of-session notices arrive here in the gateway's own format and are answered in it:
 * always a body the gateway can show (an `END` with a polite message when anything is wrong,
 * a query string included), never a problem document, except for an unknown gateway name (404).
 */
@ApiTags('ussd')
@UseFilters(GatewayRequestFilter)
@Public('gateways call it; they are authenticated by the gateway rules in docs/security.md, not by API keys')
@Controller('ussd')
export class UssdController {
  constructor(
    private readonly hops: UssdHopService,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  @Post(':gateway')
  @HttpCode(200)
  @ApiOperation({ summary: "A gateway's hop or end-of-session notice, answered in the gateway's format" })
  @ApiParam({ name: 'gateway', enum: USSD_GATEWAY_ADAPTERS.map((adapter) => adapter.name) })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiProduces('text/plain', 'application/json')
  @ApiResponse({ status: 200, description: "The reply (Africa's Talking: `CON …` / `END …`)" })
  @ApiResponse({ status: 400, description: "A request the gateway adapter refuses, or any query string, answered with an END in the gateway's format" })
  @ApiResponse({ status: 404, description: 'No such gateway' })
  async receive(
    @Param('gateway') name: string,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const adapter = gatewayAdapter(name);
    if (adapter === undefined) throw unknownGateway(name);
    if (!accepts(adapter, contentType)) {
      return send(reply, 415, adapter.render({ kind: 'end', text: USSD_MESSAGES.malformed }, null));
    }
    const parsed = adapter.parse(body);
    if (!parsed.ok) {
      this.logger.info({ gateway: adapter.name, problems: parsed.problems }, 'USSD request refused');
      return send(reply, 400, adapter.render({ kind: 'end', text: USSD_MESSAGES.malformed }, null));
    }
    const request = parsed.request;
    if (request.type === 'ended') {
      await this.hops.ended(request);
      return send(reply, 200, adapter.renderEndedAck(request));
    }
    return send(reply, 200, adapter.render(await this.hops.hop(request, adapter.name), request));
  }
}

function accepts(adapter: UssdGatewayAdapter, contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return adapter.contentTypes.some((accepted) => accepted.toLowerCase() === type);
}

function send(reply: FastifyReply, status: number, rendered: RenderedReply): string {
  void reply.status(status).header('content-type', rendered.contentType).header('cache-control', 'no-store');
  return rendered.body;
}
