import { Module } from '@nestjs/common';
import { ExecutionLogsModule } from './execution-logs.module.js';
import { ExecutionAccess } from './execution-access.service.js';
import { ExecutionQueriesService } from './execution-queries.service.js';
import { ExecutionReaperScheduler } from './execution-reaper.scheduler.js';
import { ExecutionsController } from './executions.controller.js';
import { ExecutionRunner } from './execution-runner.service.js';
import { ExecutionRunsController } from './execution-runs.controller.js';
import { OutboundHttpModule } from './outbound-http.module.js';
import { WorkflowDataAccessModule } from '@ussd/workflow-data-access';
import { WorkflowSecretsModule } from './workflow-secrets.module.js';

/** Executions over HTTP: run (sync/async), retry, cancel, and the logs. */
@Module({
  imports: [ExecutionLogsModule, OutboundHttpModule, WorkflowDataAccessModule, WorkflowSecretsModule],
  controllers: [ExecutionsController, ExecutionRunsController],
  providers: [ExecutionAccess, ExecutionQueriesService, ExecutionReaperScheduler, ExecutionRunner],
  exports: [ExecutionLogsModule, ExecutionRunner],
})
export class ExecutionFeatureModule {}
