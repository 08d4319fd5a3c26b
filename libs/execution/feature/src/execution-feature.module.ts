import { Module } from '@nestjs/common';
import { ExecutionLogsModule } from './execution-logs.module.js';
import { ExecutionQueriesService } from './execution-queries.service.js';
import { ExecutionsController } from './executions.controller.js';

/** Executions over HTTP: queries today; running workflows arrives with the engine. */
@Module({
  imports: [ExecutionLogsModule],
  controllers: [ExecutionsController],
  providers: [ExecutionQueriesService],
  exports: [ExecutionLogsModule],
})
export class ExecutionFeatureModule {}
