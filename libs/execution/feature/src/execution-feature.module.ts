import { Module } from '@nestjs/common';
import { ExecutionLogsModule } from './execution-logs.module.js';
import { ExecutionQueriesService } from './execution-queries.service.js';
import { ExecutionReaperScheduler } from './execution-reaper.scheduler.js';
import { ExecutionsController } from './executions.controller.js';

/** Executions over HTTP: queries today; running workflows arrives with the engine. */
@Module({
  imports: [ExecutionLogsModule],
  controllers: [ExecutionsController],
  providers: [ExecutionQueriesService, ExecutionReaperScheduler],
  exports: [ExecutionLogsModule],
})
export class ExecutionFeatureModule {}
