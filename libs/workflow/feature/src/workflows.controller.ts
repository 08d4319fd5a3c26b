import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { JsonOnlyGuard, openApiSchema, RateLimit, ZodValidationPipe } from '@ussd/platform-http';
import {
  AddVersionBody,
  CreateWorkflowBody,
  DiffQuery,
  ListWorkflowsQuery,
  RollbackBody,
  SpecValidation,
  UpdateDraftBody,
  VersionParam,
  WorkflowDiff,
  WorkflowIdParam,
  WorkflowPage,
  WorkflowVersionView,
} from './workflow.dto.js';
import { type VersionResult, WorkflowsService } from './workflows.service.js';
import { CurrentIdentity, type Identity, RequireRole } from '@ussd/platform-auth';

const version = openApiSchema(WorkflowVersionView);
const problem = { description: 'application/problem+json' };
const workflowIdParam = new ZodValidationPipe(WorkflowIdParam);
const versionParam = new ZodValidationPipe(VersionParam);

/** Sends a version with its ETag (and a Location for new ones). */
function send(reply: FastifyReply, result: VersionResult, created = false) {
  void reply.header('etag', result.etag);
  if (created) void reply.header('location', `/workflows/${result.view.workflowId}/versions/${result.view.version}`);
  return result.view;
}

@ApiTags('workflows')
@UseGuards(JsonOnlyGuard)
@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Get('schema')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'The JSON Schema of workflow specs' })
  schema() {
    return this.workflows.jsonSchema();
  }

  @Post('validate')
  @RequireRole('viewer')
  @RateLimit('validate')
  @HttpCode(200)
  @ApiOperation({ summary: "Validate a spec without storing it (schema and static checks, and that every secrets.NAME exists in the caller's team; JSON pointers)" })
  @ApiResponse({ status: 200, schema: openApiSchema(SpecValidation) })
  @ApiResponse({ status: 429, description: 'More than RATE_LIMIT_VALIDATE_PER_MINUTE validations a minute with this key (Retry-After)' })
  validate(@Body(new ZodValidationPipe(CreateWorkflowBody.shape.spec)) spec: Record<string, unknown>, @CurrentIdentity() caller: Identity) {
    return this.workflows.validate(spec, caller);
  }

  @Post()
  @RequireRole('editor')
  @ApiOperation({ summary: 'Create a workflow (its version 1, a draft)' })
  @ApiBody({ schema: openApiSchema(CreateWorkflowBody) })
  @ApiResponse({ status: 201, schema: version })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 413, ...problem })
  async create(@Body(new ZodValidationPipe(CreateWorkflowBody)) body: CreateWorkflowBody, @CurrentIdentity() caller: Identity, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.workflows.create(body, caller), true);
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Active workflows (each as its newest version), newest first; offset or cursor pages' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, maximum: 10000 } })
  @ApiQuery({ name: 'cursor', required: false, description: 'page.nextCursor of the previous page' })
  @ApiQuery({ name: 'tags', required: false, description: 'comma-separated' })
  @ApiQuery({ name: 'tagMode', required: false, enum: ['any', 'all'] })
  @ApiQuery({ name: 'environment', required: false })
  @ApiQuery({ name: 'createdBy', required: false })
  @ApiQuery({ name: 'q', required: false, description: 'name contains (case-insensitive)' })
  @ApiResponse({ status: 200, schema: openApiSchema(WorkflowPage) })
  list(@Query(new ZodValidationPipe(ListWorkflowsQuery)) query: ListWorkflowsQuery, @CurrentIdentity() caller: Identity) {
    return this.workflows.list(query, '/workflows', caller);
  }

  @Get(':workflowId')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'The newest version' })
  @ApiParam({ name: 'workflowId', format: 'uuid' })
  @ApiResponse({ status: 200, schema: version })
  @ApiResponse({ status: 404, ...problem })
  async latest(@Param('workflowId', workflowIdParam) workflowId: string, @CurrentIdentity() caller: Identity, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.workflows.getLatest(workflowId, caller));
  }

  @Get(':workflowId/published')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'The newest published version' })
  @ApiResponse({ status: 200, schema: version })
  async latestPublished(@Param('workflowId', workflowIdParam) workflowId: string, @CurrentIdentity() caller: Identity, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.workflows.getLatestPublished(workflowId, caller));
  }

  @Get(':workflowId/versions')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every version, newest first (without specs)' })
  versions(@Param('workflowId', workflowIdParam) workflowId: string, @CurrentIdentity() caller: Identity) {
    return this.workflows.listVersions(workflowId, caller);
  }

  @Post(':workflowId/versions')
  @RequireRole('editor')
  @ApiOperation({ summary: 'Add version N+1; If-Match (ETag of the newest version) guards against lost updates' })
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiBody({ schema: openApiSchema(AddVersionBody) })
  @ApiResponse({ status: 201, schema: version })
  @ApiResponse({ status: 409, ...problem })
  @ApiResponse({ status: 412, ...problem })
  async addVersion(
    @Param('workflowId', workflowIdParam) workflowId: string,
    @Body(new ZodValidationPipe(AddVersionBody)) body: AddVersionBody,
    @CurrentIdentity() caller: Identity,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.workflows.addVersion(workflowId, body, caller, ifMatch), true);
  }

  @Get(':workflowId/versions/:version')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'One version' })
  @ApiResponse({ status: 200, schema: version })
  async version(
    @Param('workflowId', workflowIdParam) workflowId: string,
    @Param('version', versionParam) versionNumber: number,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.workflows.getVersion(workflowId, versionNumber, caller));
  }

  @Patch(':workflowId/versions/:version')
  @RequireRole('editor')
  @ApiOperation({ summary: 'Edit a draft (If-Match required); published versions are immutable (409)' })
  @ApiHeader({ name: 'If-Match', required: true })
  @ApiBody({ schema: openApiSchema(UpdateDraftBody) })
  @ApiResponse({ status: 200, schema: version })
  @ApiResponse({ status: 409, ...problem })
  @ApiResponse({ status: 412, ...problem })
  @ApiResponse({ status: 428, ...problem })
  async updateDraft(
    @Param('workflowId', workflowIdParam) workflowId: string,
    @Param('version', versionParam) versionNumber: number,
    @Body(new ZodValidationPipe(UpdateDraftBody)) body: UpdateDraftBody,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.workflows.updateDraft(workflowId, versionNumber, body, ifMatch, caller));
  }

  @Post(':workflowId/versions/:version/publish')
  @RequireRole('publisher')
  @HttpCode(200)
  @ApiOperation({ summary: 'Publish a version: its spec must validate (400 lists every problem with a JSON pointer)' })
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiResponse({ status: 200, schema: version })
  @ApiResponse({ status: 400, ...problem })
  @ApiResponse({ status: 409, ...problem, description: 'Another active workflow answers one of its USSD codes in that environment' })
  async publish(
    @Param('workflowId', workflowIdParam) workflowId: string,
    @Param('version', versionParam) versionNumber: number,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.workflows.publish(workflowId, versionNumber, ifMatch, caller));
  }

  @Post(':workflowId/rollback')
  @RequireRole('publisher')
  @ApiOperation({ summary: "Roll back: publish an older version's spec as a new version" })
  @ApiBody({ schema: openApiSchema(RollbackBody) })
  @ApiResponse({ status: 201, schema: version })
  @ApiResponse({ status: 409, ...problem, description: 'A version was added meanwhile, or a USSD code is now answered by another workflow' })
  async rollback(
    @Param('workflowId', workflowIdParam) workflowId: string,
    @Body(new ZodValidationPipe(RollbackBody)) body: RollbackBody,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.workflows.rollback(workflowId, body.version, caller), true);
  }

  @Get(':workflowId/diff')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'What changed between two versions (JSON pointer paths)' })
  @ApiQuery({ name: 'from', schema: { type: 'integer' } })
  @ApiQuery({ name: 'to', schema: { type: 'integer' } })
  @ApiResponse({ status: 200, schema: openApiSchema(WorkflowDiff) })
  diff(@Param('workflowId', workflowIdParam) workflowId: string, @CurrentIdentity() caller: Identity, @Query(new ZodValidationPipe(DiffQuery)) query: DiffQuery) {
    return this.workflows.diff(workflowId, query.from, query.to, caller);
  }

  @Post(':workflowId/deactivate')
  @RequireRole('publisher')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deactivate every version (nothing is deleted)' })
  deactivate(@Param('workflowId', workflowIdParam) workflowId: string, @CurrentIdentity() caller: Identity) {
    return this.workflows.setActive(workflowId, false, caller);
  }

  @Post(':workflowId/reactivate')
  @RequireRole('publisher')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reactivate a deactivated workflow' })
  @ApiResponse({ status: 409, ...problem, description: 'Another workflow answers one of its USSD codes meanwhile; it stays inactive' })
  reactivate(@Param('workflowId', workflowIdParam) workflowId: string, @CurrentIdentity() caller: Identity) {
    return this.workflows.setActive(workflowId, true, caller);
  }
}
