import { Body, Controller, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { JsonOnlyGuard, openApiSchema, UuidParam, ZodValidationPipe } from '@ussd/platform-http';
import { ExecutionIdParam, RunExecutionBody, RunOutcome } from './execution.dto.js';
import { ExecutionRunner, type RunResult } from './execution-runner.service.js';
import { AuditLog, auditActor, CurrentIdentity, type Identity, RequireRole } from '@ussd/platform-auth';
import { ExecutionAccess } from './execution-access.service.js';

const problem = { description: 'application/problem+json' };

function send(reply: FastifyReply, result: RunResult) {
  void reply.header('location', `/executions/${result.outcome.executionId}`);
  void reply.status(result.accepted ? 202 : 200);
  return result.outcome;
}

@ApiTags('executions')
@UseGuards(JsonOnlyGuard)
@Controller()
export class ExecutionRunsController {
  constructor(
    private readonly runner: ExecutionRunner,
    private readonly access: ExecutionAccess,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  @Post('workflows/:workflowId/executions')
  @RequireRole('editor')
  @ApiOperation({ summary: 'Run the newest published version (or `version`): sync waits for the outcome, async answers 202' })
  @ApiBody({ schema: openApiSchema(RunExecutionBody) })
  @ApiResponse({ status: 200, description: 'finished or paused (sync)', schema: openApiSchema(RunOutcome) })
  @ApiResponse({ status: 202, description: 'accepted: queued (async) or still running past EXECUTION_SYNC_TIMEOUT_MS', schema: openApiSchema(RunOutcome) })
  @ApiResponse({ status: 404, ...problem })
  @ApiResponse({ status: 409, ...problem, description: 'no published version, a draft, deactivated, or no http trigger (a USSD-only workflow runs through /ussd/{gateway})' })
  @ApiResponse({ status: 429, ...problem })
  async run(
    @Param('workflowId', new ZodValidationPipe(UuidParam)) workflowId: string,
    @Body(new ZodValidationPipe(RunExecutionBody)) body: RunExecutionBody | undefined,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.access.requireWorkflow(workflowId, caller);
    return send(reply, await this.runner.run(workflowId, body ?? { mode: 'sync' }));
  }

  @Post('executions/:executionId/retry')
  @RequireRole('editor')
  @ApiOperation({ summary: 'Run again with the same payload and pinned version (async); linked to the original' })
  @ApiResponse({ status: 202, schema: openApiSchema(RunOutcome) })
  async retry(
    @Param('executionId', new ZodValidationPipe(ExecutionIdParam)) executionId: string,
    @CurrentIdentity() caller: Identity,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.access.requireExecution(executionId, caller);
    const result = await this.runner.retry(executionId);
    await this.audit.record({
      ...auditActor(caller),
      team: (await this.access.teamOf(result.outcome.workflowId)) ?? null,
      action: 'execution.retry',
      targetType: 'execution',
      targetId: executionId,
      details: { retryExecutionId: result.outcome.executionId, workflowId: result.outcome.workflowId },
    });
    return send(reply, result);
  }

  @Post('executions/:executionId/cancel')
  @RequireRole('editor')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a queued, running or paused execution' })
  @ApiResponse({ status: 200, schema: openApiSchema(RunOutcome) })
  @ApiResponse({ status: 409, description: 'already finished, or running in another process' })
  async cancel(@Param('executionId', new ZodValidationPipe(ExecutionIdParam)) executionId: string, @CurrentIdentity() caller: Identity) {
    await this.access.requireExecution(executionId, caller);
    const outcome = await this.runner.cancel(executionId);
    await this.audit.record({
      ...auditActor(caller),
      team: (await this.access.teamOf(outcome.workflowId)) ?? null,
      action: 'execution.cancel',
      targetType: 'execution',
      targetId: executionId,
      details: { workflowId: outcome.workflowId, status: outcome.status },
    });
    return outcome;
  }
}
