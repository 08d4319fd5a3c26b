import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { openApiSchema, UuidParam, ZodValidationPipe } from '@ussd/platform-http';
import { ExecutionDetail, ExecutionIdParam, ExecutionPage, ListExecutionsQuery } from './execution.dto.js';
import { ExecutionQueriesService } from './execution-queries.service.js';
import { CurrentIdentity, type Identity, listedTeam, maskPhoneNumbersIn, masksPhoneNumbers, phoneNumbersIn, RequireRole } from '@ussd/platform-auth';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { ExecutionAccess } from './execution-access.service.js';

const listQueries = () => [
  ApiQuery({ name: 'status', required: false, enum: ['queued', 'running', 'completed', 'failed', 'timeout', 'canceled'] }),
  ApiQuery({ name: 'from', required: false, description: 'started at or after (ISO-8601)' }),
  ApiQuery({ name: 'to', required: false, description: 'started at or before (ISO-8601)' }),
  ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }),
  ApiQuery({ name: 'cursor', required: false, description: 'page.nextCursor of the previous page' }),
];

function applyAll(decorators: MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const decorator of decorators) decorator(target, key, descriptor);
  };
}

@ApiTags('executions')
@Controller()
export class ExecutionsController {
  constructor(
    private readonly queries: ExecutionQueriesService,
    private readonly access: ExecutionAccess,
    @InjectConfig() private readonly config: PlatformConfig,
  ) {}

  /**
   * A viewer sees the subscriber's number masked (MASK_PHONE_NUMBERS_FOR_VIEWERS): the phone fields
   * of the trigger payload (`msisdn`, `phoneNumber`, `Mobile`: what a USSD gateway's hop carries),
   * and every occurrence of those numbers in the execution's outputs, errors and node results.
   */
  private shown<T extends { triggerPayload: unknown }>(execution: T, caller: Identity): T {
    if (!masksPhoneNumbers(caller, this.config.privacy.maskPhoneNumbersForViewers)) return execution;
    return maskPhoneNumbersIn(execution, phoneNumbersIn(execution.triggerPayload));
  }

  private shownPage(page: ExecutionPage, caller: Identity): ExecutionPage {
    return masksPhoneNumbers(caller, this.config.privacy.maskPhoneNumbersForViewers) ? { ...page, items: page.items.map((item) => this.shown(item, caller)) } : page;
  }

  @Get('executions/:executionId')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'One execution with its node attempts, ordered by executed_at' })
  @ApiParam({ name: 'executionId', format: 'uuid' })
  @ApiResponse({ status: 200, schema: openApiSchema(ExecutionDetail) })
  @ApiResponse({ status: 404, description: 'application/problem+json' })
  async get(@Param('executionId', new ZodValidationPipe(ExecutionIdParam)) executionId: string, @CurrentIdentity() caller: Identity) {
    await this.access.requireExecution(executionId, caller);
    return this.shown(await this.queries.get(executionId), caller);
  }

  @Get('executions')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Executions newest first, filtered; keyset pages' })
  @ApiQuery({ name: 'workflowId', required: false })
  @applyAll(listQueries())
  @ApiResponse({ status: 200, schema: openApiSchema(ExecutionPage) })
  async list(@Query(new ZodValidationPipe(ListExecutionsQuery)) query: ListExecutionsQuery, @CurrentIdentity() caller: Identity) {
    return this.shownPage(await this.queries.list(query, '/executions', listedTeam(caller)), caller);
  }

  @Get('workflows/:workflowId/executions')
  @RequireRole('viewer')
  @ApiOperation({ summary: "One workflow's executions newest first; keyset pages" })
  @applyAll(listQueries())
  @ApiResponse({ status: 200, schema: openApiSchema(ExecutionPage) })
  async listForWorkflow(
    @Param('workflowId', new ZodValidationPipe(UuidParam)) workflowId: string,
    @Query(new ZodValidationPipe(ListExecutionsQuery)) query: ListExecutionsQuery,
    @CurrentIdentity() caller: Identity,
  ) {
    await this.access.requireWorkflow(workflowId, caller);
    return this.shownPage(await this.queries.list({ ...query, workflowId }, `/workflows/${workflowId}/executions`, listedTeam(caller)), caller);
  }
}
