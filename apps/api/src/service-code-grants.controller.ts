import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { auditActor, CurrentIdentity, GRANT_PATTERN, GrantTeamNotFoundError, type Identity, RequireRole, type ServiceCodeGrant, ServiceCodeGrants, TEAM_NAME } from '@ussd/platform-auth';
import { JsonOnlyGuard, openApiSchema, ProblemException, ZodValidationPipe } from '@ussd/platform-http';

const PATTERN_RULE = 'an exact service code like *384*12# or a prefix ending in * like *384* (or * for every code)';
const TeamParam = z.string().regex(TEAM_NAME, 'a team name: 1-63 lower-case letters, digits and dashes');
const PatternParam = z.string().max(64).regex(GRANT_PATTERN, PATTERN_RULE);
const GrantBody = z.strictObject({ pattern: PatternParam });
const GrantView = z.object({ team: z.string(), pattern: z.string(), createdBy: z.string(), createdAt: z.string() });
const problem = { description: 'application/problem+json' };

function view(grant: ServiceCodeGrant) {
  return { team: grant.team, pattern: grant.pattern, createdBy: grant.createdBy, createdAt: grant.createdAt.toISOString() };
}

function teamNotFound(team: string): ProblemException {
  return new ProblemException({ type: 'urn:problem:team:not-found', title: 'Team not found', status: 404, detail: `No team ${team}; create it with \`npm run cli -- teams create ${team}\`.` });
}

/** Which USSD service codes each team may claim (docs/security.md, "Service-code grants"). Admins only. */
@ApiTags('service-code grants')
@UseGuards(JsonOnlyGuard)
@Controller('teams/:team/service-codes')
export class ServiceCodeGrantsController {
  constructor(@Inject(ServiceCodeGrants) private readonly grants: ServiceCodeGrants) {}

  @Get()
  @RequireRole('admin')
  @ApiOperation({ summary: "A team's service-code grants (exact codes and prefixes)" })
  @ApiParam({ name: 'team' })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { items: { type: 'array', items: openApiSchema(GrantView) } } } })
  @ApiResponse({ status: 404, ...problem })
  async list(@Param('team', new ZodValidationPipe(TeamParam)) team: string) {
    try {
      return { items: (await this.grants.list(team)).map(view) };
    } catch (error) {
      if (error instanceof GrantTeamNotFoundError) throw teamNotFound(team);
      throw error;
    }
  }

  @Post()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Grant a service code or prefix to a team (201; 200 when it already holds it)' })
  @ApiParam({ name: 'team' })
  @ApiBody({ schema: openApiSchema(GrantBody) })
  @ApiResponse({ status: 201, schema: openApiSchema(GrantView) })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 404, ...problem })
  async add(
    @Param('team', new ZodValidationPipe(TeamParam)) team: string,
    @Body(new ZodValidationPipe(GrantBody)) body: z.output<typeof GrantBody>,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    try {
      const { added, grant } = await this.grants.add(team, body.pattern, auditActor(caller));
      void reply.status(added ? 201 : 200);
      return view(grant);
    } catch (error) {
      if (error instanceof GrantTeamNotFoundError) throw teamNotFound(team);
      throw error;
    }
  }

  @Delete(':pattern')
  @RequireRole('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a grant; the pattern URL-encoded (# is %23). Published workflows keep their codes until they publish again' })
  @ApiParam({ name: 'team' })
  @ApiParam({ name: 'pattern', description: 'URL-encoded: *384*12# is %2A384%2A12%23 (or *384*12%23)' })
  @ApiResponse({ status: 204, description: 'removed' })
  @ApiResponse({ status: 404, ...problem, description: 'no such team, or the team holds no such grant' })
  async remove(
    @Param('team', new ZodValidationPipe(TeamParam)) team: string,
    @Param('pattern', new ZodValidationPipe(PatternParam)) pattern: string,
    @CurrentIdentity() caller: Identity,
  ): Promise<void> {
    let removed: boolean;
    try {
      removed = await this.grants.remove(team, pattern, auditActor(caller));
    } catch (error) {
      if (error instanceof GrantTeamNotFoundError) throw teamNotFound(team);
      throw error;
    }
    if (!removed) {
      throw new ProblemException({ type: 'urn:problem:grant:not-found', title: 'Grant not found', status: 404, detail: `Team ${team} holds no grant ${pattern}; list them with GET /teams/${team}/service-codes.` });
    }
  }
}
