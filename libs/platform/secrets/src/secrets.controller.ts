import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { actorOf, ApiKeys, CurrentIdentity, type Identity, RequireRole } from '@ussd/platform-auth';
import { JsonOnlyGuard, openApiSchema, ZodValidationPipe } from '@ussd/platform-http';
import { PutSecretBody, SecretList, SecretNameParam, SecretTeamQuery, type SecretView } from './secrets.dto.js';
import { SecretNotFoundException, SecretsTeamNotFoundException, SecretsUnavailableException } from './secrets.exception.js';
import { type SecretRecord, SecretsUnavailableError, TeamSecrets, UnknownTeamError } from './team-secrets.js';

const problem = { description: 'application/problem+json' };
const nameParam = new ZodValidationPipe(SecretNameParam);
const teamQuery = new ZodValidationPipe(SecretTeamQuery);

function view(record: SecretRecord): SecretView {
  return {
    team: record.team,
    name: record.name,
    keyVersion: record.keyVersion,
    createdAt: record.createdAt.toISOString(),
    createdBy: record.createdBy,
    updatedAt: record.updatedAt.toISOString(),
    updatedBy: record.updatedBy,
  };
}

/**
 * Team secrets over HTTP: set, list (names and metadata only) and delete. No route ever answers
 * a value; workflows read them at run time as `secrets.NAME`. A key acts on its own team's
 * secrets; an admin names another team with `?team=`. Another team's answers as a missing one.
 */
@ApiTags('secrets')
@UseGuards(JsonOnlyGuard)
@Controller('secrets')
export class SecretsController {
  constructor(
    private readonly secrets: TeamSecrets,
    private readonly keys: ApiKeys,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: "The team's secrets: names, key version, times and actors (never values); an admin sees every team's, or one with ?team=" })
  @ApiQuery({ name: 'team', required: false })
  @ApiResponse({ status: 200, schema: openApiSchema(SecretList) })
  async list(@Query(teamQuery) query: SecretTeamQuery, @CurrentIdentity() caller: Identity) {
    const team = query.team === undefined ? (caller.role === 'admin' ? undefined : caller.team) : await this.teamFor(caller, query.team);
    return { items: (await this.secrets.list(team)).map(view) };
  }

  @Put(':name')
  @RequireRole('publisher')
  @ApiOperation({ summary: 'Set or replace a secret (201 created, 200 replaced); the answer never holds the value' })
  @ApiParam({ name: 'name', description: 'Upper-case letters, digits and underscores (PAYMENTS_TOKEN)' })
  @ApiQuery({ name: 'team', required: false, description: 'admin only: another team' })
  @ApiBody({ schema: openApiSchema(PutSecretBody) })
  @ApiResponse({ status: 200, schema: openApiSchema(SecretList.shape.items.element) })
  @ApiResponse({ status: 201, schema: openApiSchema(SecretList.shape.items.element) })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 404, ...problem })
  @ApiResponse({ status: 503, ...problem, description: 'No SECRETS_KEYS configured' })
  async put(
    @Param('name', nameParam) name: string,
    @Query(teamQuery) query: SecretTeamQuery,
    @Body(new ZodValidationPipe(PutSecretBody)) body: PutSecretBody,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const team = await this.teamFor(caller, query.team);
    try {
      const { created, record } = await this.secrets.set(team, name, body.value, { actor: actorOf(caller), actorKind: caller.kind });
      void reply.status(created ? 201 : 200);
      return view(record);
    } catch (error) {
      if (error instanceof SecretsUnavailableError) throw new SecretsUnavailableException();
      if (error instanceof UnknownTeamError) throw new SecretsTeamNotFoundException(team);
      throw error;
    }
  }

  @Delete(':name')
  @RequireRole('publisher')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a secret; workflows that use it then fail with secrets.unknown' })
  @ApiQuery({ name: 'team', required: false, description: 'admin only: another team' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, ...problem })
  async delete(@Param('name', nameParam) name: string, @Query(teamQuery) query: SecretTeamQuery, @CurrentIdentity() caller: Identity): Promise<void> {
    const team = await this.teamFor(caller, query.team);
    if (!(await this.secrets.delete(team, name, { actor: actorOf(caller), actorKind: caller.kind }))) throw new SecretNotFoundException(name);
  }

  /** The caller's team, or (admins only) the team it names; anything else is "no such team". */
  private async teamFor(caller: Identity, requested: string | undefined): Promise<string> {
    if (requested === undefined || requested === caller.team) return caller.team;
    if (caller.role !== 'admin' || !(await this.keys.listTeams()).includes(requested)) throw new SecretsTeamNotFoundException(requested);
    return requested;
  }
}
