import { type ArgumentsHost, Body, Catch, Controller, type ExceptionFilter, Headers, HttpCode, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiHeader, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InjectConfig, type PlatformConfig, type UssdGatewayName } from '@ussd/platform-config';
import { ProblemDetailsFilter, ProblemException, RateLimits, RenderFrameworkErrors, type RenderedError, ValidationProblem } from '@ussd/platform-http';
import { InjectLogger, type Logger } from '@ussd/platform-logging';
import { gatewayAdapter, normalizeMsisdn, USSD_GATEWAY_ADAPTERS, type RenderedReply, type UssdGatewayAdapter } from '@ussd/ussd-domain';
import { GatewayAuth } from './gateway-auth.js';
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
 * What Fastify refuses before the handler runs (a body over HTTP_BODY_LIMIT_BYTES: 413; a body
 * it cannot parse: 400) is answered with an END in the gateway's format too, with that status.
 * An unknown gateway name keeps its problem document.
 */
function gatewayFrameworkError(_status: number, request: FastifyRequest): RenderedError | undefined {
  const adapter = gatewayAdapter(String((request.params as { gateway?: unknown } | undefined)?.gateway ?? ''));
  return adapter?.render({ kind: 'end', text: USSD_MESSAGES.malformed }, null);
}

/**
 * The gateways' callback URL: `POST /ussd/{gateway}` (`africastalking`, `hubtel`), or
 * `POST /ussd/{gateway}/{token}` for a gateway that can only put a secret in the URL. Each call is
 * authenticated by its gateway's rules first (GatewayAuth; refused: 401/403 with an END). Hops and
 * end-of-session notices arrive here in the gateway's own format and are answered in it:
 * always a body the gateway can show (an `END` with a polite message when anything is wrong,
 * a query string included), never a problem document, except for an unknown gateway name (404).
 */
@ApiTags('ussd')
@UseFilters(GatewayRequestFilter)
@Public('gateways call it; they are authenticated by the gateway rules (token, signature, source address) in docs/security.md, not by API keys')
@Controller('ussd')
export class UssdController {
  constructor(
    private readonly hops: UssdHopService,
    @Inject(GatewayAuth) private readonly auth: GatewayAuth,
    @Inject(RateLimits) private readonly limits: RateLimits,
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  @Post(':gateway')
  @HttpCode(200)
  @RenderFrameworkErrors(gatewayFrameworkError)
  @ApiOperation({ summary: "A gateway's hop or end-of-session notice, answered in the gateway's format" })
  @ApiParam({ name: 'gateway', enum: USSD_GATEWAY_ADAPTERS.map((adapter) => adapter.name) })
  @ApiHeader({ name: 'X-Gateway-Token', required: false, description: 'The shared secret, where USSD_GATEWAY_<NAME>_TOKEN is set' })
  @ApiHeader({ name: 'X-Gateway-Signature', required: false, description: 'sha256=<hex HMAC-SHA256 of "<X-Gateway-Timestamp>.<body>">, where USSD_GATEWAY_<NAME>_HMAC_SECRET is set' })
  @ApiHeader({ name: 'X-Gateway-Timestamp', required: false, description: 'Unix seconds the signature was made (at most 300 s away)' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiProduces('text/plain', 'application/json')
  @ApiResponse({ status: 200, description: "The reply (Africa's Talking: `CON …` / `END …`)" })
  @ApiResponse({ status: 400, description: "A request the gateway adapter refuses, or any query string, answered with an END in the gateway's format" })
  @ApiResponse({ status: 401, description: "A missing or wrong token or signature: an END in the gateway's format (docs/security.md)" })
  @ApiResponse({ status: 403, description: "A source address outside the allowlist, or a gateway with no credential configured in production: an END in the gateway's format" })
  @ApiResponse({ status: 404, description: 'No such gateway' })
  @ApiResponse({ status: 413, description: "A body over HTTP_BODY_LIMIT_BYTES: an END in the gateway's format, sent once the body has been read (docs/ussd.md)" })
  @ApiResponse({ status: 429, description: "Too many hops from one phone number: an END in the gateway's format, with Retry-After" })
  async receive(
    @Param('gateway') name: string,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return this.answer(name, undefined, contentType, body, request, reply);
  }

  @Post(':gateway/:token')
  @HttpCode(200)
  @RenderFrameworkErrors(gatewayFrameworkError)
  @ApiOperation({ summary: 'The same, for a gateway that cannot send headers: the shared secret is the last path segment (never logged)' })
  @ApiParam({ name: 'gateway', enum: USSD_GATEWAY_ADAPTERS.map((adapter) => adapter.name) })
  @ApiParam({ name: 'token', description: 'One of USSD_GATEWAY_<NAME>_TOKEN' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiProduces('text/plain', 'application/json')
  @ApiResponse({ status: 200, description: "The reply (Africa's Talking: `CON …` / `END …`)" })
  @ApiResponse({ status: 401, description: "A wrong path token: an END in the gateway's format" })
  @ApiResponse({ status: 413, description: "A body over HTTP_BODY_LIMIT_BYTES: an END in the gateway's format" })
  async receiveWithPathToken(
    @Param('gateway') name: string,
    @Param('token') token: string,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return this.answer(name, token, contentType, body, request, reply);
  }

  private async answer(name: string, pathToken: string | undefined, contentType: string | undefined, body: unknown, request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const adapter = gatewayAdapter(name);
    if (adapter === undefined) throw unknownGateway(name);
    // Authenticated before anything is read: a refused callback reaches no session and no workflow.
    const verdict = await this.auth.check(adapter.name as UssdGatewayName, {
      ip: request.ip,
      tokenHeader: header(request, 'x-gateway-token'),
      pathToken,
      signature: header(request, 'x-gateway-signature'),
      timestamp: header(request, 'x-gateway-timestamp'),
      rawBody: (request as FastifyRequest & { rawBody?: Buffer }).rawBody,
    });
    if (!verdict.ok) return send(reply, verdict.status, adapter.render({ kind: 'end', text: USSD_MESSAGES.refused }, null));
    if (!accepts(adapter, contentType)) {
      return send(reply, 415, adapter.render({ kind: 'end', text: USSD_MESSAGES.malformed }, null));
    }
    const parsed = adapter.parse(body);
    if (!parsed.ok) {
      this.logger.info({ gateway: adapter.name, problems: parsed.problems }, 'USSD request refused');
      return send(reply, 400, adapter.render({ kind: 'end', text: USSD_MESSAGES.malformed }, null));
    }
    const hop = parsed.request;
    if (hop.type === 'ended') {
      await this.hops.ended(hop);
      return send(reply, 200, adapter.renderEndedAck(hop));
    }
    // Per phone number, whichever gateway carries it: the normalised number when it reads as one.
    const phone = normalizeMsisdn(hop.phoneNumber, this.config.ussd.defaultCountry);
    const limit = await this.limits.consume('msisdn', phone.ok ? phone.e164 : hop.phoneNumber);
    if (!limit.allowed) {
      this.logger.info({ gateway: adapter.name, sessionId: hop.sessionId, retryAfterSeconds: limit.retryAfterSeconds }, 'USSD hop refused: too many hops from one phone number');
      void reply.header('retry-after', String(limit.retryAfterSeconds));
      return send(reply, 429, adapter.render({ kind: 'end', text: USSD_MESSAGES.tooManyHops }, hop));
    }
    return send(reply, 200, adapter.render(await this.hops.hop(hop, adapter.name), hop));
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function accepts(adapter: UssdGatewayAdapter, contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return adapter.contentTypes.some((accepted) => accepted.toLowerCase() === type);
}

function send(reply: FastifyReply, status: number, rendered: RenderedReply): string {
  void reply.status(status).header('content-type', rendered.contentType).header('cache-control', 'no-store');
  return rendered.body;
}
